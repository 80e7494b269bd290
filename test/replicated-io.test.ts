// Replicated I/O through real agent processes: writes and trims → flush → SIGKILL every agent →
// restart → every flushed byte is on the replica (RF=2 best_effort and sync_all; RF=3 sync_quorum:
// on a majority). sync_all fails loudly while its replica is down, best_effort does not,
// sync_quorum only once the majority is gone; re-delivered assignments change nothing.
import { reasonOf } from "@blockship/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { firstDifference, flush, prng, readAll, VolumeModel, write } from "./support/io";
import {
  allocate,
  assign,
  MiB,
  type Mode,
  primaryAssignment,
  protocolState,
  replicaAssignment,
  replicasInSync,
  volumeStatus,
} from "./support/master";

const fleet = new AgentFleet();
let primary: AgentHandle;
let replica: AgentHandle;
/** The third copy of the RF=3 sync_quorum volume. */
let replica2: AgentHandle;
const SIZE_BYTES = 32 * MiB;
const MODES: readonly Mode[] = ["best_effort", "sync_all", "sync_quorum"];
const models = new Map<Mode, VolumeModel>();
/** The epoch the master hands out; bumped after the restart, as a master would. */
let epoch = 1;

const volumeOf = (mode: Mode) => `io-${mode}`;
const replicasOf = (mode: Mode) => (mode === "sync_quorum" ? [replica, replica2] : [replica]);

beforeAll(async () => {
  [primary, replica, replica2] = await Promise.all([
    fleet.start({ kind: "primary", serverId: "io-p", args: ["--barrier-timeout-ms", "1000"] }),
    fleet.start({ kind: "replica", serverId: "io-r" }),
    fleet.start({ kind: "replica", serverId: "io-r2" }),
  ]);
});

afterAll(async () => {
  await fleet.cleanup();
});

async function assignPair(mode: Mode): Promise<void> {
  const volumeId = volumeOf(mode);
  for (const r of replicasOf(mode)) await assign(r, replicaAssignment(volumeId, epoch, primary));
  await assign(primary, primaryAssignment(volumeId, epoch, replicasOf(mode)));
  await waitFor(
    () => replicasInSync(primary, volumeId, replicasOf(mode).length),
    `${volumeId}: replicas in sync`,
  );
}

