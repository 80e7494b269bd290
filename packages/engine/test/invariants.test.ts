// engine-spec §7: one test per invariant, each with the spec's recipe (several also appear, in more
// depth, next to the scenario they belong to).
import { describe, expect, it } from "vitest";
import {
  CatchUpExecution,
  classifyRecoveryOutcome,
  decideLiveShipping,
  decideRebuildSource,
  deriveVolumeExecutionState,
  makeHandshakeResult,
  PendingPlans,
  RecoveryOrchestrator,
  RecoveryPlanner,
  Registry,
  requireCatchUpPlan,
  SessionIdSource,
  VolumeCore,
} from "../src/index";
import { budget, catchingUp, ep, FakeRetention, history, newSender, rebuilding } from "./helpers";

const VOL = "v";
const R1 = "v/r1";
const R2 = "v/r2";

function orchestrated(port = new FakeRetention()) {
  const reg = new Registry(VOL, new SessionIdSource());
  const o = new RecoveryOrchestrator(reg);
  return { reg, o, planner: new RecoveryPlanner(o, port), port };
}

function assignBoth(o: RecoveryOrchestrator, epoch = 1n) {
  return o.processAssignment({
    volumeId: VOL,
    epoch,
    replicas: [
      { replicaId: R1, endpoint: ep("a") },
      { replicaId: R2, endpoint: ep("b") },
    ],
    recoveryTargets: { [R1]: "catchup", [R2]: "catchup" },
  });
}

function primaryCore(ids: string[] = [R1]): VolumeCore {
  const core = new VolumeCore(VOL);
  core.apply({
    type: "assignment_delivered",
    epoch: 1n,
    role: "primary",
    replicas: ids.map((replicaId) => ({ replicaId, endpoint: ep(replicaId) })),
    recoveryTarget: "catchup",
  });
  return core;
}

