// Fencing through real agent processes: stale epochs, lapsed leases, writes on a replica, and an
// old primary after failover can acknowledge neither a write nor a flush.
import { reasonOf } from "@blockship/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { flush, read, trim, write } from "./support/io";
import {
  allocate,
  assign,
  assignAll,
  primaryAssignment,
  renew,
  replicaAssignment,
  replicasInSync,
  volumeStatus,
} from "./support/master";

const fleet = new AgentFleet();
let primary: AgentHandle;
let replica: AgentHandle;
const SHORT_LEASE_MS = 400;
const block = (fill: number) => Buffer.alloc(4096, fill);

beforeAll(async () => {
  [primary, replica] = await Promise.all([
    fleet.start({ kind: "primary", serverId: "fence-p", args: ["--barrier-timeout-ms", "1000"] }),
    fleet.start({ kind: "replica", serverId: "fence-r", args: ["--barrier-timeout-ms", "1000"] }),
  ]);
});

afterAll(async () => {
  await fleet.cleanup();
});

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => "acknowledged",
    (err: unknown) => reasonOf(err) ?? String(err),
  );

async function leaseLapsed(agent: AgentHandle, volumeId: string): Promise<boolean> {
  return !(await volumeStatus(agent, volumeId)).has_lease;
}

