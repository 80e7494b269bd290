// Failover and recovery across epochs with real agent processes: an epoch bump ends a running
// catch-up (nothing stale is applied, the new epoch catches up); the old primary rejoins a promoted
// replica with its un-replicated tail rebuilt away (never resurrected); with RF=3 one replica
// recovers while sync_quorum keeps serving.
import { reasonOf } from "@blockship/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { BLOCK_BYTES, flush, prng, VolumeModel, write } from "./support/io";
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
import { expectCopiesHold, untilResynced } from "./support/recovery";
import { TcpProxy } from "./support/tcp-proxy";

const fleet = new AgentFleet();
let a: AgentHandle;
let b: AgentHandle;
let c: AgentHandle;
const SIZE_BYTES = 16 * MiB;
const WAL_BYTES = 32 * MiB;

beforeAll(async () => {
  [a, b, c] = await Promise.all([
    fleet.start({
      kind: "primary",
      serverId: "fo-a",
      args: ["--barrier-timeout-ms", "1000", "--metrics-listen", "127.0.0.1:0"],
    }),
    fleet.start({
      kind: "replica",
      serverId: "fo-b",
      args: ["--barrier-timeout-ms", "1000", "--metrics-listen", "127.0.0.1:0"],
    }),
    fleet.start({
      kind: "replica",
      serverId: "fo-c",
      args: ["--barrier-timeout-ms", "1000", "--metrics-listen", "127.0.0.1:0"],
    }),
  ]);
});

afterAll(async () => {
  await fleet.cleanup();
});

async function setUp(volumeId: string, primary: AgentHandle, replicas: AgentHandle[], mode: Mode, epoch = 1) {
  for (const x of [primary, ...replicas])
    await allocate(x, { volumeId, sizeBytes: SIZE_BYTES, walSizeBytes: WAL_BYTES, mode });
  for (const r of replicas) await assign(r, replicaAssignment(volumeId, epoch, primary));
  await assign(primary, primaryAssignment(volumeId, epoch, replicas));
  await waitFor(() => replicasInSync(primary, volumeId, replicas.length), `${volumeId}: in sync`);
  return new VolumeModel(volumeId, SIZE_BYTES);
}

describe("failover and recovery across epochs (real agents)", () => {
  it("an epoch bump during a catch-up ends that session; the new epoch catches up and nothing stale is applied", async () => {
    showLogsOnFailure(fleet);
    const model = await setUp("fo-epoch", a, [b], "best_effort");
    const rand = prng(21);
    await model.randomOps(a, 5, rand);
    await model.flush(a);
    // Slow the replica's link so the catch-up is still running when the master bumps the epoch.
    const proxy = await TcpProxy.start(b.address);
    try {
      await assign(a, {
        ...primaryAssignment(model.volumeId, 1, []),
        replicas: [{ server_id: b.serverId, address: proxy.address }],
      });
      await b.kill("SIGKILL");
      await model.randomOps(a, 40, rand);
      await model.flush(a);
      await b.restart();
      const crossed = proxy.stats();
      await assign(b, replicaAssignment(model.volumeId, 1, a));
      // Stall the link once the gap is flowing: the session is then stuck in its catch-up phase.
      await proxy.waitForBytes(crossed.bytesUpstream + crossed.bytesDownstream + MiB);
      proxy.setStalled(true);
      await waitFor(
        async () =>
          (await protocolState(a, model.volumeId)).replicas[0]?.session_phase === "SESSION_PHASE_CATCHUP",
        "catch-up session at epoch 1",
      );
      const before = (await protocolState(a, model.volumeId)).replicas[0]?.session_id;
      // The master bumps the epoch (same roles): the running session belongs to the old authority.
      await assign(b, replicaAssignment(model.volumeId, 2, a));
      await assign(a, {
        ...primaryAssignment(model.volumeId, 2, []),
        replicas: [{ server_id: b.serverId, address: proxy.address }],
      });
      const after = (await protocolState(a, model.volumeId)).replicas[0];
      expect(after?.session_id).not.toBe(before);
      proxy.setStalled(false);
      await model.randomOps(a, 5, rand);
      await expectCopiesHold(a, [b], model);
      expect((await volumeStatus(b, model.volumeId)).epoch).toBe("2");
    } finally {
      await proxy.close();
    }
  });

  it("failover: the promoted replica serves; the old primary's un-replicated tail is resynced away, never resurrected", async () => {
    showLogsOnFailure(fleet);
    const volumeId = "fo-rejoin";
    const model = await setUp(volumeId, a, [b], "sync_all");
    const rand = prng(22);
    await model.randomOps(a, 10, rand);
    await model.flush(a);
    // The replica goes away; the old primary acknowledges writes it can no longer make durable.
    await b.kill("SIGKILL");
    const orphan = Buffer.alloc(BLOCK_BYTES, 0xee);
    for (let lba = 0; lba < 8; lba++) await write(a, volumeId, lba, orphan);
    expect(await flush(a, volumeId).catch(reasonOf)).toBe("durability_barrier_failed");
    await a.kill("SIGKILL");
    // The master promotes the replica at epoch 2; it serves writes of its own.
    await b.restart();
    await assign(b, primaryAssignment(volumeId, 2, []));
    const promoted = new VolumeModel(volumeId, SIZE_BYTES);
    model.flushed.copy(promoted.acked);
    promoted.flushed = Buffer.from(promoted.acked);
    await promoted.randomOps(b, 5, rand);
    await promoted.flush(b);
    // The old primary comes back as a replica of the new one: its tail diverges → resync.
    await a.restart();
    await assign(a, replicaAssignment(volumeId, 2, b));
    await assign(b, primaryAssignment(volumeId, 2, [a]));
    await untilResynced(b, volumeId, a);
    await expectCopiesHold(b, [a], promoted);
    // expectCopiesHold compared the old primary byte for byte with what the new primary
    // acknowledged: its orphaned blocks (0xee, never in the promoted copy) are gone.
  });

  it("RF=3 sync_quorum: one replica recovers (catch-up) while the other stays in sync and flushes keep succeeding", async () => {
    showLogsOnFailure(fleet);
    const model = await setUp("fo-quorum", a, [b, c], "sync_quorum");
    const rand = prng(23);
    await model.randomOps(a, 5, rand);
    await model.flush(a);
    await c.kill("SIGKILL");
    for (let i = 0; i < 4; i++) {
      await model.randomOps(a, 5, rand);
      await model.flush(a); // primary + b are a majority
    }
    await c.restart();
    await assign(c, replicaAssignment(model.volumeId, 1, a));
    // Flushes keep succeeding during c's catch-up.
    while (!(await replicasInSync(a, model.volumeId, 2))) {
      await model.smallWrite(a, rand);
      await model.flush(a);
    }
    await expectCopiesHold(a, [b, c], model);
  });
});
