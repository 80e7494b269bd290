// A copy whose history diverged at the same head LSN (issue #13, bug 1) with real agent processes:
// the old primary's unflushed record and the new primary's record share LSN 2. The handshake must
// compare the records, not just the numbers: the copy is divergent, never in sync, never counted
// for a sync_all flush, and a rebuild brings it back with the new primary's data.
import { reasonOf } from "@blockship/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { BLOCK_BYTES, flush, read, write } from "./support/io";
import {
  allocate,
  assign,
  MiB,
  primaryAssignment,
  protocolState,
  replicaAssignment,
  replicasInSync,
  volumeStatus,
} from "./support/master";

const fleet = new AgentFleet();
let a: AgentHandle;
let b: AgentHandle;
const SIZE_BYTES = 16 * MiB;
const WAL_BYTES = 16 * MiB;

beforeAll(async () => {
  [a, b] = await Promise.all([
    fleet.start({ kind: "primary", serverId: "dv-a", args: ["--barrier-timeout-ms", "1000"] }),
    fleet.start({ kind: "replica", serverId: "dv-b", args: ["--barrier-timeout-ms", "1000"] }),
  ]);
});

afterAll(async () => {
  await fleet.cleanup();
});

function block(text: string): Buffer {
  const data = Buffer.alloc(BLOCK_BYTES);
  data.write(text, "ascii");
  return data;
}

describe("divergent history at equal head LSNs (real agents)", () => {
  it("the rejoining old primary is never in sync, a sync_all flush fails, a rebuild repairs it", async () => {
    showLogsOnFailure(fleet);
    const volumeId = "dv-same-head";
    for (const x of [a, b])
      await allocate(x, { volumeId, sizeBytes: SIZE_BYTES, walSizeBytes: WAL_BYTES, mode: "sync_all" });
    await assign(b, replicaAssignment(volumeId, 1, a));
    await assign(a, primaryAssignment(volumeId, 1, [b]));
    await waitFor(() => replicasInSync(a, volumeId, 1), "b in sync at epoch 1");
    await write(a, volumeId, 0, block("BASE"));
    await flush(a, volumeId); // LSN 1 on both copies
    await b.kill("SIGKILL");
    await write(a, volumeId, 1, block("OLD")); // LSN 2 (epoch 1) on a only, acknowledged, not flushed
    await a.kill("SIGKILL");

    // b becomes primary at epoch 2 and writes its own LSN 2.
    await b.restart();
    await assign(b, primaryAssignment(volumeId, 2, [a]));
    await write(b, volumeId, 1, block("NEW"));
    await a.restart();
    await assign(a, replicaAssignment(volumeId, 2, b));
    expect((await volumeStatus(a, volumeId)).head_lsn).toBe("2");
    expect((await volumeStatus(b, volumeId)).head_lsn).toBe("2");

    // Equal head LSNs, different records: needs_rebuild naming the LSN, never IN_SYNC.
    let sawInSync = false;
    await waitFor(async () => {
      const st = (await volumeStatus(b, volumeId)).replicas[0];
      if (st?.sender_state === "SENDER_STATE_IN_SYNC") sawInSync = true;
      return st?.sender_state === "SENDER_STATE_NEEDS_REBUILD" || sawInSync;
    }, "a classified");
    expect(sawInSync, "the divergent copy was reported in sync").toBe(false);
    const replica = (await volumeStatus(b, volumeId)).replicas[0];
    expect(replica?.reason).toContain("needs_rebuild: divergent_history at LSN 2");
    expect(replica?.durable_lsn).toBe("0");
    const proto = (await protocolState(b, volumeId)).replicas[0];
    expect(proto?.sender_state).toBe("SENDER_STATE_NEEDS_REBUILD");
    expect(proto?.reason).toContain("divergent_history at LSN 2");

    // The divergent copy is not counted: a sync_all flush fails instead of answering durable_lsn 2.
    expect(await flush(b, volumeId).catch(reasonOf)).toBe("durability_barrier_failed");

    // A rebuild brings the copy back with the new primary's history.
    await assign(a, {
      volume_id: volumeId,
      epoch: "2",
      role: "ROLE_REBUILDING",
      primary_server_id: b.serverId,
      primary_address: b.address,
    });
    await waitFor(async () => (await volumeStatus(a, volumeId)).role === "ROLE_REPLICA", "a rebuilt", 60_000);
    await waitFor(() => replicasInSync(b, volumeId, 1), "a in sync after the rebuild", 30_000);
    const res = await flush(b, volumeId);
    expect(Number(res.durable_lsn)).toBeGreaterThanOrEqual(2);
    expect(
      (await read(a, volumeId, 1, BLOCK_BYTES, { allowCopyRead: true })).subarray(0, 3).toString("ascii"),
    ).toBe("NEW");
    expect(
      (await read(a, volumeId, 0, BLOCK_BYTES, { allowCopyRead: true })).subarray(0, 4).toString("ascii"),
    ).toBe("BASE");
  });
});