describe("fencing", () => {
  it("stale epochs: writes, trims and flushes with an older expected epoch fail; an older assignment regresses", async () => {
    showLogsOnFailure(fleet);
    await allocate(primary, { volumeId: "stale" });
    await assign(primary, primaryAssignment("stale", 1, []));
    await write(primary, "stale", 0, block(1), 1);
    await assign(primary, primaryAssignment("stale", 2, []));
    expect(await rejection(write(primary, "stale", 0, block(2), 1))).toBe("epoch_stale");
    expect(await rejection(flush(primary, "stale", 1))).toBe("epoch_stale");
    expect(await rejection(write(primary, "stale", 0, block(2), 3))).toBe("epoch_stale");
    const [regressed] = await assignAll(primary, [primaryAssignment("stale", 1, [])]);
    expect(regressed?.status).toMatchObject({ code: 9, reason: "epoch_regression" });
    const renewed = await renew(primary, "stale", 1, 30_000);
    expect(renewed.results[0]?.status?.reason).toBe("epoch_stale");
    // The volume still serves its current epoch, and the rejected write left no trace.
    expect((await volumeStatus(primary, "stale")).epoch).toBe("2");
    await flush(primary, "stale", 2);
    expect((await read(primary, "stale", 0, 4096)).equals(block(1))).toBe(true);
  });

  it("an expired lease rejects writes, trims and flushes until the master renews it", async () => {
    showLogsOnFailure(fleet);
    await allocate(primary, { volumeId: "lease" });
    await assign(primary, primaryAssignment("lease", 1, [], { lease_ttl_ms: SHORT_LEASE_MS }));
    await waitFor(() => leaseLapsed(primary, "lease"), "lease lapsed");
    const status = await volumeStatus(primary, "lease");
    expect(status).toMatchObject({
      writable: false,
      write_block_reason: "lease_expired",
      lease_remaining_ms: 0,
    });
    expect(await rejection(write(primary, "lease", 0, block(1)))).toBe("lease_expired");
    expect(await rejection(trim(primary, "lease", 0, 4096))).toBe("lease_expired");
    expect(await rejection(flush(primary, "lease"))).toBe("lease_expired");
    expect((await renew(primary, "lease", 1, 30_000)).results[0]?.status?.code).toBe(0);
    await write(primary, "lease", 0, block(3));
    await flush(primary, "lease");
    expect((await read(primary, "lease", 0, 4096)).equals(block(3))).toBe(true);
  });

  it("a replica refuses client writes, trims and flushes with not_primary", async () => {
    showLogsOnFailure(fleet);
    await allocate(replica, { volumeId: "rep" });
    await assign(replica, replicaAssignment("rep", 1, primary));
    expect(await rejection(write(replica, "rep", 0, block(1)))).toBe("not_primary");
    expect(await rejection(trim(replica, "rep", 0, 4096))).toBe("not_primary");
    expect(await rejection(flush(replica, "rep"))).toBe("not_primary");
  });

  it("Read passes the same fence: a replica, a lapsed and a demoted primary refuse it unless allow_copy_read", async () => {
    showLogsOnFailure(fleet);
    const volumeId = "rd";
    await allocate(primary, { volumeId });
    await allocate(replica, { volumeId });
    await assign(replica, replicaAssignment(volumeId, 1, primary));
    await assign(primary, primaryAssignment(volumeId, 1, [replica], { lease_ttl_ms: SHORT_LEASE_MS }));
    await write(primary, volumeId, 0, block(7));
    await flush(primary, volumeId);
    expect((await read(primary, volumeId, 0, 4096)).equals(block(7))).toBe(true);
    const copy = { allowCopyRead: true };
    expect(await rejection(read(replica, volumeId, 0, 4096))).toBe("not_primary");
    await waitFor(async () => (await read(replica, volumeId, 0, 4096, copy)).equals(block(7)), "shipped");
    await waitFor(() => leaseLapsed(primary, volumeId), "lease lapsed");
    expect(await rejection(read(primary, volumeId, 0, 4096))).toBe("lease_expired");
    expect((await read(primary, volumeId, 0, 4096, copy)).equals(block(7))).toBe(true);
    await assign(primary, { volume_id: volumeId, epoch: "2", role: "ROLE_STALE" });
    expect(await rejection(read(primary, volumeId, 0, 4096))).toBe("not_primary");
    expect((await read(primary, volumeId, 0, 4096, copy)).equals(block(7))).toBe(true);
  });

  it("after failover (replica promoted at epoch+1) the old primary can acknowledge neither a write nor a flush", async () => {
    showLogsOnFailure(fleet);
    const volumeId = "fo";
    await allocate(primary, { volumeId, mode: "sync_all" });
    await allocate(replica, { volumeId, mode: "sync_all" });
    await assign(replica, replicaAssignment(volumeId, 1, primary));
    await assign(primary, primaryAssignment(volumeId, 1, [replica], { lease_ttl_ms: 1_500 }));
    await waitFor(() => replicasInSync(primary, volumeId, 1), "replica in sync");
    await write(primary, volumeId, 10, block(0xaa));
    await flush(primary, volumeId);

    // The master loses the old primary, promotes the replica at epoch 2 (the old primary is
    // still running and has not heard of it).
    await assign(replica, primaryAssignment(volumeId, 2, [], { lease_ttl_ms: 60_000 }));
    // While its lease is still live the old primary may append, but no flush can be confirmed:
    // the promoted copy refuses epoch-1 shipments.
    await write(primary, volumeId, 11, block(0xbb)).catch(() => undefined);
    const whileLeased = await rejection(flush(primary, volumeId));
    expect(["durability_barrier_failed", "lease_expired"]).toContain(whileLeased);
    // Once the lease lapses (no renewals: the master renews only the new primary), nothing is acknowledged.
    await waitFor(() => leaseLapsed(primary, volumeId), "old primary's lease lapsed");
    expect(await rejection(write(primary, volumeId, 12, block(0xcc)))).toBe("lease_expired");
    expect(await rejection(flush(primary, volumeId))).toBe("lease_expired");
    // An old primary cannot renew itself at its old epoch once the master demotes it.
    await assign(primary, { volume_id: volumeId, epoch: "2", role: "ROLE_STALE" });
    expect(await rejection(write(primary, volumeId, 12, block(0xcc)))).toBe("not_primary");
    expect(await rejection(flush(primary, volumeId))).toBe("not_primary");
    expect((await renew(primary, volumeId, 1, 30_000)).results[0]?.status?.code).not.toBe(0);

    // The new primary has the flushed data and accepts I/O at epoch 2 only.
    expect((await read(replica, volumeId, 10, 4096)).equals(block(0xaa))).toBe(true);
    expect(await rejection(write(replica, volumeId, 12, block(1), 1))).toBe("epoch_stale");
    await write(replica, volumeId, 12, block(0xdd), 2);
    await flush(replica, volumeId, 2);
  });
});
