// Fencing of the master's grants through real agent processes: an assignment reached after its
// call's deadline is refused, a lease never runs past what the master granted (it counts from the
// grant's arrival, not from when a slow batch got to it), a promotion needs a higher epoch, and an
// empty replica set stops every shipper.

import type { ApplyAssignmentsResponse__Output, Assignment } from "@blockship/rpc";
import { deadlineIn, grpcCodeOf, reasonOf, unary } from "@blockship/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { flush, write } from "./support/io";
import {
  allocate,
  assign,
  assignAll,
  primaryAssignment,
  replicaAssignment,
  replicasInSync,
  volumeStatus,
} from "./support/master";
import { TcpProxy } from "./support/tcp-proxy";

const DEADLINE_EXCEEDED = 4;
const FAILED_PRECONDITION = 9;
/** A flush stuck on a stalled replica holds a demotion (and the volume's lock) this long. */
const BARRIER_TIMEOUT_MS = 3_000;
/** How long the test lets a just-issued flush reach the agent before it demotes the volume. */
const FLUSH_IN_FLIGHT_MS = 500;

const fleet = new AgentFleet();
let primary: AgentHandle;
let replica: AgentHandle;
let proxy: TcpProxy;
const block = (fill: number) => Buffer.alloc(4096, fill);
const args = ["--barrier-timeout-ms", String(BARRIER_TIMEOUT_MS)];

beforeAll(async () => {
  [primary, replica] = await Promise.all([
    fleet.start({ kind: "primary", serverId: "grant-p", args }),
    fleet.start({ kind: "replica", serverId: "grant-r", args }),
  ]);
  proxy = await TcpProxy.start(replica.address);
});

afterAll(async () => {
  await proxy.close();
  await fleet.cleanup();
});

/** The replica as the primary dials it: through the proxy. */
function proxiedReplica(): AgentHandle {
  return { serverId: replica.serverId, address: proxy.address } as AgentHandle;
}

/**
 * A sync_all pair at epoch 1 whose replica link is stalled while a flush waits for its barrier: a
 * demotion of this volume now holds the volume's lock until the flush fails (barrier timeout).
 */
async function volumeWithStuckFlush(volumeId: string): Promise<{ flushOutcome: Promise<string> }> {
  await allocate(primary, { volumeId, mode: "sync_all" });
  await allocate(replica, { volumeId, mode: "sync_all" });
  await assign(replica, replicaAssignment(volumeId, 1, primary));
  await assign(primary, primaryAssignment(volumeId, 1, [proxiedReplica()]));
  await waitFor(() => replicasInSync(primary, volumeId, 1), "replica in sync");
  await write(primary, volumeId, 0, block(1));
  proxy.setStalled(true);
  const flushOutcome = flush(primary, volumeId).then(
    () => "flushed",
    (err: unknown) => reasonOf(err) ?? String(err),
  );
  await new Promise((r) => setTimeout(r, FLUSH_IN_FLIGHT_MS));
  return { flushOutcome };
}

function applyWithDeadline(agent: AgentHandle, assignments: Assignment[], timeoutMs: number) {
  return unary<ApplyAssignmentsResponse__Output>((cb) =>
    agent.control.ApplyAssignments({ assignments }, deadlineIn(timeoutMs), cb),
  );
}

const stale = (volumeId: string, epoch: number): Assignment => ({
  volume_id: volumeId,
  epoch: String(epoch),
  role: "ROLE_STALE",
});

