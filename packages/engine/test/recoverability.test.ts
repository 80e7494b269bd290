// The pure decision functions of recoverability.ts; invariants 1, 2, 14, 15.
import { describe, expect, it } from "vitest";
import {
  checkBudget,
  classifyRecoveryOutcome,
  decideRebuildSource,
  elapsedMs,
  entriesDelta,
  isRecoverable,
  makeHandshakeResult,
  proveRecoverability,
  RebuildState,
  retentionStart,
  validateBudget,
} from "../src/index";
import { budget, history } from "./helpers";

describe("§8.2 recoverability", () => {
  it.each([
    ["GapWithinRetention (tail 30, F 50)", history({ tailLsn: 30n }), 50n, 100n, true],
    ["GapBeyondRetention (tail 60, F 50)", history({ tailLsn: 60n }), 50n, 100n, false],
    ["ExactBoundary (tail 50, F 50)", history({ tailLsn: 50n }), 50n, 100n, true],
    ["ExactBoundary (tail 50, F 49)", history({ tailLsn: 50n }), 49n, 100n, false],
    ["BeyondHead (head 80 < 100)", history({ headLsn: 80n }), 0n, 100n, false],
  ] as const)("26. %s", (_name, h, start, end, ok) => {
    expect(isRecoverable(h, start, end)).toBe(ok);
  });

  it.each([
    [
      "TrustedCheckpoint",
      history({ checkpointLsn: 50n, checkpointTrusted: true, tailLsn: 30n }),
      "snapshot_tail",
      50n,
      "trusted_checkpoint",
    ],
    ["NoCheckpoint", history({ checkpointTrusted: true }), "full_base", 0n, "no_checkpoint"],
    [
      "UnreplayableTail (tail 80)",
      history({ checkpointLsn: 50n, checkpointTrusted: true, tailLsn: 80n }),
      "full_base",
      0n,
      "trusted_checkpoint_unreplayable_tail: checkpoint=50, tail=80",
    ],
    [
      "cp40 tail60",
      history({ checkpointLsn: 40n, checkpointTrusted: true, tailLsn: 60n }),
      "full_base",
      0n,
      "trusted_checkpoint_unreplayable_tail: checkpoint=40, tail=60",
    ],
    [
      "Untrusted",
      history({ checkpointLsn: 50n, checkpointTrusted: false }),
      "full_base",
      0n,
      "untrusted_checkpoint",
    ],
  ] as const)("27. RebuildSource %s (invariant 15)", (_name, h, source, snap, reason) => {
    expect(decideRebuildSource(h)).toEqual({ source, snapshotLsn: snap, targetLsn: 100n, reason });
  });

  it("28. MakeHandshakeResult — tail 30 ⇒ retentionStart 31; F 70, C 90 ⇒ catchup", () => {
    const h = history({ tailLsn: 30n, committedLsn: 90n });
    const hs = makeHandshakeResult(h, 70n);
    expect(hs).toEqual({ replicaFlushedLsn: 70n, committedLsn: 90n, retentionStartLsn: 31n });
    expect(classifyRecoveryOutcome(hs)).toBe("catchup");
    expect(retentionStart(history())).toBe(0n);
  });

  it.each([
    [100n, true, "zero_gap"],
    [105n, false, "replica_ahead: durable 105 > committed 100 and no fork point known (no_common_history)"],
    [70n, true, "gap_within_retention: need LSN 71-100, tail=50, head=100"],
    [10n, false, "gap_beyond_retention: need LSN 11 but tail=50, head=100"],
  ] as const)("29. Proof reasons F=%s", (f, ok, reason) => {
    expect(proveRecoverability(history({ tailLsn: 50n }), f)).toEqual({ recoverable: ok, reason });
  });

  it.each([
    ["F == C", 100n, 0n, "zero_gap"],
    ["F ahead (105 > 100) is not zero-gap (no fork known ⇒ rebuild)", 105n, 0n, "needs_rebuild"],
    ["F behind (99)", 99n, 0n, "catchup"],
    ["nothing recycled", 0n, 0n, "catchup"],
    ["F + 1 == retentionStart", 50n, 51n, "catchup"],
    ["F + 1 < retentionStart", 49n, 51n, "needs_rebuild"],
  ] as const)("invariant 2: zero-gap is exact — %s", (_n, f, r, outcome) => {
    expect(classifyRecoveryOutcome({ replicaFlushedLsn: f, committedLsn: 100n, retentionStartLsn: r })).toBe(
      outcome,
    );
  });

  it("one decider: classify and proof agree, both ignore head (C ≤ head holds on a primary)", () => {
    const h = history({ headLsn: 80n, committedLsn: 100n });
    expect(classifyRecoveryOutcome(makeHandshakeResult(h, 70n))).toBe("catchup");
    expect(proveRecoverability(h, 70n).recoverable).toBe(true);
  });

  it("invariant 1: the handshake target is committed, never head", () => {
    const hs = makeHandshakeResult(history({ headLsn: 120n, committedLsn: 100n }), 70n);
    expect(hs.committedLsn).toBe(100n);
  });
});

