// Rebuild end to end with real agent processes: a replica stayed away while more than the WAL
// was written (the primary stays writable), the master assigns it ROLE_REBUILDING, it pulls base image + WAL tail over Rebuild.StreamBase while writes go on,
// commits, becomes REPLICA by itself and the primary's shipper brings it in sync. Through a TCP
// proxy the test cuts the transfer halfway (it resumes from its offset, not from zero), a rate
// limit bounds its speed from below, and a SIGKILL mid-rebuild leaves the old copy intact (the next
// pull continues the image the killed one saved a resume point for).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { firstDifference, prng, readAll, VolumeModel } from "./support/io";
import {
  allocate,
  assign,
  MiB,
  primaryAssignment,
  replicaAssignment,
  replicasInSync,
  volumeStatus,
} from "./support/master";
import { expectCopiesHold } from "./support/recovery";
import { TcpProxy } from "./support/tcp-proxy";

const fleet = new AgentFleet();
let primary: AgentHandle;
let replica: AgentHandle;
const SIZE_BYTES = 32 * MiB;
/** A small WAL: a few MiB written while the replica is away exceed the retention budget. */
const WAL_BYTES = 8 * MiB;
const EPOCH = 1;

beforeAll(async () => {
  [primary, replica] = await Promise.all([
    fleet.start({ kind: "primary", serverId: "rb-p" }),
    fleet.start({ kind: "replica", serverId: "rb-r" }),
  ]);
});

afterAll(async () => {
  await fleet.cleanup();
});

function rebuildingAssignment(volumeId: string, primaryAddress: string, rateBytesPerSecond = 0) {
  return {
    volume_id: volumeId,
    epoch: String(EPOCH),
    role: "ROLE_REBUILDING" as const,
    primary_server_id: primary.serverId,
    primary_address: primaryAddress,
    rebuild_rate_limit_bytes_per_second: String(rateBytesPerSecond),
  };
}

/** A replicated pair, in sync, with some flushed data on both copies. */
async function pairWithData(volumeId: string, seed: number): Promise<VolumeModel> {
  for (const a of [primary, replica])
    await allocate(a, { volumeId, sizeBytes: SIZE_BYTES, walSizeBytes: WAL_BYTES });
  await assign(replica, replicaAssignment(volumeId, EPOCH, primary));
  await assign(primary, primaryAssignment(volumeId, EPOCH, [replica]));
  await waitFor(() => replicasInSync(primary, volumeId, 1), `${volumeId}: in sync`);
  const model = new VolumeModel(volumeId, SIZE_BYTES);
  await model.randomOps(primary, 20, prng(seed));
  await model.flush(primary);
  return model;
}

async function senderState(volumeId: string): Promise<string> {
  const s = await volumeStatus(primary, volumeId);
  return s.replicas[0]?.sender_state ?? "";
}

/**
 * Replica down, writes of more than the WAL holds: its gap is recycled, the primary stays
 * writable. A resync could bring such a copy back; the master chooses a full rebuild here (as it
 * would for a replaced disk), which must work the same.
 */
async function outlastRetention(model: VolumeModel, seed: number): Promise<void> {
  await replica.kill("SIGKILL");
  const rand = prng(seed);
  // Writes keep being acknowledged while the replica is away (best_effort flushes succeed).
  const startLsn = Number((await volumeStatus(primary, model.volumeId)).head_lsn);
  const checkpointed = async () => Number((await volumeStatus(primary, model.volumeId)).checkpoint_lsn);
  for (let i = 0; i < 200 && (await checkpointed()) <= startLsn + 1; i++) {
    await model.randomOps(primary, 8, rand);
    await model.flush(primary);
  }
  for (let i = 0; i < 4; i++) {
    await model.randomOps(primary, 16, rand);
    await model.flush(primary);
  }
  expect((await volumeStatus(primary, model.volumeId)).writable).toBe(true);
  await replica.restart();
}