describe("fencing of grants", () => {
  it("an assignment the agent reaches only after its call's deadline is refused and changes nothing", async () => {
    showLogsOnFailure(fleet);
    const { flushOutcome } = await volumeWithStuckFlush("late");
    try {
      // Item 1 demotes (drains the stuck flush, seconds); item 2 is reached long after the deadline.
      const late = applyWithDeadline(
        primary,
        [stale("late", 2), replicaAssignment("late", 2, replica)],
        BARRIER_TIMEOUT_MS / 6,
      ).then(
        () => undefined,
        (err: unknown) => grpcCodeOf(err),
      );
      expect(await late).toBe(DEADLINE_EXCEEDED);
      expect(await flushOutcome).toBe("durability_barrier_failed");
      await waitFor(async () => (await volumeStatus(primary, "late")).role === "ROLE_STALE", "demoted");
      // This call queues behind item 2 on the volume's lock: a re-delivery of item 1 is a no-op
      // only if item 2 did not turn the copy into a REPLICA after the master had given up on it.
      const probe = await assign(primary, stale("late", 2));
      expect(probe.unchanged).toBe(true);
      expect((await volumeStatus(primary, "late")).role).toBe("ROLE_STALE");
      expect(primary.logs()).toContain("assignment refused: deadline passed");
    } finally {
      proxy.setStalled(false);
    }
  });

  it("a lease counts from the grant's arrival: a batch that reaches it late does not lengthen it", async () => {
    showLogsOnFailure(fleet);
    const ttlMs = 30_000;
    await allocate(primary, { volumeId: "leased" });
    const { flushOutcome } = await volumeWithStuckFlush("slow");
    try {
      const sentAtMs = Date.now();
      const [demoted, promoted] = (
        await applyWithDeadline(
          primary,
          [stale("slow", 2), primaryAssignment("leased", 1, [], { lease_ttl_ms: ttlMs })],
          60_000,
        )
      ).results;
      expect([demoted?.status?.code, promoted?.status?.code]).toEqual([0, 0]);
      expect(await flushOutcome).toBe("durability_barrier_failed");
      const status = await volumeStatus(primary, "leased");
      const seenAtMs = Date.now();
      // The lease may not end later than the master's send time + TTL (plus loopback transit);
      // counted from when the batch got to it, it would end a whole demotion drain later.
      const leaseEndMs = seenAtMs + status.lease_remaining_ms;
      expect(seenAtMs - sentAtMs).toBeGreaterThanOrEqual(BARRIER_TIMEOUT_MS - FLUSH_IN_FLIGHT_MS);
      expect(leaseEndMs - (sentAtMs + ttlMs)).toBeLessThan(BARRIER_TIMEOUT_MS / 3);
    } finally {
      proxy.setStalled(false);
    }
  });

  it("REPLICA → PRIMARY at the copy's own epoch is refused with epoch_stale; a higher epoch promotes", async () => {
    showLogsOnFailure(fleet);
    const volumeId = "promote";
    await allocate(replica, { volumeId });
    await assign(replica, replicaAssignment(volumeId, 4, primary));
    const [same] = await assignAll(replica, [primaryAssignment(volumeId, 4, [])]);
    expect([same?.status?.code, same?.status?.reason]).toEqual([FAILED_PRECONDITION, "epoch_stale"]);
    expect((await volumeStatus(replica, volumeId)).role).toBe("ROLE_REPLICA");
    // In one batch as well: the batch's own earlier item makes the copy a replica at 5.
    const batch = await assignAll(replica, [
      replicaAssignment(volumeId, 5, primary),
      primaryAssignment(volumeId, 5, []),
    ]);
    expect(batch.map((r) => r.status?.reason)).toEqual(["", "epoch_stale"]);
    await assign(replica, primaryAssignment(volumeId, 6, []));
    expect((await volumeStatus(replica, volumeId)).role).toBe("ROLE_PRIMARY");
    await write(replica, volumeId, 0, block(6), 6);
  });

  it("an empty replica set stops every shipper: a sync_all flush no longer waits for a dropped replica", async () => {
    showLogsOnFailure(fleet);
    const volumeId = "dropped";
    await allocate(primary, { volumeId, mode: "sync_all" });
    await allocate(replica, { volumeId, mode: "sync_all" });
    await assign(replica, replicaAssignment(volumeId, 1, primary));
    await assign(primary, primaryAssignment(volumeId, 1, [replica]));
    await waitFor(() => replicasInSync(primary, volumeId, 1), "replica in sync");
    await write(primary, volumeId, 0, block(1));
    await flush(primary, volumeId);
    // The master drops the replica (RF=1 now); the replica then dies.
    await assign(primary, primaryAssignment(volumeId, 1, []));
    await replica.kill("SIGKILL");
    await write(primary, volumeId, 1, block(2));
    const res = await flush(primary, volumeId);
    expect(Number(res.durable_lsn)).toBeGreaterThanOrEqual(2);
    expect((await volumeStatus(primary, volumeId)).replicas).toEqual([]);
    // The same set again (same epoch) starts a shipper again: it finds the copy behind a WAL
    // that moved on without it (RF=1 meanwhile) and brings it back (catch-up or resync).
    await replica.restart();
    await assign(replica, replicaAssignment(volumeId, 1, primary));
    await assign(primary, primaryAssignment(volumeId, 1, [replica]));
    await waitFor(() => replicasInSync(primary, volumeId, 1), "the re-added replica in sync again", 30_000);
    await write(primary, volumeId, 2, block(3));
    expect(Number((await flush(primary, volumeId)).durable_lsn)).toBeGreaterThanOrEqual(3);
  });
});
