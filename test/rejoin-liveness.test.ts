// A copy that comes back after a failover is always taken care of by the new primary (real agent
// processes, SIGKILL): the WAL catches it up, or — when no catch-up can bring it back (it holds
// records beyond the new primary's head, or its gap was already recycled from the new primary's
// WAL) — a changed-block resync does. Found by the fault-schedule checker (seed 401): the recovery
// session's handshake ended with a verdict the engine alone knew, the shipper stayed gated as
// "awaiting_catchup_session" and the copy stayed DISCONNECTED forever. Throughout, the copy is never
// counted before it holds the new primary's history: a sync_all flush that succeeds proves it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { BLOCK_BYTES, flush, read, textBlock, write } from "./support/io";
import {
  allocate,
  assign,
  MiB,
  primaryAssignment,
  replicaAssignment,
  replicasInSync,
  volumeStatus,
} from "./support/master";
import { flushNeverLies, untilResynced } from "./support/recovery";

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
const ARGS = ["--barrier-timeout-ms", "1000", "--metrics-listen", "127.0.0.1:0"];

beforeAll(async () => {
  [a, b, c] = await Promise.all([
    fleet.start({ kind: "primary", serverId: "rj-a", args: ARGS }),
    fleet.start({ kind: "replica", serverId: "rj-b", args: ARGS }),
    fleet.start({ kind: "replica", serverId: "rj-c", args: ARGS }),
  ]);
});

afterAll(async () => {
  await fleet.cleanup();
});

function chunk(text: string): Buffer {
  const data = Buffer.alloc(CHUNK_BLOCKS * BLOCK_BYTES);
  data.write(text, "ascii");
  return data;
}

describe("a copy that rejoins after a failover is never left waiting (real agents)", () => {
  it("an old primary with an unflushed tail beyond the new primary's head is resynced, never counted before", async () => {
    showLogsOnFailure(fleet);
    const volumeId = "rj-ahead";
    for (const x of [a, b])
      await allocate(x, { volumeId, sizeBytes: SIZE_BYTES, walSizeBytes: WAL_BYTES, mode: "sync_all" });
    await assign(b, replicaAssignment(volumeId, 1, a));
    await assign(a, primaryAssignment(volumeId, 1, [b]));
    await waitFor(() => replicasInSync(a, volumeId, 1), "b in sync at epoch 1");
    await write(a, volumeId, 0, textBlock("BASE"));
    await flush(a, volumeId); // LSN 1 on both copies
    await b.kill("SIGKILL");
    await write(a, volumeId, 1, textBlock("OLD")); // LSN 2 (epoch 1) on a only, acknowledged, not flushed
    await a.kill("SIGKILL");

    // b becomes primary at epoch 2 and writes nothing: a's LSN 2 is beyond b's head (1).
    await b.restart();
    await assign(b, primaryAssignment(volumeId, 2, [a]));
    await a.restart();
    await assign(a, replicaAssignment(volumeId, 2, b));
    expect((await volumeStatus(a, volumeId)).head_lsn).toBe("2");
    expect((await volumeStatus(b, volumeId)).head_lsn).toBe("1");

    // No WAL catch-up can bring a back (b never had its LSN 2): a resync replaces the tail.
    const holdsB = async () => {
      const lba1 = await read(a, volumeId, 1, BLOCK_BYTES, { allowCopyRead: true });
      expect(lba1.equals(Buffer.alloc(BLOCK_BYTES)), "a was counted holding the foreign tail").toBe(true);
    };
    await untilResynced(b, volumeId, a, { whileWaiting: flushNeverLies(b, volumeId, holdsB) });
    await holdsB();
    await write(b, volumeId, 2, textBlock("NEW"));
    expect(Number((await flush(b, volumeId)).durable_lsn)).toBeGreaterThanOrEqual(2);
    const lba2 = await read(a, volumeId, 2, BLOCK_BYTES, { allowCopyRead: true });
    expect(lba2.subarray(0, 3).toString("ascii")).toBe("NEW");
  });

  it("an old primary whose gap the new primary already recycled is resynced (after volume_not_found)", async () => {
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
    await write(a, volumeId, 0, textBlock("BASE"));
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

    const holdsC = async () => {
      for (let i = 1; i <= CHUNKS; i++) {
        const data = await read(a, volumeId, i * CHUNK_BLOCKS, BLOCK_BYTES, { allowCopyRead: true });
        expect(data.subarray(0, `E2-${i}`.length).toString("ascii"), "a was counted missing LSNs").toBe(
          `E2-${i}`,
        );
      }
    };
    await untilResynced(c, volumeId, a, { whileWaiting: flushNeverLies(c, volumeId, holdsC) });
    await holdsC();
  });
});
