// A copy that comes back after a failover is always taken care of by the new primary (real agent
// processes, SIGKILL): either it is caught up to in_sync, or — when no catch-up can bring it back —
// the primary reports it NEEDS_REBUILD with a reason, so the master can assign a rebuild. Found by the
// fault-schedule checker (seed 401): the recovery session's handshake ended with a verdict the engine
// alone knew (the copy holds records beyond the new primary's head; or its gap was already recycled
// from the new primary's WAL), the shipper stayed gated as "awaiting_catchup_session" and the copy
// stayed DISCONNECTED forever.
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
let c: AgentHandle;
const SIZE_BYTES = 16 * MiB;
const WAL_BYTES = 16 * MiB;
/** A WAL that epoch 2's writes overflow (CHUNKS × CHUNK_BLOCKS blocks are 1.5 × its size). */
const SMALL_WAL_BYTES = 2 * MiB;
const CHUNK_BLOCKS = 32;
const CHUNKS = 24;
/** Bound on how long the new primary may take to classify the rejoined copy. */
const CLASSIFY_TIMEOUT_MS = 20_000;

beforeAll(async () => {
  [a, b, c] = await Promise.all([
    fleet.start({ kind: "primary", serverId: "rj-a", args: ["--barrier-timeout-ms", "1000"] }),
    fleet.start({ kind: "replica", serverId: "rj-b", args: ["--barrier-timeout-ms", "1000"] }),
    fleet.start({ kind: "replica", serverId: "rj-c", args: ["--barrier-timeout-ms", "1000"] }),
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

function chunk(text: string): Buffer {
  const data = Buffer.alloc(CHUNK_BLOCKS * BLOCK_BYTES);
  data.write(text, "ascii");
  return data;
}

async function rebuild(copy: AgentHandle, primary: AgentHandle, volumeId: string, epoch: number) {
  await assign(copy, {
    volume_id: volumeId,
    epoch: String(epoch),
    role: "ROLE_REBUILDING",
    primary_server_id: primary.serverId,
    primary_address: primary.address,
  });
  await waitFor(async () => (await volumeStatus(copy, volumeId)).role === "ROLE_REPLICA", "rebuilt", 60_000);
}

describe("a copy that rejoins after a failover is never left waiting (real agents)", () => {
  it("an old primary with an unflushed tail beyond the new primary's head is reported NEEDS_REBUILD, then rebuilt", async () => {
    showLogsOnFailure(fleet);
    const volumeId = "rj-ahead";
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

    // b becomes primary at epoch 2 and writes nothing: a's LSN 2 is beyond b's head (1).
    await b.restart();
    await assign(b, primaryAssignment(volumeId, 2, [a]));
    await a.restart();
    await assign(a, replicaAssignment(volumeId, 2, b));
    expect((await volumeStatus(a, volumeId)).head_lsn).toBe("2");
    expect((await volumeStatus(b, volumeId)).head_lsn).toBe("1");

    // No catch-up can bring a back (truncation is not supported): b must say so, never in sync.
    let sawInSync = false;
    await waitFor(
      async () => {
        const st = (await volumeStatus(b, volumeId)).replicas[0];
        if (st?.sender_state === "SENDER_STATE_IN_SYNC") sawInSync = true;
        return st?.sender_state === "SENDER_STATE_NEEDS_REBUILD" || sawInSync;
      },
      "a reported NEEDS_REBUILD",
      CLASSIFY_TIMEOUT_MS,
    );
    expect(sawInSync, "the copy with a foreign tail was reported in sync").toBe(false);
    const replica = (await volumeStatus(b, volumeId)).replicas[0];
    expect(replica?.reason).toContain("needs_rebuild: replica_ahead");
    expect(replica?.live_eligible).toBe(false);
    const proto = (await protocolState(b, volumeId)).replicas[0];
    expect(proto?.sender_state).toBe("SENDER_STATE_NEEDS_REBUILD");
    expect(proto?.reason).toContain("replica_ahead");
    // Not counted: a write and a sync_all flush on b fail rather than count a.
    await write(b, volumeId, 2, block("NEW"));
    expect(await flush(b, volumeId).catch(reasonOf)).toBe("durability_barrier_failed");

    // The master's answer (a rebuild) brings a back in sync with b's history, not its own tail.
    await rebuild(a, b, volumeId, 2);
    await waitFor(() => replicasInSync(b, volumeId, 1), "a in sync after the rebuild", 30_000);
    expect(Number((await flush(b, volumeId)).durable_lsn)).toBeGreaterThanOrEqual(2);
    const lba1 = await read(a, volumeId, 1, BLOCK_BYTES, { allowCopyRead: true });
    expect(lba1.equals(Buffer.alloc(BLOCK_BYTES)), "a still serves the foreign tail").toBe(true);
    const lba2 = await read(a, volumeId, 2, BLOCK_BYTES, { allowCopyRead: true });
    expect(lba2.subarray(0, 3).toString("ascii")).toBe("NEW");
  });

  it("an old primary whose gap the new primary already recycled is reported NEEDS_REBUILD (after volume_not_found), then rebuilt", async () => {
    showLogsOnFailure(fleet);
    const volumeId = "rj-recycled";
    for (const x of [a, b, c]) {
      if (!x.running) await x.restart();
      await allocate(x, { volumeId, sizeBytes: SIZE_BYTES, walSizeBytes: SMALL_WAL_BYTES, mode: "sync_all" });
    }
    await assign(b, replicaAssignment(volumeId, 1, a));
    await assign(c, replicaAssignment(volumeId, 1, a));
    await assign(a, primaryAssignment(volumeId, 1, [b, c]));
    await waitFor(() => replicasInSync(a, volumeId, 2), "b and c in sync at epoch 1");
    await write(a, volumeId, 0, block("BASE"));
    await flush(a, volumeId); // LSN 1 on every copy
    await a.kill("SIGKILL");

    // b takes over at epoch 2 (a is down) and writes more than c's WAL holds: c receives it all,
    // so its WAL no longer holds what a lacks.
    await assign(b, primaryAssignment(volumeId, 2, [a, c]));
    await assign(c, replicaAssignment(volumeId, 2, b));
    for (let i = 1; i <= CHUNKS; i++) await write(b, volumeId, i * CHUNK_BLOCKS, chunk(`E2-${i}`));
    await waitFor(
      async () => (await volumeStatus(c, volumeId)).head_lsn === (await volumeStatus(b, volumeId)).head_lsn,
      "c received epoch 2's writes",
      30_000,
    );
    await b.kill("SIGKILL");

    // c takes over at epoch 3. a comes back; its assignment arrives late, so c's first handshakes
    // meet volume_not_found and must be retried.
    await assign(c, primaryAssignment(volumeId, 3, [a, b]));
    await a.restart();
    await waitFor(() => c.logs().includes("volume_not_found"), "c's handshake met volume_not_found", 20_000);
    await assign(a, replicaAssignment(volumeId, 3, c));

    const replicaA = async () =>
      (await volumeStatus(c, volumeId)).replicas.find((r) => r.server_id === a.serverId);
    let sawInSync = false;
    await waitFor(
      async () => {
        const st = await replicaA();
        if (st?.sender_state === "SENDER_STATE_IN_SYNC") sawInSync = true;
        return st?.sender_state === "SENDER_STATE_NEEDS_REBUILD" || sawInSync;
      },
      "a reported NEEDS_REBUILD",
      CLASSIFY_TIMEOUT_MS,
    );
    expect(sawInSync, "a copy missing recycled LSNs was reported in sync").toBe(false);
    expect((await replicaA())?.reason).toContain("needs_rebuild: gap_beyond_retention");

    await rebuild(a, c, volumeId, 3);
    await waitFor(
      async () => (await replicaA())?.sender_state === "SENDER_STATE_IN_SYNC",
      "a in sync after the rebuild",
      30_000,
    );
    for (let i = 1; i <= CHUNKS; i++) {
      const data = await read(a, volumeId, i * CHUNK_BLOCKS, BLOCK_BYTES, { allowCopyRead: true });
      expect(data.subarray(0, `E2-${i}`.length).toString("ascii")).toBe(`E2-${i}`);
    }
  });
});