describe("budgets (§3.5)", () => {
  const tracker = { startMs: 100, entriesReplayed: 0n, lastProgressMs: 100 };

  it("first violation wins in the order duration, entries, stall", () => {
    const all = budget({ maxDurationMs: 1, maxEntries: 1n, progressDeadlineMs: 1 });
    expect(checkBudget(all, { ...tracker, entriesReplayed: 5n }, 200)).toBe("duration_exceeded");
    expect(
      checkBudget(
        budget({ maxEntries: 1n, progressDeadlineMs: 1 }),
        { ...tracker, entriesReplayed: 5n },
        200,
      ),
    ).toBe("entries_exceeded");
    expect(checkBudget(budget({ progressDeadlineMs: 1 }), tracker, 200)).toBe("progress_stalled");
    expect(checkBudget(budget(), tracker, 1e12)).toBeNull();
  });

  it("REF-QUIRK decided: a clock that moved backwards is clamped, not a violation", () => {
    expect(elapsedMs(50, 100)).toBe(0);
    expect(checkBudget(budget({ maxDurationMs: 10, progressDeadlineMs: 10 }), tracker, 50)).toBeNull();
  });

  it("exact limits are not violations (strictly greater is)", () => {
    expect(checkBudget(budget({ maxDurationMs: 10 }), tracker, 110)).toBeNull();
    expect(checkBudget(budget({ maxDurationMs: 10 }), tracker, 111)).toBe("duration_exceeded");
  });

  it("validates budgets and counts entries as deltas", () => {
    expect(validateBudget(budget({ maxDurationMs: 5 }))).toBe(true);
    expect(validateBudget(budget({ maxDurationMs: -1 }))).toBe(false);
    expect(validateBudget(budget({ progressDeadlineMs: Number.NaN }))).toBe(false);
    expect(validateBudget(budget({ maxEntries: -1n }))).toBe(false);
    expect(entriesDelta(70n, 100n)).toBe(30n);
  });
});

describe("rebuild sub-FSM (§3.7)", () => {
  it("abort leaves completed alone and marks anything else aborted", () => {
    const r = new RebuildState();
    r.abort();
    expect(r.currentPhase).toBe("aborted");
    const done = new RebuildState();
    done.selectSource(0n, false, 5n);
    done.beginTransfer();
    done.recordTransferProgress(5n);
    done.complete();
    done.abort();
    expect(done.currentPhase).toBe("completed");
  });

  it("snapshot_tail is only ready in tail_replay with tail ≥ target; full_base only in transfer", () => {
    const r = new RebuildState();
    expect(r.readyToComplete()).toBe(false);
    r.selectSource(50n, true, 100n);
    r.beginTransfer();
    r.recordTransferProgress(120n);
    expect(r.readyToComplete()).toBe(false);
    r.beginTailReplay();
    r.recordTailProgress(100n);
    expect(r.readyToComplete()).toBe(true);
    expect(r.achievedLsn()).toBe(100n);
    expect(r.snapshot()).toMatchObject({ tailStartLsn: 50n, tailTargetLsn: 100n, transferredTo: 120n });
  });
});

describe("rebuild empty tail (decision)", () => {
  it("a trusted snapshot already at the target completes from transfer without a tail replay", () => {
    const r = new RebuildState();
    r.selectSource(100n, true, 100n);
    r.beginTransfer();
    r.recordTransferProgress(90n);
    expect(r.readyToComplete()).toBe(false);
    r.recordTransferProgress(100n);
    expect(r.readyToComplete()).toBe(true);
    expect(r.complete()).toBe(100n);
    expect(r.achievedLsn()).toBe(100n);
  });
});
