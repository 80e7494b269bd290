// Invariants 1–22: recovery boundaries, sessions, epochs, identity, rebuild, budgets
// and resources — one test per invariant with the spec's recipe (several also appear, in more depth,
// next to the scenario they belong to). Invariants 23–34 are in invariants-volume.test.ts.
import { describe, expect, it } from "vitest";
import {
  CatchUpExecution,
  classifyRecoveryOutcome,
  decideRebuildSource,
  makeHandshakeResult,
  requireCatchUpPlan,
} from "../src/index";
import { budget, catchingUp, ep, FakeRetention, history, newSender, rebuilding } from "./helpers";
import { assignBoth, orchestrated, R1, VOL } from "./invariants-fixtures";

describe("§7 invariants", () => {
  it("1. committed is the truth boundary: head 120, committed 100, F 70 ⇒ target 100", () => {
    const t = orchestrated(new FakeRetention({ headLsn: 120n, committedLsn: 100n }));
    assignBoth(t.o);
    const r = t.planner.planRecovery(R1, 70n);
    expect(r.ok && requireCatchUpPlan(r.plan).targetLsn).toBe(100n);
  });

  it("2. zero-gap is exact: F=105 ⇒ needs_rebuild (ahead, no fork known), F=99 ⇒ catchup, F=100 ⇒ zero_gap", () => {
    const out = [105n, 99n, 100n].map((f) => classifyRecoveryOutcome(makeHandshakeResult(history(), f)));
    expect(out).toEqual(["needs_rebuild", "catchup", "zero_gap"]);
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

  it("6. a replica ahead is never cut back: F=105 without a fork ⇒ session ends, needs_rebuild", () => {
    const s = newSender();
    const id = s.attachSession(1n, "catchup");
    s.beginConnect(id);
    expect(s.recordHandshakeWithOutcome(id, makeHandshakeResult(history(), 105n))).toBe("needs_rebuild");
    expect(s.completeSessionById(id)).toBe(false);
    expect([s.state, s.sessionId]).toEqual(["needs_rebuild", 0]);
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
});
