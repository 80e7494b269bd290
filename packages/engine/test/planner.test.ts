// Driver (planner), executors and validation; invariants 1, 20–22 and the
// "a failed catch-up ends its session" decision.
import { describe, expect, it } from "vitest";
import { requireCatchUpPlan, requireResyncPlan } from "../src/index";
import { ep } from "./helpers";
import { catchUpExec, R1, rebuildExec, setup, VOL } from "./planner-fixtures";

describe("§8.4 planner", () => {
  it("42. PlanRecovery_CatchUp — 1 WAL pin, target 100; release ⇒ 0 pins", () => {
    const t = setup();
    const { plan } = catchUpExec(t, 70n);
    expect(t.port.count("wal")).toBe(1);
    expect([plan.startLsn, plan.targetLsn, plan.proof.recoverable]).toEqual([70n, 100n, true]);
    t.planner.cancelPlan(plan, "test");
    expect(t.port.count()).toBe(0);
  });

  it("invariant 1: plan target is committed (100), never head (120)", () => {
    const t = setup({ headLsn: 120n, committedLsn: 100n });
    expect(catchUpExec(t, 70n).plan.targetLsn).toBe(100n);
  });

  it("43. PlanRecovery_ZeroGap — no pins, already in_sync", () => {
    const t = setup();
    const r = t.planner.planRecovery(R1, 100n);
    expect(r.ok && r.plan.kind).toBe("zero_gap");
    expect(t.port.count()).toBe(0);
    expect(t.sender.state).toBe("in_sync");
    expect(() => requireCatchUpPlan(r.ok ? r.plan : (undefined as never))).toThrow(/wrong_session_kind/);
  });

  it("44. PlanRecovery_NeedsRebuild_ThenRebuild — tail 60, cp 50 ⇒ full_base ⇒ in_sync", () => {
    const t = setup({ tailLsn: 60n, checkpointLsn: 50n, checkpointTrusted: true });
    const r = t.planner.planRecovery(R1, 30n);
    expect(r.ok && r.plan.kind).toBe("needs_rebuild");
    expect(t.sender.state).toBe("needs_rebuild");
    t.o.processAssignment({
      volumeId: VOL,
      epoch: 1n,
      replicas: [{ replicaId: R1, endpoint: ep() }],
      recoveryTargets: { [R1]: "rebuild" },
    });
    const { plan, exec } = rebuildExec(t);
    expect(plan.source).toBe("full_base");
    exec.start();
    exec.transferProgress(100n);
    expect(exec.complete().status).toBe("completed");
    expect(t.sender.state).toBe("in_sync");
    expect(t.port.count()).toBe(0);
  });

  it("45. WALPinFailure_CleansUpSession (invariant 21)", () => {
    const t = setup();
    t.port.fail.wal = "retention full";
    const r = t.planner.planRecovery(R1, 70n);
    expect(r.ok).toBe(false);
    expect(t.o.log.has("wal_pin_failed")).toBe(true);
    expect(t.sender.hasActiveSession()).toBe(false);
    expect(t.sender.state).toBe("disconnected");
  });

  it("46. PlanRebuild_SnapshotPinFailure", () => {
    const t = setup({ tailLsn: 30n, checkpointLsn: 50n, checkpointTrusted: true }, "rebuild");
    t.port.fail.snapshot = "gone";
    expect(t.planner.planRebuild(R1).ok).toBe(false);
    expect(t.o.log.has("snapshot_pin_failed")).toBe(true);
    expect(t.sender.state).toBe("needs_rebuild");
    expect(t.sender.hasActiveSession()).toBe(false);
  });

  it("47. ReplicaAhead_NoTruncation_NoWALPin: needs_rebuild without facts, resync with them", () => {
    const t = setup();
    const r = t.planner.planRecovery(R1, 105n);
    expect(r.ok && r.plan.kind).toBe("needs_rebuild");
    expect(t.port.count()).toBe(0);
    const u = setup();
    const facts = {
      forkLsn: 100n,
      replicaHeadLsn: 105n,
      primaryChangeBaseLsn: 0n,
      replicaChangeBaseLsn: 0n,
      replicaResyncPending: false,
    };
    const p = u.planner.planRecovery(R1, 105n, undefined, facts);
    expect(p.ok && requireResyncPlan(p.plan)).toMatchObject({
      kind: "resync",
      forkLsn: 100n,
      targetLsn: 100n,
    });
    expect(u.port.count()).toBe(0);
    expect(u.o.log.has("plan_resync")).toBe(true);
    expect(() => requireResyncPlan(r.ok ? r.plan : p.ok ? p.plan : (undefined as never))).toThrow(
      /wrong_session_kind/,
    );
  });

  it("48. PlanRebuild_MissingSender / _NoSession / _NonRebuildSession", () => {
    const t = setup();
    expect(t.planner.planRebuild("vol1/nobody")).toEqual({ ok: false, error: "unknown_replica" });
    expect(t.planner.planRebuild(R1)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/wrong_session_kind/),
    });
    t.sender.invalidateSession("x", "disconnected");
    expect(t.planner.planRebuild(R1)).toEqual({ ok: false, error: "no_active_session" });
    expect(t.port.count()).toBe(0);
  });

  it("49. PlanRebuild_FullBase_PinsBaseImage / _PinFailure", () => {
    const t = setup({}, "rebuild");
    const { plan } = rebuildExec(t);
    expect(t.port.count("full_base")).toBe(1);
    t.planner.cancelPlan(plan, "done");
    expect(t.port.count()).toBe(0);
    const f = setup({}, "rebuild");
    f.port.fail.full_base = "no space";
    expect(f.planner.planRebuild(R1).ok).toBe(false);
    expect(f.o.log.has("full_base_pin_failed")).toBe(true);
  });

  it("50. CrossLayer_StorageProvesRecoverability — F 60 ok; source full_base (cp 40 < tail 50)", () => {
    const t = setup({ tailLsn: 50n, checkpointLsn: 40n, checkpointTrusted: true });
    const { plan } = catchUpExec(t, 60n);
    expect(plan.proof.recoverable).toBe(true);
    const r = setup({ tailLsn: 50n, checkpointLsn: 40n, checkpointTrusted: true }, "rebuild");
    expect(rebuildExec(r).plan.source).toBe("full_base");
  });

  it("60. P3_E2 RebuildWALPinFailure — snapshot released, needs_rebuild, no session", () => {
    const t = setup({ tailLsn: 30n, checkpointLsn: 50n, checkpointTrusted: true }, "rebuild");
    t.port.fail.wal = "full";
    expect(t.planner.planRebuild(R1).ok).toBe(false);
    expect(t.port.count()).toBe(0);
    expect(t.port.releases).toHaveLength(1);
    expect(t.sender.state).toBe("needs_rebuild");
    expect(t.o.log.has("wal_pin_failed_during_rebuild")).toBe(true);
  });

  it("61. P3_E3 TrustedBaseUnreplayableTail — full_base pin, no snapshot pin, reason logged", () => {
    const t = setup({ tailLsn: 80n, checkpointLsn: 50n, checkpointTrusted: true }, "rebuild");
    const { exec } = rebuildExec(t);
    expect([t.port.count("full_base"), t.port.count("snapshot")]).toEqual([1, 0]);
    expect(t.o.log.all().find((e) => e.event === "plan_rebuild_full_base")?.detail).toMatch(
      /unreplayable_tail/,
    );
    exec.start();
    exec.transferProgress(100n);
    expect(exec.complete().status).toBe("completed");
  });

  it("62. P3_E4 FullBasePinFails / UntrustedCheckpoint_FullBase_Success", () => {
    const a = setup({ checkpointLsn: 50n }, "rebuild");
    a.port.fail.full_base = "x";
    expect(a.planner.planRebuild(R1).ok).toBe(false);
    expect([a.sender.state, a.sender.hasActiveSession()]).toEqual(["needs_rebuild", false]);
    const b = setup({ checkpointLsn: 50n, checkpointTrusted: false }, "rebuild");
    const { plan, exec } = rebuildExec(b);
    expect(plan.source).toBe("full_base");
    exec.start();
    exec.transferProgress(100n);
    expect(exec.complete().achievedLsn).toBe(100n);
  });

  it("cancelPlan of an outdated plan does not touch the newer session", () => {
    const t = setup();
    const { plan } = catchUpExec(t, 70n);
    const newer = t.o.startRecovery(R1, "catchup");
    t.planner.cancelPlan(plan, "late");
    expect(t.sender.sessionId).toBe(newer);
    expect(t.sender.hasActiveSession()).toBe(true);
  });
});