describe("rebuild (real agents, Rebuild.StreamBase)", () => {
  it("gap beyond retention → ROLE_REBUILDING pulls image + tail while writes go on → REPLICA, in sync, byte for byte", async () => {
    showLogsOnFailure(fleet);
    const model = await pairWithData("rb-basic", 1);
    await outlastRetention(model, 2);
    await assign(replica, rebuildingAssignment(model.volumeId, primary.address));
    // Writes during the rebuild reach the copy through the tail or the live stream afterwards.
    const rand = prng(3);
    while ((await volumeStatus(replica, model.volumeId)).role !== "ROLE_REPLICA") {
      await model.randomOps(primary, 4, rand);
    }
    const status = await volumeStatus(replica, model.volumeId);
    expect(status.last_rebuild?.total_bytes).toBe(String(SIZE_BYTES));
    expect(status.last_rebuild?.resumes).toBe(0);
    await expectCopiesHold(primary, [replica], model);
    // The master re-delivering the completed REBUILDING assignment changes nothing.
    const again = await assign(replica, rebuildingAssignment(model.volumeId, primary.address));
    expect(again.unchanged).toBe(true);
    expect((await volumeStatus(replica, model.volumeId)).role).toBe("ROLE_REPLICA");
  });

  it("a transfer cut halfway (TCP proxy) resumes from its offset; a rate limit bounds its speed from below", async () => {
    showLogsOnFailure(fleet);
    const model = await pairWithData("rb-resume", 4);
    await outlastRetention(model, 5);
    const proxy = await TcpProxy.start(primary.address);
    try {
      const rateBytesPerSecond = 8 * MiB;
      await assign(replica, rebuildingAssignment(model.volumeId, proxy.address, rateBytesPerSecond));
      await proxy.waitForBytes(SIZE_BYTES / 2);
      proxy.cutAll();
      await waitFor(
        async () => (await volumeStatus(replica, model.volumeId)).role === "ROLE_REPLICA",
        "rebuild committed after the cut",
        60_000,
      );
      const last = (await volumeStatus(replica, model.volumeId)).last_rebuild;
      expect(last?.resumes).toBeGreaterThanOrEqual(1);
      // Resumed from its offset: well under two full images crossed the network.
      expect(Number(last?.bytes_transferred)).toBeLessThan(1.5 * SIZE_BYTES);
      // The limiter's floor: the image cannot arrive faster than size / rate (minus one burst).
      expect(Number(last?.duration_ms)).toBeGreaterThanOrEqual(
        ((SIZE_BYTES - 2 * MiB) / rateBytesPerSecond) * 1000,
      );
    } finally {
      await proxy.close();
    }
    await expectCopiesHold(primary, [replica], model);
  });

  it("SIGKILL of the replica mid-rebuild leaves its old copy intact; a new REBUILDING assignment continues the staged image", async () => {
    showLogsOnFailure(fleet);
    const model = await pairWithData("rb-kill", 6);
    await outlastRetention(model, 7);
    const before = await volumeStatus(replica, model.volumeId);
    const oldBytes = await readAll(replica, model.volumeId, SIZE_BYTES);
    await assign(replica, rebuildingAssignment(model.volumeId, primary.address, 8 * MiB));
    await waitFor(
      async () =>
        Number((await volumeStatus(replica, model.volumeId)).rebuild_received_bytes) >= SIZE_BYTES / 2,
      "rebuild under way (2 s at 8 MiB/s: a resume point was saved)",
    );
    await replica.kill("SIGKILL");
    await replica.restart();
    const after = await volumeStatus(replica, model.volumeId);
    // Nothing of the unfinished image became visible: the copy reopened with its old log and data.
    expect([after.head_lsn, after.durable_lsn]).toEqual([before.head_lsn, before.durable_lsn]);
    expect(firstDifference(await readAll(replica, model.volumeId, SIZE_BYTES), oldBytes)).toBe(-1);
    await assign(replica, rebuildingAssignment(model.volumeId, primary.address));
    await waitFor(
      async () => (await volumeStatus(replica, model.volumeId)).role === "ROLE_REPLICA",
      "rebuild committed after the restart",
      60_000,
    );
    const done = await volumeStatus(replica, model.volumeId);
    // It continued the image its first life had saved a resume point for (one about every second;
    // half the image was stored), rather than pulling it all again.
    const resumedFrom = Number(done.last_rebuild?.resumed_from_bytes ?? 0);
    expect(resumedFrom).toBeGreaterThan(0);
    expect(Number(done.last_rebuild?.bytes_transferred)).toBeLessThan(SIZE_BYTES);
    await expectCopiesHold(primary, [replica], model);
  });
});
