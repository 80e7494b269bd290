// RF=2 through real agent processes: writes and trims → flush → SIGKILL both agents → restart →
// every flushed byte is on the replica. sync_all fails loudly while the replica is down,
// best_effort does not; re-delivered assignments change nothing.
import { reasonOf } from "@blockship/rpc";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
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
const SIZE_BYTES = 32 * MiB;
const MODES: readonly Mode[] = ["best_effort", "sync_all"];
const models = new Map<Mode, VolumeModel>();
/** The epoch the master hands out; bumped after the restart, as a master would. */
let epoch = 1;

const volumeOf = (mode: Mode) => `io-${mode}`;

beforeAll(async () => {
  [primary, replica] = await Promise.all([
    fleet.start({ kind: "primary", serverId: "io-p", args: ["--barrier-timeout-ms", "1000"] }),
    fleet.start({ kind: "replica", serverId: "io-r" }),
  ]);
});

afterAll(async () => {
  await fleet.cleanup();
});

function showLogsOnFailure(): void {
  onTestFailed(() => {
    console.error(fleet.logs());
  });
}

async function assignPair(mode: Mode): Promise<void> {
  const volumeId = volumeOf(mode);
  await assign(replica, replicaAssignment(volumeId, epoch, primary));
  await assign(primary, primaryAssignment(volumeId, epoch, [replica]));
  await waitFor(() => replicasInSync(primary, volumeId, 1), `${volumeId}: replica in sync`);
}

describe("RF=2 replicated I/O across SIGKILL of both agents", () => {
  it("flushed writes and trims survive SIGKILL of both agents and are on the replica byte for byte", async () => {
    showLogsOnFailure();
    const rand = prng(0x5eed);
    for (const mode of MODES) {
      const volumeId = volumeOf(mode);
      await allocate(primary, { volumeId, sizeBytes: SIZE_BYTES, mode });
      await allocate(replica, { volumeId, sizeBytes: SIZE_BYTES, mode });
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
      expect(status.replicas[0]?.durable_lsn).toBe(String(model.ops));
    }

    await Promise.all([primary.kill("SIGKILL"), replica.kill("SIGKILL")]);
    await Promise.all([primary.restart(), replica.restart()]);
    epoch += 1;

    for (const mode of MODES) {
      const volumeId = volumeOf(mode);
      const model = models.get(mode);
      if (model === undefined) throw new Error("no model");
      // A restarted agent holds its volumes in role NONE until the master assigns them again.
      await assign(replica, replicaAssignment(volumeId, epoch, primary));
      const onReplica = await readAll(replica, volumeId, SIZE_BYTES);
      expect(
        firstDifference(onReplica, model.flushed),
        `${volumeId}: first differing byte on the replica`,
      ).toBe(-1);
      const replicaStatus = await volumeStatus(replica, volumeId);
      expect(replicaStatus.durable_lsn).toBe(String(model.ops));
      await assign(primary, primaryAssignment(volumeId, epoch, [replica]));
      await waitFor(() => replicasInSync(primary, volumeId, 1), `${volumeId}: replica in sync after restart`);
      const onPrimary = await readAll(primary, volumeId, SIZE_BYTES);
      expect(
        firstDifference(onPrimary, model.flushed),
        `${volumeId}: first differing byte on the primary`,
      ).toBe(-1);
    }
  });

  it("re-delivered assignments change nothing (unchanged, same protocol state and status)", async () => {
    showLogsOnFailure();
    for (const mode of MODES) {
      const volumeId = volumeOf(mode);
      const before = {
        state: await protocolState(primary, volumeId),
        primary: stable(await volumeStatus(primary, volumeId)),
        replica: stable(await volumeStatus(replica, volumeId)),
      };
      const r = await assign(replica, replicaAssignment(volumeId, epoch, primary));
      const p = await assign(primary, primaryAssignment(volumeId, epoch, [replica]));
      expect([r.unchanged, p.unchanged]).toEqual([true, true]);
      expect(await protocolState(primary, volumeId)).toEqual(before.state);
      expect(stable(await volumeStatus(primary, volumeId))).toEqual(before.primary);
      expect(stable(await volumeStatus(replica, volumeId))).toEqual(before.replica);
    }
  });

  it("while the replica is down a sync_all flush fails loudly and a best_effort flush does not", async () => {
    showLogsOnFailure();
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
        await model.flush(primary);
      }
    }
    // The replica comes back: the master re-assigns it and sync_all flushes succeed again, with
    // everything acknowledged meanwhile on the replica.
    await replica.restart();
    for (const mode of MODES) {
      const model = models.get(mode);
      if (model === undefined) throw new Error("no model");
      await assign(replica, replicaAssignment(model.volumeId, epoch, primary));
      await waitFor(
        () => replicasInSync(primary, model.volumeId, 1),
        `${model.volumeId}: replica back in sync`,
      );
      const res = await model.flush(primary);
      expect(BigInt(res.durable_lsn)).toBe(BigInt(model.ops + (mode === "sync_all" ? 1 : 0)));
      const onReplica = await readAll(replica, model.volumeId, SIZE_BYTES);
      expect(firstDifference(onReplica, model.flushed), `${model.volumeId}: replica after catch-up`).toBe(-1);
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
