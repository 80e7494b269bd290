// VolumeEngine, the host-facing facade: events in, commands out, as the agent will drive it.
import { describe, expect, it } from "vitest";
import { type EngineEvent, masterRoleFromWire, translateAssignment } from "../src/index";
import { cmd, connected, primary, R2, R3, replica, setup, types, VOL } from "./engine-fixtures";

describe("VolumeEngine", () => {
  it("primary assignment: apply_role, configure_shipper, connect_replica, publish; the gate closes", () => {
    const { out } = connected();
    expect(types(out)).toEqual(["apply_role", "configure_shipper", "publish_projection", "connect_replica"]);
    expect(cmd(out, "connect_replica")[0]).toMatchObject({
      replicaId: R2,
      endpoint: { dataAddr: "vs-2:4000" },
    });
    const r = out.execution.replicas.get(R2)!;
    expect([r.liveEligible, r.sessionPhase, r.senderState]).toEqual([false, "connecting", "connecting"]);
    expect(out.rejected).toBeNull();
  });

  it("decision: a re-delivered identical assignment emits no command and keeps the session", () => {
    const { engine, sessionId } = connected();
    const again = engine.apply(primary());
    expect(again.commands).toEqual([]);
    expect(again.execution.replicas.get(R2)!.sessionId).toBe(sessionId);
  });

  it("zero-gap handshake ⇒ in_sync, gate opens, no pins", () => {
    const { engine, port, sessionId } = connected();
    const out = engine.apply({
      type: "handshake",
      replicaId: R2,
      sessionId,
      replicaDurableLsn: 100n,
      nowMs: 1,
    });
    expect(out.execution.replicas.get(R2)).toMatchObject({ senderState: "in_sync", liveEligible: true });
    expect(port.count()).toBe(0);
    expect(cmd(out, "stop_recovery")).toEqual([]);
  });

  it("decision: the catch-up starts at the replica's REAL durable LSN and runs to the frozen committed target", () => {
    const { engine, port, sessionId } = connected({ headLsn: 120n, committedLsn: 100n, tailLsn: 10n });
    const out = engine.apply({
      type: "handshake",
      replicaId: R2,
      sessionId,
      replicaDurableLsn: 70n,
      nowMs: 1,
    });
    expect(cmd(out, "start_catchup")[0]).toEqual({
      type: "start_catchup",
      volumeId: VOL,
      replicaId: R2,
      sessionId,
      fromLsn: 70n,
      targetLsn: 100n,
      truncateToLsn: 0n,
    });
    expect(port.count("wal")).toBe(1);
    expect(out.projection.recovery).toMatchObject({ phase: "catching_up", targetLsn: 100n });
    const p = engine.apply({ type: "catchup_progress", replicaId: R2, sessionId, durableLsn: 85n, nowMs: 2 });
    expect(p.execution.replicas.get(R2)).toMatchObject({ recoveredTo: 85n, liveEligible: false });
    expect(p.projection.recovery.achievedLsn).toBe(85n);
    engine.apply({ type: "catchup_progress", replicaId: R2, sessionId, durableLsn: 100n, nowMs: 3 });
    const done = engine.apply({ type: "catchup_done", replicaId: R2, sessionId });
    expect(done.execution.replicas.get(R2)).toMatchObject({ senderState: "in_sync", liveEligible: true });
    expect(done.projection.boundary.durableLsn).toBe(100n);
    expect(done.projection.recovery.phase).toBe("idle");
    expect(port.count()).toBe(0);
    expect(cmd(done, "stop_recovery")).toEqual([]);
  });

  it("a stale session ID is refused and changes nothing", () => {
    const { engine, sessionId } = connected();
    const before = engine.snapshot();
    for (const ev of [
      { type: "handshake", replicaId: R2, sessionId: sessionId + 7, replicaDurableLsn: 1n, nowMs: 1 },
      { type: "catchup_progress", replicaId: R2, sessionId, durableLsn: 1n, nowMs: 1 },
      { type: "catchup_done", replicaId: R2, sessionId },
      { type: "rebuild_done", replicaId: R2, sessionId, flushedLsn: 1n, checkpointLsn: 1n },
      { type: "recovery_failed", replicaId: R3, sessionId, reason: "x" },
    ] as EngineEvent[]) {
      const out = engine.apply(ev);
      expect(out.rejected).not.toBeNull();
      expect(out.commands).toEqual([]);
    }
    expect(engine.snapshot()).toEqual(before);
  });

  it("replica-ahead handshake without resync facts ⇒ needs_rebuild (never cut back), no pin", () => {
    const { engine, sessionId, port } = connected();
    const out = engine.apply({
      type: "handshake",
      replicaId: R2,
      sessionId,
      replicaDurableLsn: 105n,
      nowMs: 1,
    });
    expect(cmd(out, "start_catchup")).toEqual([]);
    expect(port.count()).toBe(0);
    expect(out.execution.replicas.get(R2)!.senderState).toBe("needs_rebuild");
    expect(out.projection.mode.reason).toMatch(
      /^replica_ahead: durable 105 > committed 100 and no fork point known/,
    );
  });

  it("truncation events are refused (no plan truncates any more) and change nothing", () => {
    const { engine, sessionId } = connected();
    engine.apply({ type: "handshake", replicaId: R2, sessionId, replicaDurableLsn: 70n, nowMs: 1 });
    const before = engine.snapshot();
    for (const ev of [
      { type: "truncation_done", replicaId: R2, sessionId, lsn: 100n },
      { type: "truncation_unsafe", replicaId: R2, sessionId },
    ] as EngineEvent[]) {
      const out = engine.apply(ev);
      expect(out.rejected).toMatch(/^truncation_not_supported/);
      expect(out.commands).toEqual([]);
    }
    expect(engine.snapshot()).toEqual(before);
  });

  it("budget tick escalates a slow catch-up: pins released, stop_recovery, needs_rebuild", () => {
    const { engine, sessionId, port } = connected({}, { budgetMs: 50 });
    engine.apply({ type: "handshake", replicaId: R2, sessionId, replicaDurableLsn: 70n, nowMs: 1000 });
    expect(engine.apply({ type: "budget_tick", nowMs: 1040 }).commands).toEqual([]);
    const out = engine.apply({ type: "budget_tick", nowMs: 1051 });
    expect(types(out)).toEqual(["publish_projection", "stop_recovery"]);
    expect(out.projection.mode.reason).toBe("budget_duration_exceeded");
    expect(port.count()).toBe(0);
    expect(out.execution.replicas.get(R2)!.senderState).toBe("needs_rebuild");
  });

  it("decision: a host-reported failure ends the session (gate opens, pins released, no stop echoed)", () => {
    const { engine, sessionId, port } = connected();
    engine.apply({ type: "handshake", replicaId: R2, sessionId, replicaDurableLsn: 70n, nowMs: 1 });
    const out = engine.apply({ type: "recovery_failed", replicaId: R2, sessionId, reason: "stream_reset" });
    expect(out.execution.replicas.get(R2)).toMatchObject({
      senderState: "disconnected",
      sessionActive: false,
      liveEligible: true,
    });
    expect(cmd(out, "stop_recovery")).toEqual([]);
    expect(port.count()).toBe(0);
    const dial = connected();
    const failed = dial.engine.apply({
      type: "recovery_failed",
      replicaId: R2,
      sessionId: dial.sessionId,
      reason: "dial",
    });
    expect(failed.execution.replicas.get(R2)!.sessionActive).toBe(false);
  });

  it("a retry that finds the replica in sync (zero-gap) closes the volume's pending catch-up", () => {
    const { engine, sessionId } = connected();
    engine.apply({ type: "handshake", replicaId: R2, sessionId, replicaDurableLsn: 70n, nowMs: 1 });
    const failed = engine.apply({ type: "recovery_failed", replicaId: R2, sessionId, reason: "reset" });
    expect(failed.projection.recovery.phase).toBe("catching_up");
    const retry = cmd(
      engine.apply({ type: "start_recovery", replicaId: R2, kind: "catchup" }),
      "connect_replica",
    )[0]!;
    const out = engine.apply({
      type: "handshake",
      replicaId: R2,
      sessionId: retry.sessionId,
      replicaDurableLsn: 100n,
      nowMs: 2,
    });
    expect(out.projection.recovery.phase).toBe("idle");
    expect(out.projection.boundary.durableLsn).toBe(100n);
    const again = connected();
    const plain = again.engine.apply({
      type: "handshake",
      replicaId: R2,
      sessionId: again.sessionId,
      replicaDurableLsn: 100n,
      nowMs: 1,
    });
    expect(plain.projection.boundary.durableLsn).toBe(0n);
  });

  it("progress beyond the frozen target fails the attempt", () => {
    const { engine, sessionId } = connected();
    engine.apply({ type: "handshake", replicaId: R2, sessionId, replicaDurableLsn: 70n, nowMs: 1 });
    const out = engine.apply({
      type: "catchup_progress",
      replicaId: R2,
      sessionId,
      durableLsn: 101n,
      nowMs: 2,
    });
    expect(out.execution.replicas.get(R2)!.sessionActive).toBe(false);
    expect(cmd(out, "stop_recovery")).toHaveLength(1);
  });

  it("epoch bump ends every older session with stop_recovery and fences older assignments", () => {
    const { engine, sessionId, port } = connected();
    engine.apply({ type: "handshake", replicaId: R2, sessionId, replicaDurableLsn: 70n, nowMs: 1 });
    const out = engine.apply({ type: "epoch_bump", epoch: 5n });
    expect(cmd(out, "stop_recovery")[0]).toMatchObject({ sessionId, reason: "session_ended:epoch_bump" });
    expect(port.count()).toBe(0);
    expect(engine.apply(primary(4n)).rejected).toMatch(/epoch_regression/);
    const fresh = engine.apply(primary(5n));
    expect(cmd(fresh, "connect_replica")).toHaveLength(1);
  });

  it("operator start/cancel recovery: start supersedes (stop old, connect new); cancel ends it", () => {
    const { engine, sessionId } = connected();
    const start = engine.apply({ type: "start_recovery", replicaId: R2, kind: "catchup" });
    expect(cmd(start, "stop_recovery")[0]).toMatchObject({ sessionId, reason: "superseded" });
    const next = cmd(start, "connect_replica")[0]!.sessionId;
    expect(next).toBeGreaterThan(sessionId);
    const cancel = engine.apply({ type: "cancel_recovery", replicaId: R2, reason: "operator" });
    expect(cmd(cancel, "stop_recovery")[0]?.sessionId).toBe(next);
    expect(engine.apply({ type: "cancel_recovery", replicaId: R3, reason: "x" }).rejected).toMatch(
      /unknown_replica/,
    );
    expect(engine.apply({ type: "start_recovery", replicaId: R3, kind: "catchup" }).rejected).toMatch(
      /unknown_replica/,
    );
  });

  it("replica removed by a new assignment ⇒ stop_recovery and its pins released", () => {
    const t = setup();
    const first = t.engine.apply(primary(1n, ["vs-2", "vs-3"]));
    const s3 = cmd(first, "connect_replica").find((c) => c.replicaId === R3)!.sessionId;
    t.engine.apply({ type: "handshake", replicaId: R3, sessionId: s3, replicaDurableLsn: 50n, nowMs: 1 });
    expect(t.port.count()).toBe(1);
    const out = t.engine.apply(primary(1n, ["vs-2"]));
    expect(cmd(out, "stop_recovery").map((c) => c.replicaId)).toEqual([R3]);
    expect(t.port.count()).toBe(0);
    const none = t.engine.apply({ type: "assignment", epoch: 1n, role: "stale", replicas: [] });
    expect(cmd(none, "stop_recovery").map((c) => c.replicaId)).toEqual([R2]);
  });

  it("observations pass to the core: readiness, barrier, boundaries; barrier rejection ends sessions", () => {
    const { engine, sessionId } = connected();
    for (const ev of [
      { type: "role_applied" },
      { type: "shipper_configured" },
      { type: "shipper_connected" },
      { type: "committed_advanced", committedLsn: 9n },
      { type: "checkpoint_advanced", checkpointLsn: 4n },
      { type: "shipped_advanced", shippedLsn: 11n },
    ] as EngineEvent[]) {
      engine.apply(ev);
    }
    const healthy = engine.apply({ type: "barrier_accepted", flushedLsn: 9n });
    expect(healthy.projection.mode.name).toBe("publish_healthy");
    expect(healthy.projection.boundary).toMatchObject({
      committedLsn: 9n,
      checkpointLsn: 4n,
      diagnosticShippedLsn: 11n,
    });
    const rej = engine.apply({ type: "barrier_rejected", reason: "timeout" });
    expect(rej.projection.mode.name).toBe("degraded");
    expect(cmd(rej, "stop_recovery")[0]?.sessionId).toBe(sessionId);
  });

  it("decision: invalidate_session only touches senders with a session (in_sync stays in_sync)", () => {
    const { engine, sessionId } = connected();
    engine.apply({ type: "handshake", replicaId: R2, sessionId, replicaDurableLsn: 100n, nowMs: 1 });
    const out = engine.apply({ type: "barrier_rejected", reason: "timeout" });
    expect(out.execution.replicas.get(R2)!.senderState).toBe("in_sync");
    expect(out.commands.map((c) => c.type)).toEqual(["publish_projection"]);
  });

  it("replica role: apply_role + start_receiver; receiver_ready ⇒ replica_ready", () => {
    const { engine } = setup();
    const out = engine.apply({ type: "assignment", epoch: 1n, role: "replica", replicas: [replica("vs-2")] });
    expect(types(out)).toEqual(["apply_role", "start_receiver", "publish_projection"]);
    engine.apply({ type: "role_applied" });
    expect(engine.apply({ type: "receiver_ready" }).projection.mode.name).toBe("replica_ready");
    const bad = engine.apply({ type: "assignment", epoch: 1n, role: "replica", replicas: [] });
    expect(bad.rejected).toMatch(/invalid_argument/);
  });

  it("second handshake for the same session is refused", () => {
    const { engine, sessionId } = connected();
    engine.apply({ type: "handshake", replicaId: R2, sessionId, replicaDurableLsn: 70n, nowMs: 1 });
    expect(
      engine.apply({ type: "handshake", replicaId: R2, sessionId, replicaDurableLsn: 70n, nowMs: 1 })
        .rejected,
    ).toMatch(/handshake already done/);
    expect(
      engine.apply({ type: "rebuild_progress", replicaId: R2, sessionId, stage: "base", lsn: 1n }).rejected,
    ).toMatch(/no rebuild/);
  });

  it("WAL pin failure at handshake ends the attempt with stop_recovery", () => {
    const { engine, sessionId, port } = connected();
    port.fail.wal = "full";
    const out = engine.apply({
      type: "handshake",
      replicaId: R2,
      sessionId,
      replicaDurableLsn: 70n,
      nowMs: 1,
    });
    expect(cmd(out, "stop_recovery")[0]?.sessionId).toBe(sessionId);
    expect(engine.log.has("wal_pin_failed")).toBe(true);
  });

  it("translation: wire roles, server IDs, rebuild target; none/stale/draining remove everything", () => {
    expect([0, 1, 2, 3, 4, 5, 9].map(masterRoleFromWire)).toEqual([
      "none",
      "primary",
      "replica",
      "stale",
      "rebuilding",
      "draining",
      "none",
    ]);
    const t = translateAssignment(VOL, 2n, "primary", []);
    expect(t.coreEvent?.recoveryTarget).toBeNull();
    expect(translateAssignment(VOL, 2n, "draining", [replica("a")])).toEqual({
      intent: { volumeId: VOL, epoch: 2n, replicas: [] },
      coreEvent: null,
    });
    expect(() => translateAssignment(VOL, 2n, "primary", [replica("a/b")])).toThrow(/bad server id/);
  });
});
