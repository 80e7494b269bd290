// The scrape-time state metrics and the event counters that a healthy pair never shows: an
// in-process agent whose data plane is a stand-in that captures the live-shipping policy and never
// connects, and whose handshake never answers — so an operator catch-up session stays active,
// the gate denies it, and a sync_all flush fails loudly.
import { EventEmitter } from "node:events";
import type { ReplicaFacts } from "@blockship/replication";
import { closeClient, createControlClient, createVolumeClient, reasonOf, unary } from "@blockship/rpc";
import type { VolumeStats } from "@blockship/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent";
import { localReplication } from "../src/local-replication";
import { estimateLagBytes } from "../src/metrics";
import type {
  LiveShippingPolicy,
  ReplicationBinding,
  ShipperGroupPort,
  ShipperStatusView,
  ShipTarget,
} from "../src/replication-port";
import { allocateRequest, primary, startTestAgent, tempDir } from "./helpers";
import { parsePrometheusText, sampleValue } from "./metrics-prom-text";

class CapturingGroup extends EventEmitter implements ShipperGroupPort {
  policy: LiveShippingPolicy | undefined;
  private targets: readonly ShipTarget[] = [];
  setPolicy(policy: LiveShippingPolicy): void {
    this.policy = policy;
  }
  policyChanged(): void {}
  historyDiverged(): void {}
  reprobe(): void {}
  setReplicas(targets: readonly ShipTarget[]): void {
    this.targets = [...targets];
  }
  statuses(): readonly ShipperStatusView[] {
    return this.targets.map((t) => ({
      ...t,
      state: "connecting",
      cursorLsn: 2,
      receivedLsn: 1,
      durableLsn: 1,
      inFlightBytes: 4096,
    }));
  }
  async close(): Promise<void> {
    this.targets = [];
  }
}

const groups: CapturingGroup[] = [];
const binding: ReplicationBinding = {
  ...localReplication,
  name: "capturing",
  createShipperGroup: () => {
    const g = new CapturingGroup();
    groups.push(g);
    return g;
  },
};

let agent: Agent;
const t = tempDir();

beforeAll(async () => {
  agent = await startTestAgent({
    dir: t.dir,
    serverId: "srv-p",
    binding,
    handshake: () => new Promise<ReplicaFacts>(() => {}),
  });
});

afterAll(async () => {
  await agent.stop();
  t.cleanup();
});

describe("state metrics with an active recovery session", () => {
  it("counts gate denials, shows the session and the replica, and counts a loud flush failure", async () => {
    const control = createControlClient(agent.address);
    const volume = createVolumeClient(agent.address);
    try {
      await unary((cb) => control.AllocateVolume(allocateRequest("v", "DURABILITY_MODE_SYNC_ALL"), cb));
      await unary((cb) =>
        control.ApplyAssignments(
          { assignments: [primary("v", 1, { replicas: [{ server_id: "srv-r", address: "127.0.0.1:1" }] })] },
          cb,
        ),
      );
      for (let i = 0; i < 3; i++)
        await unary((cb) =>
          volume.Write({ volume_id: "v", lba: String(i), data: Buffer.alloc(4096, 1) }, cb),
        );
      const flushReason = await unary((cb) => volume.Flush({ volume_id: "v" }, cb)).then(
        () => "ok",
        reasonOf,
      );
      expect(flushReason).toBe("durability_barrier_failed");

      const policy = groups.at(-1)?.policy;
      expect(policy).toBeDefined();
      // An operator catch-up: the handshake never answers, so the session stays active (gate shut).
      await unary((cb) =>
        control.StartRecovery(
          { volume_id: "v", replica_id: "v/srv-r", epoch: "1", kind: "RECOVERY_KIND_CATCHUP" },
          cb,
        ),
      );
      const answer = policy?.("v/srv-r", 1);
      expect(answer?.allow).toBe(false);
      policy?.("v/srv-r", 2);

      const m = parsePrometheusText(await agent.metrics.text());
      const rep = { volume: "v", replica: "v/srv-r" };
      const denials = m.get("blockship_gate_denials_total")?.samples ?? [];
      expect(denials.map((s) => [s.labels.replica, s.labels.reason, s.value])).toEqual([
        ["v/srv-r", (answer?.reason ?? "").split(" ")[0], 2],
      ]);
      expect(denials[0]?.labels.reason).toMatch(/^active_[a-z]+_session$/);
      const sessions = (m.get("blockship_recovery_sessions")?.samples ?? []).filter((s) => s.value > 0);
      expect(sessions.length).toBe(1);
      expect(sampleValue(m, "blockship_replica_live_eligible", "blockship_replica_live_eligible", rep)).toBe(
        0,
      );
      expect(
        sampleValue(m, "blockship_recovery_recovered_lsn", "blockship_recovery_recovered_lsn", rep),
      ).toBeDefined();

      expect(
        sampleValue(m, "blockship_replica_state", "blockship_replica_state", { ...rep, state: "connecting" }),
      ).toBe(1);
      expect(
        sampleValue(m, "blockship_replica_state", "blockship_replica_state", { ...rep, state: "in_sync" }),
      ).toBe(0);
      expect(sampleValue(m, "blockship_replica_shipped_lsn", "blockship_replica_shipped_lsn", rep)).toBe(1);
      expect(sampleValue(m, "blockship_replica_lag_lsn", "blockship_replica_lag_lsn", rep)).toBe(2);
      expect(
        sampleValue(m, "blockship_replica_in_flight_bytes", "blockship_replica_in_flight_bytes", rep),
      ).toBe(4096);

      expect(
        sampleValue(m, "blockship_durable_flush_failures_total", "blockship_durable_flush_failures_total", {
          volume: "v",
          mode: "sync_all",
          reason: "durability_barrier_failed",
        }),
      ).toBe(1);
      expect(
        sampleValue(m, "blockship_io_ops_total", "blockship_io_ops_total", {
          volume: "v",
          op: "flush",
          result: "error",
        }),
      ).toBe(1);
      expect(
        sampleValue(m, "blockship_rpc_errors_total", "blockship_rpc_errors_total", {
          method: "/blockship.v1.Volume/Flush",
          code: "UNAVAILABLE",
          reason: "durability_barrier_failed",
        }),
      ).toBe(1);
      // The volume gauges follow the volume: deleted, its series are gone at the next scrape.
      await unary((cb) => control.DeleteVolume({ volume_id: "v" }, cb));
      const after = parsePrometheusText(await agent.metrics.text());
      expect(after.get("blockship_volume_head_lsn")?.samples).toEqual([]);
      expect(sampleValue(after, "blockship_volumes", "blockship_volumes")).toBe(0);
    } finally {
      closeClient(control);
      closeClient(volume);
    }
  });
});

describe("estimateLagBytes", () => {
  const stats = (headLsn: number, tailLsn: number, walUsedBytes: number) =>
    ({ headLsn, tailLsn, walUsedBytes }) as VolumeStats;

  it("is lag × the average record size of the WAL, 0 without lag or records", () => {
    expect(estimateLagBytes(2, stats(10, 6, 4 * 4160))).toBe(2 * 4160);
    expect(estimateLagBytes(0, stats(10, 6, 4 * 4160))).toBe(0);
    expect(estimateLagBytes(3, stats(10, 10, 0))).toBe(0);
  });
});
