// Changed-block resync end to end (real agent processes, SIGKILL): a copy the WAL cannot bring back
// (its gap was recycled, or it holds a tail the new primary never had) is repaired by sending it
// the blocks that changed since the fork point, never by a full rebuild. Meanwhile the phase gate
// keeps the live tail from it and GetProtocolState names the session; afterwards every copy holds
// exactly what was flushed, and the copy's own tail is gone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { BLOCK_BYTES, flush, prng, read, textBlock, VolumeModel, write } from "./support/io";
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
import { expectCopiesHold, untilResynced } from "./support/recovery";

const fleet = new AgentFleet();
let a: AgentHandle;
let b: AgentHandle;
const SIZE_BYTES = 16 * MiB;
/** A WAL that the writes below overflow several times. */
const SMALL_WAL_BYTES = 2 * MiB;
const METRICS = ["--metrics-listen", "127.0.0.1:0", "--barrier-timeout-ms", "1000"];

beforeAll(async () => {
  [a, b] = await Promise.all([
    fleet.start({ kind: "primary", serverId: "rs-a", args: METRICS }),
    fleet.start({ kind: "replica", serverId: "rs-b", args: METRICS }),
  ]);
});

afterAll(async () => {
  await fleet.cleanup();
});

describe("changed-block resync (real agents)", () => {
  it("a replica away while more than the WAL is written is resynced, not rebuilt", async () => {
    showLogsOnFailure(fleet);
    const volumeId = "rs-away";
    for (const x of [a, b])
      await allocate(x, {
        volumeId,
        sizeBytes: SIZE_BYTES,
        walSizeBytes: SMALL_WAL_BYTES,
        mode: "best_effort",
      });
    await assign(b, replicaAssignment(volumeId, 1, a));
    await assign(a, primaryAssignment(volumeId, 1, [b]));
    await waitFor(() => replicasInSync(a, volumeId, 1), "b in sync");
    const model = new VolumeModel(volumeId, SIZE_BYTES);
    const rand = prng(151);
    await model.randomOps(a, 20, rand);
    await model.flush(a);
    await b.kill("SIGKILL");
    // Three WALs' worth of writes while b is away: its gap is long recycled.
    const chunk = 32;
    for (let i = 0; i < 48; i++) {
      const lba = (i * chunk * 7) % (SIZE_BYTES / BLOCK_BYTES - chunk);
      const data = Buffer.alloc(chunk * BLOCK_BYTES, i + 1);
      await write(a, volumeId, lba, data);
      data.copy(model.acked, lba * BLOCK_BYTES);
      if (i % 8 === 7) await model.flush(a);
    }
    await model.flush(a);
    await b.restart();
    await assign(b, replicaAssignment(volumeId, 1, a));
    const reasons = await untilResynced(a, volumeId, b);
    expect([...reasons].some((r) => r.startsWith("active_resync_session"))).toBe(true);
    await expectCopiesHold(a, [b], model);
  });

  it("an old primary with a tail the new primary never had is resynced: its tail is replaced by the new history", async () => {
    showLogsOnFailure(fleet);
    const volumeId = "rs-ahead";
    for (const x of [a, b]) {
      if (!x.running) await x.restart();
      await allocate(x, { volumeId, sizeBytes: SIZE_BYTES, walSizeBytes: 16 * MiB, mode: "sync_all" });
    }
    await assign(b, replicaAssignment(volumeId, 1, a));
    await assign(a, primaryAssignment(volumeId, 1, [b]));
    await waitFor(() => replicasInSync(a, volumeId, 1), "b in sync at epoch 1");
    await write(a, volumeId, 0, textBlock("BASE"));
    await flush(a, volumeId); // LSN 1 on both copies
    await b.kill("SIGKILL");
    await write(a, volumeId, 1, textBlock("OLD")); // epoch 1, on a only: acknowledged, never flushed
    await write(a, volumeId, 5, textBlock("OLD5"));
    await a.kill("SIGKILL");

    // b becomes primary at epoch 2 and writes its own history over the fork point.
    await b.restart();
    await assign(b, primaryAssignment(volumeId, 2, [a]));
    await write(b, volumeId, 2, textBlock("NEW"));
    await a.restart();
    await assign(a, replicaAssignment(volumeId, 2, b));
    await untilResynced(b, volumeId, a);
    expect(Number((await flush(b, volumeId)).durable_lsn)).toBeGreaterThanOrEqual(2);
    const at = (lba: number) => read(a, volumeId, lba, BLOCK_BYTES, { allowCopyRead: true });
    expect((await at(0)).subarray(0, 4).toString("ascii")).toBe("BASE");
    expect((await at(1)).equals(Buffer.alloc(BLOCK_BYTES)), "a still holds its own tail at LBA 1").toBe(true);
    expect((await at(5)).equals(Buffer.alloc(BLOCK_BYTES)), "a still holds its own tail at LBA 5").toBe(true);
    expect((await at(2)).subarray(0, 3).toString("ascii")).toBe("NEW");
  });
});
