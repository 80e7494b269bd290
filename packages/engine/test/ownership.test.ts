// Sender-level scenarios and invariants 3–8, 11, 13, 16–19, 34.
import { describe, expect, it } from "vitest";
import { makeHandshakeResult, ProtocolError, SessionIdSource } from "../src/index";
import { budget, catchingUp, ep, history, newSender, rebuilding } from "./helpers";

describe("§8.1 sender/session ownership", () => {
  it("2. ChangedCtrlAddr_InvalidatesSession", () => {
    const { s } = catchingUp(0n, 50n);
    s.updateEndpoint(ep("10.0.0.2:9000", "10.0.0.2:7777"));
    expect(s.hasActiveSession()).toBe(false);
    expect(s.state).toBe("disconnected");
  });

  it("3. StaleSessionID_RejectedAtAllAPIs", () => {
    const s = newSender();
    const old = s.attachSession(1n, "catchup");
    s.updateEpoch(2n);
    const fresh = s.attachSession(2n, "catchup");
    expect(() => s.beginConnect(old)).toThrow(/session_id_mismatch/);
    expect(() => s.recordHandshake(old, 0n, 10n)).toThrow(ProtocolError);
    expect(() => s.recordHandshakeWithOutcome(old, makeHandshakeResult(history(), 0n))).toThrow(
      ProtocolError,
    );
    expect(() => s.beginCatchUp(old)).toThrow(ProtocolError);
    expect(() => s.recordCatchUpProgress(old, 1n)).toThrow(ProtocolError);
    expect(() => s.beginResync(old)).toThrow(ProtocolError);
    expect(() => s.recordResyncProgress(old, 1, 1n)).toThrow(ProtocolError);
    expect(() => s.commitResync(old, 1n, 1n, 1)).toThrow(ProtocolError);
    expect(() => s.checkBudget(old, 1)).toThrow(ProtocolError);
    expect(s.completeSessionById(old)).toBe(false);
    expect(s.sessionSnapshot()).toMatchObject({ id: fresh, active: true, phase: "init" });
  });

  it("4. StaleCompletion_AfterSupersede", () => {
    const s = newSender();
    const old = s.attachSession(1n, "catchup");
    const fresh = s.supersedeSession("catchup", "assignment_intent");
    expect(s.completeSessionById(old)).toBe(false);
    expect(s.sessionSnapshot()).toMatchObject({ id: fresh, active: true });
  });

  it("7. Rebuild_CatchUpAPIs_Rejected (invariant 13)", () => {
    const { s, id } = rebuilding(100n);
    expect(() => s.beginCatchUp(id)).toThrow(/wrong_session_kind/);
    expect(() => s.recordCatchUpProgress(id, 1n)).toThrow(/wrong_session_kind/);
    expect(s.completeSessionById(id)).toBe(false);
    const c = catchingUp(0n, 10n);
    expect(() => c.s.selectRebuildSource(c.id, 5n, true, 10n)).toThrow(/wrong_session_kind/);
  });

  it("8/23. Rebuild_FullLifecycle / Rebuild_SnapshotTailLifecycle — snapshot 50 → tail 100 ⇒ in_sync", () => {
    const { s, id } = rebuilding(100n);
    s.selectRebuildSource(id, 50n, true, 100n);
    expect(s.sessionSnapshot()?.rebuild).toMatchObject({ source: "snapshot_tail", phase: "source_select" });
    s.beginRebuildTransfer(id);
    s.recordRebuildTransferProgress(id, 50n);
    s.beginRebuildTailReplay(id);
    s.recordRebuildTailProgress(id, 100n);
    expect(s.completeRebuild(id)).toBe(100n);
    expect(s.state).toBe("in_sync");
  });

  it("23. Rebuild_FullBaseLifecycle — full base may exceed the target (T16)", () => {
    const { s, id } = rebuilding(100n);
    s.selectRebuildSource(id, 0n, false, 100n);
    s.beginRebuildTransfer(id);
    s.recordRebuildTransferProgress(id, 60n);
    expect(() => s.completeRebuild(id)).toThrow(/rebuild_not_ready/);
    s.recordRebuildTransferProgress(id, 104n);
    expect(s.completeRebuild(id)).toBe(104n);
    expect(s.state).toBe("in_sync");
  });

  it("9. FrozenTarget_RejectsChase (invariant 3)", () => {
    const { s, id } = catchingUp(0n, 50n);
    expect(() => s.recordCatchUpProgress(id, 51n)).toThrow(/exceeds_frozen_target/);
    s.recordCatchUpProgress(id, 50n);
  });

  it("10. BudgetViolation_Escalates (invariant 18)", () => {
    const { s, id } = catchingUp(0n, 50n, budget({ maxDurationMs: 5 }));
    expect(s.checkBudget(id, 10)).toBe("duration_exceeded");
    expect(s.state).toBe("needs_rebuild");
    expect(s.hasActiveSession()).toBe(false);
  });

  it("11. Encapsulation_SnapshotIsReadOnly", () => {
    const { s } = catchingUp(0n, 50n);
    const snap = s.sessionSnapshot();
    expect(Object.isFrozen(snap)).toBe(true);
    expect(() => {
      (snap as unknown as { targetLsn: bigint }).targetLsn = 999n;
    }).toThrow(TypeError);
    expect(s.sessionSnapshot()?.targetLsn).toBe(50n);
  });

  it("13. ZeroGap_FastComplete", () => {
    const s = newSender();
    const id = s.attachSession(1n, "catchup");
    s.beginConnect(id);
    expect(s.recordHandshakeWithOutcome(id, makeHandshakeResult(history(), 100n))).toBe("zero_gap");
    expect(s.completeSessionById(id)).toBe(true);
    expect(s.state).toBe("in_sync");
  });

  it("14. CatchUp_FullExecution — 70 → 85 → 100 ⇒ in_sync", () => {
    const { s, id } = catchingUp(70n, 100n);
    s.recordCatchUpProgress(id, 85n);
    s.recordCatchUpProgress(id, 100n);
    expect(s.completeSessionById(id)).toBe(true);
    expect(s.state).toBe("in_sync");
  });

  it("15. NeedsRebuild_Escalation — F 10 < R 50 (invariant 14)", () => {
    const s = newSender();
    const id = s.attachSession(1n, "catchup");
    s.beginConnect(id);
    const outcome = s.recordHandshakeWithOutcome(id, makeHandshakeResult(history({ tailLsn: 49n }), 10n));
    expect(outcome).toBe("needs_rebuild");
    expect(s.state).toBe("needs_rebuild");
    expect(s.sessionSnapshot()).toBeNull();
  });

  it("16. StaleID_DuringCatchUp — epoch bump mid catch-up", () => {
    const { s, id } = catchingUp(0n, 50n);
    s.recordCatchUpProgress(id, 10n);
    s.updateEpoch(2n);
    expect(() => s.recordCatchUpProgress(id, 20n)).toThrow(/no_active_session/);
    const fresh = s.attachSession(2n, "catchup");
    s.beginConnect(fresh);
    s.recordHandshake(fresh, 10n, 50n);
    s.beginCatchUp(fresh);
    s.recordCatchUpProgress(fresh, 50n);
    expect(s.completeSessionById(fresh)).toBe(true);
  });

  it("17. EndpointChange_DuringCatchUp — progress rejected, disconnected", () => {
    const { s, id } = catchingUp(0n, 50n);
    s.updateEndpoint(ep("elsewhere:1"));
    expect(() => s.recordCatchUpProgress(id, 1n)).toThrow(ProtocolError);
    expect(s.state).toBe("disconnected");
  });

  it("18. FrozenTarget_ExactBoundary", () => {
    const { s, id } = catchingUp(0n, 50n);
    s.recordCatchUpProgress(id, 50n);
    expect(() => s.recordCatchUpProgress(id, 51n)).toThrow(/exceeds_frozen_target/);
  });

  it.each([
    ["duration", budget({ maxDurationMs: 5 }), [], 10, "duration_exceeded"],
    ["entries (21 > 20)", budget({ maxEntries: 20n }), [[21n, 2]], 3, "entries_exceeded"],
    ["stall (18 − 12 > 5)", budget({ progressDeadlineMs: 5 }), [[10n, 12]], 18, "progress_stalled"],
  ] as const)("19. Budget %s escalates", (_name, b, steps, checkAt, violation) => {
    const { s, id } = catchingUp(0n, 100n, b, 1);
    for (const [lsn, at] of steps) s.recordCatchUpProgress(id, lsn, at);
    expect(s.checkBudget(id, checkAt)).toBe(violation);
    expect(s.state).toBe("needs_rebuild");
  });

  it("19b. stall budget within deadline and disabled while no timestamped progress", () => {
    const { s, id } = catchingUp(0n, 100n, budget({ progressDeadlineMs: 5 }), 0);
    expect(s.checkBudget(id, 1000)).toBeNull();
    expect(() => s.recordCatchUpProgress(id, 5n)).toThrow(/tick_required/);
    s.recordCatchUpProgress(id, 5n, 10);
    expect(s.checkBudget(id, 15)).toBeNull();
  });

  it.each([
    [50n, null],
    [20n, "entries_exceeded"],
  ] as const)(
    "20. BudgetEntries_NonZeroStart_CountsOnlyDelta (70 → 100, max %s) (invariant 19)",
    (max, expected) => {
      const { s, id } = catchingUp(70n, 100n, budget({ maxEntries: max }));
      s.recordCatchUpProgress(id, 100n);
      expect(s.sessionSnapshot()?.tracker.entriesReplayed ?? 30n).toBe(30n);
      expect(s.checkBudget(id, 1)).toBe(expected);
    },
  );

  it("21. Rebuild_PartialTransfer_BlocksTailReplay (invariant 16)", () => {
    const { s, id } = rebuilding(100n);
    s.selectRebuildSource(id, 50n, true, 100n);
    s.beginRebuildTransfer(id);
    s.recordRebuildTransferProgress(id, 30n);
    expect(() => s.beginRebuildTailReplay(id)).toThrow(/base_incomplete/);
    s.recordRebuildTransferProgress(id, 50n);
    s.beginRebuildTailReplay(id);
    expect(s.sessionSnapshot()?.rebuild?.phase).toBe("tail_replay");
  });

  it("22. CompletionBeforeConvergence_Rejected (invariant 5)", () => {
    const { s, id } = catchingUp(0n, 100n);
    s.recordCatchUpProgress(id, 50n);
    expect(s.completeSessionById(id)).toBe(false);
    expect(s.hasActiveSession()).toBe(true);
  });

  it("24. Rebuild_StaleIDRejected", () => {
    const { s, id } = rebuilding(100n);
    s.updateEpoch(2n);
    s.attachSession(2n, "rebuild");
    expect(() => s.selectRebuildSource(id, 50n, true, 100n)).toThrow(/session_id_mismatch/);
  });

  it("invariant 4: progress strictly increases (30 then 30 fails)", () => {
    const { s, id } = catchingUp(0n, 100n);
    s.recordCatchUpProgress(id, 30n);
    expect(() => s.recordCatchUpProgress(id, 30n)).toThrow(/progress_regression/);
    expect(() => s.recordCatchUpProgress(id, 29n)).toThrow(/progress_regression/);
  });

  it("invariant 6: a replica ahead is not cut back (F=105, C=100, no fork known) ⇒ needs_rebuild", () => {
    const s = newSender();
    const id = s.attachSession(1n, "catchup");
    s.beginConnect(id);
    expect(s.recordHandshakeWithOutcome(id, makeHandshakeResult(history(), 105n))).toBe("needs_rebuild");
    expect(s.completeSessionById(id)).toBe(false);
  });

  it("invariant 8: attach while active errors", () => {
    const s = newSender();
    s.attachSession(1n, "catchup");
    expect(() => s.attachSession(1n, "catchup")).toThrow(/session_already_active/);
  });

  it("catch-up with target 0 never converges in catchup", () => {
    const s = newSender();
    const id = s.attachSession(1n, "catchup");
    s.beginConnect(id);
    s.recordHandshake(id, 0n, 0n);
    s.beginCatchUp(id);
    expect(s.completeSessionById(id)).toBe(false);
  });

  it("rebuild steps out of order are rejected", () => {
    const { s, id } = rebuilding(100n);
    expect(() => s.beginRebuildTransfer(id)).toThrow(/invalid_phase/);
    expect(() => s.recordRebuildTransferProgress(id, 1n)).toThrow(/invalid_phase/);
    expect(() => s.recordRebuildTailProgress(id, 1n)).toThrow(/invalid_phase/);
    s.selectRebuildSource(id, 0n, true, 100n);
    expect(() => s.selectRebuildSource(id, 0n, true, 100n)).toThrow(/invalid_phase/);
    s.beginRebuildTransfer(id);
    s.recordRebuildTransferProgress(id, 10n);
    expect(() => s.recordRebuildTransferProgress(id, 10n)).toThrow(/progress_regression/);
    expect(() => s.beginRebuildTailReplay(id)).toThrow(/snapshot_tail/);
    const fresh = newSender("x", 1n, new SessionIdSource());
    const rid = fresh.attachSession(1n, "rebuild");
    expect(() => fresh.selectRebuildSource(rid, 0n, false, 1n)).toThrow(/invalid_phase/);
  });

  it("tail progress must strictly increase", () => {
    const { s, id } = rebuilding(100n);
    s.selectRebuildFromHistory(id, history({ checkpointLsn: 50n, checkpointTrusted: true, tailLsn: 30n }));
    s.beginRebuildTransfer(id);
    s.recordRebuildTransferProgress(id, 50n);
    s.beginRebuildTailReplay(id);
    s.recordRebuildTailProgress(id, 80n);
    expect(() => s.recordRebuildTailProgress(id, 80n)).toThrow(/progress_regression/);
    expect(() => s.completeRebuild(id)).toThrow(/rebuild_not_ready/);
  });
});
