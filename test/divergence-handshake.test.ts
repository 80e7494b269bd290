// A copy whose history diverged at the same head LSN (issue #13, bug 1) with real agent processes:
// the old primary's unflushed record and the new primary's record share LSN 2. The handshake must
// compare the records, not just the numbers: the copy is divergent, never in sync and never counted
// for a sync_all flush until a changed-block resync replaced its record with the new primary's data.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { BLOCK_BYTES, flush, read, textBlock, write } from "./support/io";
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
import { flushNeverLies, untilResynced } from "./support/recovery";

const fleet = new AgentFleet();
let a: AgentHandle;
let b: AgentHandle;
const SIZE_BYTES = 16 * MiB;
const WAL_BYTES = 16 * MiB;

beforeAll(async () => {
  [a, b] = await Promise.all([
    fleet.start({
      kind: "primary",
      serverId: "dv-a",
      args: ["--barrier-timeout-ms", "1000", "--metrics-listen", "127.0.0.1:0"],
    }),
    fleet.start({
      kind: "replica",
      serverId: "dv-b",
      args: ["--barrier-timeout-ms", "1000", "--metrics-listen", "127.0.0.1:0"],
    }),
  ]);
});

afterAll(async () => {
  await fleet.cleanup();
});

describe("divergent history at equal head LSNs (real agents)", () => {
  it("the rejoining old primary is never counted while divergent; a resync repairs it", async () => {
    showLogsOnFailure(fleet);
    const volumeId = "dv-same-head";
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

    // b becomes primary at epoch 2 and writes its own LSN 2.
    await b.restart();
    await assign(b, primaryAssignment(volumeId, 2, [a]));
    await write(b, volumeId, 1, textBlock("NEW"));
    await a.restart();
    await assign(a, replicaAssignment(volumeId, 2, b));
    expect((await volumeStatus(a, volumeId)).head_lsn).toBe("2");
    expect((await volumeStatus(b, volumeId)).head_lsn).toBe("2");

    // Equal head LSNs, different records: a resync from the fork (LSN 1), never counted before.
    const holdsNew = async () => {
      const lba1 = await read(a, volumeId, 1, BLOCK_BYTES, { allowCopyRead: true });
      expect(lba1.subarray(0, 3).toString("ascii"), "a was counted holding its divergent LSN 2").toBe("NEW");
    };
    const reasons = await untilResynced(b, volumeId, a, {
      whileWaiting: flushNeverLies(b, volumeId, holdsNew),
    });
    for (const reason of reasons) expect(reason).not.toMatch(/^live_eligible|in_sync/);
    const res = await flush(b, volumeId);
    expect(Number(res.durable_lsn)).toBeGreaterThanOrEqual(2);
    await holdsNew();
    expect(
      (await read(a, volumeId, 0, BLOCK_BYTES, { allowCopyRead: true })).subarray(0, 4).toString("ascii"),
    ).toBe("BASE");
  });
});