describe("§7 invariants", () => {
  it("1. committed is the truth boundary: head 120, committed 100, F 70 ⇒ target 100", () => {
    const t = orchestrated(new FakeRetention({ headLsn: 120n, committedLsn: 100n }));
    assignBoth(t.o);
    const r = t.planner.planRecovery(R1, 70n);
    expect(r.ok && requireCatchUpPlan(r.plan).targetLsn).toBe(100n);
  });

  it("2. zero-gap is exact: F=105 ⇒ catchup (truncate), F=99 ⇒ catchup, F=100 ⇒ zero_gap", () => {
    const out = [105n, 99n, 100n].map((f) => classifyRecoveryOutcome(makeHandshakeResult(history(), f)));
    expect(out).toEqual(["catchup", "catchup", "zero_gap"]);
  });

  it("3. frozen target: target 50, progress 51 fails, 50 ok", () => {
    const { s, id } = catchingUp(0n, 50n);
    expect(() => s.recordCatchUpProgress(id, 51n)).toThrow(/exceeds_frozen_target/);
    s.recordCatchUpProgress(id, 50n);
  });

  it("4. progress is monotonic for catch-up, transfer and tail", () => {
    const { s, id } = catchingUp(0n, 50n);
    s.recordCatchUpProgress(id, 30n);
    expect(() => s.recordCatchUpProgress(id, 30n)).toThrow(/progress_regression/);
    const r = rebuilding(100n);
    r.s.selectRebuildSource(r.id, 50n, true, 100n);
    r.s.beginRebuildTransfer(r.id);
    r.s.recordRebuildTransferProgress(r.id, 50n);
    expect(() => r.s.recordRebuildTransferProgress(r.id, 50n)).toThrow(/progress_regression/);
    r.s.beginRebuildTailReplay(r.id);
    r.s.recordRebuildTailProgress(r.id, 60n);
    expect(() => r.s.recordRebuildTailProgress(r.id, 59n)).toThrow(/progress_regression/);
  });

  it("5. completion needs convergence: 50 of 100 ⇒ false", () => {
    const { s, id } = catchingUp(0n, 100n);
    s.recordCatchUpProgress(id, 50n);
    expect(s.completeSessionById(id)).toBe(false);
  });

  it("6. truncation is a protocol gate: F=105 ⇒ false; record 99 errors; record 100 ⇒ true", () => {
    const s = newSender();
    const id = s.attachSession(1n, "catchup");
    s.beginConnect(id);
    s.recordHandshakeWithOutcome(id, makeHandshakeResult(history(), 105n));
    expect(s.completeSessionById(id)).toBe(false);
    expect(() => s.recordTruncation(id, 99n)).toThrow();
    s.recordTruncation(id, 100n);
    expect(s.completeSessionById(id)).toBe(true);
  });

  it("7. stale session fenced: every API with id1 rejected after an epoch bump, id2 active", () => {
    const s = newSender();
    const id1 = s.attachSession(1n, "catchup");
    s.updateEpoch(2n);
    const id2 = s.attachSession(2n, "catchup");
    expect(() => s.beginConnect(id1)).toThrow(/session_id_mismatch/);
    expect(s.completeSessionById(id1)).toBe(false);
    expect(s.sessionSnapshot()).toMatchObject({ id: id2, active: true });
  });

  it("8. one active session per replica: attach twice errors; supersede invalidates the old first", () => {
    const s = newSender();
    const a = s.attachSession(1n, "catchup");
    expect(() => s.attachSession(1n, "catchup")).toThrow(/session_already_active/);
    const b = s.supersedeSession("catchup", "x");
    expect(s.completeSessionById(a)).toBe(false);
    expect(s.sessionId).toBe(b);
  });

  it("9. epoch bump kills old-epoch sessions: 2 replicas, invalidateEpoch(2) == 2, none active", () => {
    const t = orchestrated();
    assignBoth(t.o);
    expect(t.o.invalidateEpoch(2n)).toBe(2);
    expect(t.reg.all().some((s) => s.hasActiveSession())).toBe(false);
  });

  it("10. stale assignment rejected: epoch 2 then intent 1 ⇒ failed, no session", () => {
    const t = orchestrated();
    t.o.processAssignment({ volumeId: VOL, epoch: 2n, replicas: [{ replicaId: R1, endpoint: ep() }] });
    const r = t.o.processAssignment({
      volumeId: VOL,
      epoch: 1n,
      replicas: [{ replicaId: R1, endpoint: ep() }],
      recoveryTargets: { [R1]: "catchup" },
    });
    expect(r.sessionsFailed).toEqual([R1]);
    expect(t.reg.get(R1)!.hasActiveSession()).toBe(false);
  });

  it("11. sender epoch never decreases", () => {
    const s = newSender("r", 2n);
    s.updateEpoch(1n);
    expect(s.epoch).toBe(2n);
  });

  it("12. identity ≠ address: endpoint change keeps the object, drops the session", () => {
    const t = orchestrated();
    assignBoth(t.o);
    const before = t.reg.get(R1);
    t.reg.reconcile([{ replicaId: R1, endpoint: ep("moved") }], 1n);
    expect(t.reg.get(R1)).toBe(before);
    expect([before!.hasActiveSession(), before!.state, before!.endpoint.dataAddr]).toEqual([
      false,
      "disconnected",
      "moved",
    ]);
  });

  it("13. rebuild exclusivity both ways", () => {
    const r = rebuilding(10n);
    expect(() => r.s.beginCatchUp(r.id)).toThrow(/wrong_session_kind/);
    const c = catchingUp(0n, 10n);
    expect(() => c.s.selectRebuildSource(c.id, 0n, false, 10n)).toThrow(/wrong_session_kind/);
  });

  it("14. recoverability from retained history: tail 60, F 50 ⇒ needs_rebuild, no session", () => {
    const s = newSender();
    const id = s.attachSession(1n, "catchup");
    s.beginConnect(id);
    expect(s.recordHandshakeWithOutcome(id, makeHandshakeResult(history({ tailLsn: 60n }), 50n))).toBe(
      "needs_rebuild",
    );
    expect([s.state, s.sessionSnapshot()]).toEqual(["needs_rebuild", null]);
  });

  it("15. trusted base is causal: cp 50, tail 80 ⇒ full_base with a reason", () => {
    const d = decideRebuildSource(history({ checkpointLsn: 50n, checkpointTrusted: true, tailLsn: 80n }));
    expect(d.source).toBe("full_base");
    expect(d.reason).toMatch(/unreplayable_tail/);
  });

  it("16. tail replay needs the complete base: 30 < 50 rejected", () => {
    const r = rebuilding(100n);
    r.s.selectRebuildSource(r.id, 50n, true, 100n);
    r.s.beginRebuildTransfer(r.id);
    r.s.recordRebuildTransferProgress(r.id, 30n);
    expect(() => r.s.beginRebuildTailReplay(r.id)).toThrow(/base_incomplete/);
  });

  it("17. rebuild completion requires ReadyToComplete; full base records achieved ≥ target", () => {
    const r = rebuilding(100n);
    r.s.selectRebuildSource(r.id, 0n, false, 100n);
    r.s.beginRebuildTransfer(r.id);
    r.s.recordRebuildTransferProgress(r.id, 99n);
    expect(() => r.s.completeRebuild(r.id)).toThrow(/rebuild_not_ready/);
    r.s.recordRebuildTransferProgress(r.id, 130n);
    expect(r.s.completeRebuild(r.id)).toBe(130n);
  });

  it("18. budget escalation is explicit: duration 10, check at 15 ⇒ needs_rebuild", () => {
    const { s, id } = catchingUp(0n, 100n, budget({ maxDurationMs: 10 }), 1);
    expect(s.checkBudget(id, 15)).toBe("duration_exceeded");
    expect(s.state).toBe("needs_rebuild");
  });

  it("19. entries budget counts only the delta: 70 → 100 ok with 50, violated with 20", () => {
    for (const [max, expected] of [
      [50n, null],
      [20n, "entries_exceeded"],
    ] as const) {
      const { s, id } = catchingUp(70n, 100n, budget({ maxEntries: max }));
      s.recordCatchUpProgress(id, 100n);
      expect(s.checkBudget(id, 0)).toBe(expected);
    }
  });

  it("20. resource symmetry: pins back to 0 on success, failure and cancel", () => {
    for (const end of ["success", "failure", "cancel"] as const) {
      const t = orchestrated();
      assignBoth(t.o);
      const r = t.planner.planRecovery(R1, 70n);
      const exec = new CatchUpExecution(
        t.reg,
        t.o.log,
        requireCatchUpPlan(r.ok ? r.plan : (undefined as never)),
      );
      expect(t.port.count()).toBe(1);
      exec.start(1);
      if (end === "success") {
        exec.progress(100n, 2);
        exec.complete();
      } else if (end === "failure") exec.fail("io");
      else exec.cancel("op");
      expect(t.port.count()).toBe(0);
    }
  });

  it("21. no dangling session on planning failure: WAL pin fails ⇒ no active session", () => {
    const t = orchestrated();
    t.port.fail.wal = "x";
    assignBoth(t.o);
    expect(t.planner.planRecovery(R1, 70n).ok).toBe(false);
    expect(t.reg.get(R1)!.hasActiveSession()).toBe(false);
  });

  it("22. plan-bound execution: storage truth changing after planning is ignored", () => {
    const t = orchestrated(new FakeRetention({ tailLsn: 10n }));
    assignBoth(t.o);
    const r = t.planner.planRecovery(R1, 70n);
    t.port.history = history({ committedLsn: 130n, headLsn: 130n });
    const exec = new CatchUpExecution(
      t.reg,
      t.o.log,
      requireCatchUpPlan(r.ok ? r.plan : (undefined as never)),
    );
    exec.start(1);
    expect(t.reg.get(R1)!.sessionSnapshot()?.frozenTargetLsn).toBe(100n);
  });

  it("23. durable ≠ shipped: shipped 99 ⇒ durable 0", () => {
    const p = primaryCore().apply({ type: "diagnostic_shipped_advanced", shippedLsn: 99n }).projection;
    expect([p.boundary.durableLsn, p.publication.healthy]).toEqual([0n, false]);
  });

  it("24. publish_healthy needs barrier durability", () => {
    const core = primaryCore();
    core.apply({ type: "role_applied" });
    core.apply({ type: "shipper_configured_observed" });
    expect(core.apply({ type: "shipper_connected_observed" }).projection.publication.reason).toBe(
      "awaiting_barrier_durability",
    );
    expect(core.apply({ type: "barrier_accepted", flushedLsn: 12n }).projection.publication.healthy).toBe(
      true,
    );
  });

  it("25. a replica never publishes healthy, also after catch-up and rebuild completion", () => {
    const core = new VolumeCore(VOL);
    core.apply({
      type: "assignment_delivered",
      epoch: 1n,
      role: "replica",
      replicas: [{ replicaId: R1, endpoint: ep() }],
      recoveryTarget: null,
    });
    core.apply({ type: "role_applied" });
    core.apply({ type: "receiver_ready_observed" });
    core.apply({ type: "catchup_planned", targetLsn: 5n });
    const a = core.apply({ type: "catchup_completed", achievedLsn: 5n }).projection;
    const b = core.apply({
      type: "rebuild_committed",
      achievedLsn: 9n,
      flushedLsn: 9n,
      checkpointLsn: 9n,
    }).projection;
    for (const p of [a, b])
      expect([p.mode.name, p.publication.healthy, p.publication.reason]).toEqual([
        "replica_ready",
        false,
        "replica_not_primary",
      ]);
  });

  it("26. recovery in progress blocks readiness overclaim", () => {
    const core = primaryCore();
    const p = core.apply({ type: "catchup_planned", replicaId: R1, targetLsn: 10n }).projection;
    expect([p.mode.name, p.publication.reason]).toEqual(["bootstrap_pending", "recovery_in_progress"]);
    expect(
      core.apply({ type: "rebuild_started", replicaId: R1, targetLsn: 10n }).projection.publication.healthy,
    ).toBe(false);
  });

  it("27. fail-closed modes distinct: needs_rebuild outranks degraded outranks recovery", () => {
    const core = primaryCore();
    core.apply({ type: "catchup_planned", replicaId: R1, targetLsn: 10n });
    expect(core.apply({ type: "barrier_rejected", reason: "d" }).projection.mode).toMatchObject({
      name: "degraded",
      reason: "d",
    });
    core.apply({ type: "needs_rebuild_observed", replicaId: R1, reason: "n" });
    expect(core.apply({ type: "barrier_rejected", reason: "d2" }).projection.mode).toMatchObject({
      name: "needs_rebuild",
      reason: "n",
    });
  });

  it("28. multi-replica aggregate: r1 completes at 100, r2 not ⇒ durable 0, not healthy", () => {
    const core = primaryCore([R1, R2]);
    core.apply({ type: "catchup_planned", replicaId: R1, targetLsn: 100n });
    core.apply({ type: "catchup_planned", replicaId: R2, targetLsn: 100n });
    const p = core.apply({ type: "catchup_completed", replicaId: R1, achievedLsn: 100n }).projection;
    expect([p.boundary.durableLsn, p.publication.healthy]).toEqual([0n, false]);
  });

  it("29. command idempotence: same assignment twice ⇒ second result has zero commands", () => {
    const core = primaryCore();
    const again = core.apply({
      type: "assignment_delivered",
      epoch: 1n,
      role: "primary",
      replicas: [{ replicaId: R1, endpoint: ep(R1) }],
      recoveryTarget: "catchup",
    });
    expect(again.commands).toEqual([]);
    core.apply({ type: "committed_lsn_advanced", committedLsn: 4n });
    expect(core.apply({ type: "committed_lsn_advanced", committedLsn: 4n }).commands).toEqual([]);
  });

  it("30. invalidate only on a new failure transition", () => {
    const core = primaryCore();
    const first = core
      .apply({ type: "barrier_rejected", reason: "x" })
      .commands.filter((c) => c.type === "invalidate_session");
    const second = core
      .apply({ type: "barrier_rejected", reason: "x" })
      .commands.filter((c) => c.type === "invalidate_session");
    expect([first.length, second.length]).toEqual([1, 0]);
  });

  it("31. assignment change clears stale recovery truth and lets the same target start again", () => {
    const core = primaryCore();
    core.apply({ type: "catchup_planned", replicaId: R1, targetLsn: 90n });
    const p = core.apply({
      type: "assignment_delivered",
      epoch: 2n,
      role: "primary",
      replicas: [{ replicaId: R1, endpoint: ep(R1) }],
      recoveryTarget: "catchup",
    }).projection;
    expect(p.recovery).toEqual({ phase: "idle", targetLsn: 0n, achievedLsn: 0n, reason: "" });
    expect(
      core
        .apply({ type: "catchup_planned", replicaId: R1, targetLsn: 90n })
        .commands.some((c) => c.type === "start_catchup"),
    ).toBe(true);
  });

  it("32. live shipping gated while a recovery session is active; allowed after it leaves", () => {
    const t = orchestrated();
    assignBoth(t.o);
    const blocked = decideLiveShipping(deriveVolumeExecutionState(VOL, t.reg.snapshot()), R1, 1n);
    expect(blocked.allow).toBe(false);
    expect(blocked.reason).toMatch(/^active_catchup_session/);
    t.o.executeRecovery(R1, 100n, history());
    expect(decideLiveShipping(deriveVolumeExecutionState(VOL, t.reg.snapshot()), R1, 1n).allow).toBe(true);
  });

  it("33. pending plan must match the command: mismatch cancels the plan and invalidates the session", () => {
    const t = orchestrated();
    assignBoth(t.o);
    const r = t.planner.planRecovery(R1, 70n);
    const pending = new PendingPlans((plan, reason) => t.planner.cancelPlan(plan, reason));
    pending.store(VOL, r.ok ? r.plan : (undefined as never));
    expect(pending.takeCatchUp(VOL, R1, 99n)).toBeNull();
    expect([t.port.count(), t.reg.get(R1)!.hasActiveSession()]).toEqual([0, false]);
  });

  it("34. a sender's session is absent or active after every call", () => {
    const { s, id } = catchingUp(0n, 10n);
    const check = () => expect(s.sessionSnapshot() === null || s.sessionSnapshot()!.active).toBe(true);
    s.recordCatchUpProgress(id, 10n);
    check();
    s.completeSessionById(id);
    check();
    s.attachSession(1n, "catchup");
    s.invalidateSession("x", "disconnected");
    check();
    s.attachSession(1n, "catchup");
    s.stop();
    check();
  });
});
