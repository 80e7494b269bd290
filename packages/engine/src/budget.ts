// Catch-up budgets: a catch-up that cannot converge escalates to needs_rebuild
// explicitly instead of chasing the head forever. Time is an input (`nowMs`), never read here.
import type { Lsn, TimeMs } from "./types";

/** 0 in any dimension means unlimited in that dimension. */
export interface CatchUpBudget {
  readonly maxDurationMs: TimeMs;
  readonly maxEntries: bigint;
  readonly progressDeadlineMs: TimeMs;
}

export interface BudgetTracker {
  readonly startMs: TimeMs;
  readonly entriesReplayed: bigint;
  /** 0 = no timestamped progress yet, which disables stall detection. */
  readonly lastProgressMs: TimeMs;
}

export type BudgetViolation = "duration_exceeded" | "entries_exceeded" | "progress_stalled";

export const UNLIMITED_BUDGET: CatchUpBudget = { maxDurationMs: 0, maxEntries: 0n, progressDeadlineMs: 0 };

/**
 * Elapsed time, clamped at 0. REF-QUIRK decision: the reference subtracts unsigned ticks, so a clock
 * that moved backwards "wraps" into an instant violation; a backwards clock proves nothing about the
 * replica, so we treat it as no time having passed.
 */
export function elapsedMs(nowMs: TimeMs, sinceMs: TimeMs): TimeMs {
  return nowMs > sinceMs ? nowMs - sinceMs : 0;
}

/** First violation in the order duration, entries, stall; null when within budget. */
export function checkBudget(
  budget: CatchUpBudget,
  tracker: BudgetTracker,
  nowMs: TimeMs,
): BudgetViolation | null {
  if (budget.maxDurationMs > 0 && elapsedMs(nowMs, tracker.startMs) > budget.maxDurationMs) {
    return "duration_exceeded";
  }
  if (budget.maxEntries > 0n && tracker.entriesReplayed > budget.maxEntries) return "entries_exceeded";
  if (
    budget.progressDeadlineMs > 0 &&
    tracker.lastProgressMs > 0 &&
    elapsedMs(nowMs, tracker.lastProgressMs) > budget.progressDeadlineMs
  ) {
    return "progress_stalled";
  }
  return null;
}

export function validateBudget(budget: CatchUpBudget): boolean {
  return (
    Number.isFinite(budget.maxDurationMs) &&
    budget.maxDurationMs >= 0 &&
    Number.isFinite(budget.progressDeadlineMs) &&
    budget.progressDeadlineMs >= 0 &&
    budget.maxEntries >= 0n
  );
}

/** Entries are counted as the delta from the replica's own start, not from LSN 0. */
export function entriesDelta(previous: Lsn, next: Lsn): bigint {
  return next - previous;
}