describe("replicated I/O (RF=2, RF=3) across SIGKILL of every agent", () => {
  it("flushed writes and trims survive SIGKILL of every agent and are on the replicas byte for byte", async () => {
    showLogsOnFailure(fleet);
    const rand = prng(0x5eed);
    for (const mode of MODES) {
      const volumeId = volumeOf(mode);
      for (const agent of [primary, ...replicasOf(mode)])
        await allocate(agent, { volumeId, sizeBytes: SIZE_BYTES, mode });
      await assignPair(mode);
      const model = new VolumeModel(volumeId, SIZE_BYTES);
      models.set(mode, model);
      // Two rounds, each closed by a flush: the second overwrites and trims data of the first.
      for (let round = 0; round < 2; round++) {
        await model.randomOps(primary, 25, rand);
        const res = await model.flush(primary);
        expect(BigInt(res.durable_lsn)).toBe(BigInt(model.ops));
      }
      const status = await volumeStatus(primary, volumeId);
      // sync_all: every replica confirmed; sync_quorum: at least a majority (primary + 1).
      const confirmed = status.replicas.filter((r) => r.durable_lsn === String(model.ops));
      expect(confirmed.length).toBeGreaterThanOrEqual(mode === "best_effort" ? 0 : 1);
    }

    const all = [primary, replica, replica2];
    await Promise.all(all.map((a) => a.kill("SIGKILL")));
    await Promise.all(all.map((a) => a.restart()));
    epoch += 1;

    for (const mode of MODES) {
      const volumeId = volumeOf(mode);
      const model = models.get(mode);
      if (model === undefined) throw new Error("no model");
      // A restarted agent holds its volumes in role NONE until the master assigns them again.
      // Every flushed byte is on the replica (sync_quorum: on at least one of the two).
      const differences: number[] = [];
      for (const r of replicasOf(mode)) {
        await assign(r, replicaAssignment(volumeId, epoch, primary));
        differences.push(firstDifference(await readAll(r, volumeId, SIZE_BYTES), model.flushed));
      }
      expect(differences, `${volumeId}: first differing byte per replica`).toContain(-1);
      if (mode !== "sync_quorum") expect(differences).toEqual([-1]);
      await assign(primary, primaryAssignment(volumeId, epoch, replicasOf(mode)));
      await waitFor(
        () => replicasInSync(primary, volumeId, replicasOf(mode).length),
        `${volumeId}: replicas in sync after restart`,
      );
      const onPrimary = await readAll(primary, volumeId, SIZE_BYTES);
      expect(
        firstDifference(onPrimary, model.flushed),
        `${volumeId}: first differing byte on the primary`,
      ).toBe(-1);
    }
  });

  it("re-delivered assignments change nothing (unchanged, same protocol state and status)", async () => {
    showLogsOnFailure(fleet);
    for (const mode of MODES) {
      const volumeId = volumeOf(mode);
      const before = {
        state: await protocolState(primary, volumeId),
        primary: stable(await volumeStatus(primary, volumeId)),
        replica: stable(await volumeStatus(replica, volumeId)),
      };
      const r = await assign(replica, replicaAssignment(volumeId, epoch, primary));
      const p = await assign(primary, primaryAssignment(volumeId, epoch, replicasOf(mode)));
      expect([r.unchanged, p.unchanged]).toEqual([true, true]);
      expect(await protocolState(primary, volumeId)).toEqual(before.state);
      expect(stable(await volumeStatus(primary, volumeId))).toEqual(before.primary);
      expect(stable(await volumeStatus(replica, volumeId))).toEqual(before.replica);
    }
  });

  it("with a replica down sync_all flushes fail loudly, best_effort and sync_quorum (majority left) do not; without a majority sync_quorum fails", async () => {
    showLogsOnFailure(fleet);
    const rand = prng(42);
    await replica.kill("SIGKILL");
    for (const mode of MODES) {
      const model = models.get(mode);
      if (model === undefined) throw new Error("no model");
      await model.randomOps(primary, 3, rand);
      if (mode === "sync_all") {
        expect(await flush(primary, model.volumeId).catch(reasonOf)).toBe("durability_barrier_failed");
        // Writes are still acknowledged (durable only later), and the failure repeats: no silent downgrade.
        await write(primary, model.volumeId, 0, Buffer.alloc(4096, 7));
        Buffer.alloc(4096, 7).copy(model.acked, 0);
        expect(await flush(primary, model.volumeId).catch(reasonOf)).toBe("durability_barrier_failed");
      } else {
        // best_effort needs no replica; sync_quorum still has a majority (primary + io-r2).
        await model.flush(primary);
      }
    }
    // With the second replica of the RF=3 volume gone too, the quorum is lost: loud failure.
    await replica2.kill("SIGKILL");
    const quorum = models.get("sync_quorum");
    if (quorum === undefined) throw new Error("no model");
    await write(primary, quorum.volumeId, 1, Buffer.alloc(4096, 9));
    Buffer.alloc(4096, 9).copy(quorum.acked, 4096);
    quorum.ops += 1;
    expect(await flush(primary, quorum.volumeId).catch(reasonOf)).toBe("durability_quorum_lost");
    await replica2.restart();
    // The replicas come back: the master re-assigns them and flushes succeed again, with
    // everything acknowledged meanwhile on every replica.
    await replica.restart();
    for (const mode of MODES) {
      const model = models.get(mode);
      if (model === undefined) throw new Error("no model");
      for (const r of replicasOf(mode)) await assign(r, replicaAssignment(model.volumeId, epoch, primary));
      await waitFor(
        () => replicasInSync(primary, model.volumeId, replicasOf(mode).length),
        `${model.volumeId}: replicas back in sync`,
      );
      const res = await model.flush(primary);
      expect(BigInt(res.durable_lsn)).toBe(BigInt(model.ops + (mode === "sync_all" ? 1 : 0)));
      for (const r of replicasOf(mode)) {
        const onReplica = await readAll(r, model.volumeId, SIZE_BYTES);
        expect(
          firstDifference(onReplica, model.flushed),
          `${model.volumeId}: ${r.serverId} after catch-up`,
        ).toBe(-1);
      }
    }
  });
});

/** The parts of a status that must not move on a no-op (leave out clocks and lease countdown). */
function stable(s: Awaited<ReturnType<typeof volumeStatus>>) {
  return {
    epoch: s.epoch,
    role: s.role,
    durability_mode: s.durability_mode,
    mode: s.mode,
    head_lsn: s.head_lsn,
    durable_lsn: s.durable_lsn,
    committed_lsn: s.committed_lsn,
    writable: s.writable,
    primary_server_id: s.primary_server_id,
    replicas: s.replicas,
  };
}
