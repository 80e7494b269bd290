// Catch-up end to end with real agent processes: a replica that was away for a short gap comes
// back through a catch-up session (never a rebuild) while writes go on; during the session the
// phase gate keeps the live tail from it and says why (GetProtocolState, metrics); afterwards live
// shipping resumes and every flushed byte is on the replica.
import { reasonOf } from "@blockship/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { flush, prng, VolumeModel } from "./support/io";
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
import { expectCopiesHold } from "./support/recovery";
import { TcpProxy } from "./support/tcp-proxy";

const fleet = new AgentFleet();
let primary: AgentHandle;
let replica: AgentHandle;
const SIZE_BYTES = 32 * MiB;
const WAL_BYTES = 64 * MiB;
const EPOCH = 1;

beforeAll(async () => {
  [primary, replica] = await Promise.all([
    fleet.start({ kind: "primary", serverId: "cu-p", args: ["--metrics-listen", "127.0.0.1:0"] }),
    fleet.start({ kind: "replica", serverId: "cu-r" }),
  ]);
});

afterAll(async () => {
  await fleet.cleanup();
});

async function pair(
  volumeId: string,
  replicaAddress?: string,
  mode: Mode = "best_effort",
): Promise<VolumeModel> {
  for (const a of [primary, replica])
    await allocate(a, { volumeId, sizeBytes: SIZE_BYTES, walSizeBytes: WAL_BYTES, mode });
  await assign(replica, replicaAssignment(volumeId, EPOCH, primary));
  const target =
    replicaAddress === undefined ? [replica] : [{ serverId: replica.serverId, address: replicaAddress }];
  await assign(primary, {
    ...primaryAssignment(volumeId, EPOCH, []),
    replicas: target.map((r) => ({ server_id: r.serverId, address: r.address })),
  });
  await waitFor(() => replicasInSync(primary, volumeId, 1), `${volumeId}: in sync`);
  return new VolumeModel(volumeId, SIZE_BYTES);
}

describe("catch-up (real agents)", () => {
  it("a short outage is caught up (no rebuild) while writes go on; the gate names the session; live shipping resumes", async () => {
    showLogsOnFailure(fleet);
    const model = await pair("cu-basic");
    const rand = prng(11);
    await model.randomOps(primary, 10, rand);
    await model.flush(primary);
    await replica.kill("SIGKILL");
    await model.randomOps(primary, 60, rand);
    await model.flush(primary);
    await replica.restart();
    await assign(replica, replicaAssignment(model.volumeId, EPOCH, primary));
    // Writes continue while the replica catches up; sample the protocol state as we go.
    const reasons = new Set<string>();
    const states = new Set<string>();
    let sessionSamples = 0;
    while (!(await replicasInSync(primary, model.volumeId, 1))) {
      await model.smallWrite(primary, rand);
      const ps = await protocolState(primary, model.volumeId);
      const r = ps.replicas[0];
      if (r !== undefined) {
        states.add(r.sender_state);
        if (r.session_active) {
          expect(r.live_eligible).toBe(false);
          reasons.add(r.reason);
          // While that same session is active, the replica holds nothing beyond its frozen target.
          const target = BigInt(r.frozen_target_lsn !== "0" ? r.frozen_target_lsn : r.target_lsn);
          const head = BigInt((await volumeStatus(replica, model.volumeId)).head_lsn);
          const again = (await protocolState(primary, model.volumeId)).replicas[0];
          if (again?.session_active && again.session_id === r.session_id && target > 0n) {
            expect(head, "replica head during the session").toBeLessThanOrEqual(target);
            sessionSamples++;
          }
        }
      }
    }
    expect(states).not.toContain("SENDER_STATE_NEEDS_REBUILD");
    expect([...reasons].some((r) => r.startsWith("active_catchup_session"))).toBe(true);
    expect(sessionSamples).toBeGreaterThan(0);
    // The gate's denials of the live tail are counted for that replica.
    const metrics = await (await fetch(`http://${primary.metricsAddress}/metrics`)).text();
    const denied = metrics
      .split("\n")
      .filter((l) => l.startsWith("blockship_gate_denials_total{") && l.includes('replica="cu-basic/cu-r"'))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
    expect(denied).toBeGreaterThan(0);
    expect((await volumeStatus(replica, model.volumeId)).last_rebuild).toBeNull();
    await expectCopiesHold(primary, [replica], model);
  });

  it("SIGKILL of the replica during catch-up: it comes back and catches up safely", async () => {
    showLogsOnFailure(fleet);
    const model = await pair("cu-kill");
    const rand = prng(12);
    await replica.kill("SIGKILL");
    await model.randomOps(primary, 60, rand);
    await model.flush(primary);
    const headBefore = Number((await volumeStatus(primary, model.volumeId)).head_lsn);
    await replica.restart();
    const replicaHead = Number((await volumeStatus(replica, model.volumeId)).head_lsn);
    expect(replicaHead).toBeLessThan(headBefore);
    await assign(replica, replicaAssignment(model.volumeId, EPOCH, primary));
    // Kill it as soon as the gap starts arriving (mid catch-up, or just after on a fast machine).
    await waitFor(
      async () => Number((await volumeStatus(replica, model.volumeId)).head_lsn) > replicaHead,
      "catch-up under way",
    );
    await replica.kill("SIGKILL");
    await model.randomOps(primary, 10, rand);
    await replica.restart();
    await assign(replica, replicaAssignment(model.volumeId, EPOCH, primary));
    await expectCopiesHold(primary, [replica], model);
  });

  it("a slow replica (stalled link) is not escalated to a rebuild; it catches up when the link heals", async () => {
    showLogsOnFailure(fleet);
    const proxy = await TcpProxy.start(replica.address);
    try {
      const model = await pair("cu-slow", proxy.address, "sync_all");
      const rand = prng(13);
      await model.randomOps(primary, 5, rand);
      await model.flush(primary);
      proxy.setStalled(true);
      await model.randomOps(primary, 5, rand);
      // The barrier deadline passes while the link is stalled: the flush fails loudly...
      expect(await flush(primary, model.volumeId).catch(reasonOf)).toBe("durability_barrier_failed");
      // ...but one missed deadline is not a dead replica: no rebuild, no released retention.
      const s = await volumeStatus(primary, model.volumeId);
      expect(s.replicas[0]?.sender_state).not.toBe("SENDER_STATE_NEEDS_REBUILD");
      expect(s.mode).not.toBe("VOLUME_MODE_NEEDS_REBUILD");
      proxy.setStalled(false);
      await expectCopiesHold(primary, [replica], model);
    } finally {
      await proxy.close();
    }
  });
});
