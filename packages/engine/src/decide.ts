// The one recovery decider: from the handshake facts, exactly one plan per replica. Pure.
//
// Facts: F = the replica's durable LSN, C = the primary's committed LSN, T = the primary's recycled
// boundary (LSNs ≤ T are gone, 0 = nothing recycled). The optional `resync` facts come from the
// histories the handshake exchanged: the fork point (the highest LSN at which both copies hold the
// same record), the replica's head, and both copies' change-tracking bases.
//
//   in sync     F == C, no resync pending, not diverged
//   catch-up    the gap (F, C] is still in the WAL (T == 0 or F ≥ T), no resync pending, not diverged
//   resync      a resync is pending on the replica, or the gap is not retained, or the replica
//               diverged (fork < replica head, which includes F > C) — provided both copies know what
//               they changed since the fork: primary base ≤ fork, and (not diverged, or the replica
//               tracks changes with base ≤ fork)
//   rebuild     only otherwise: no common history, or changes since the fork nobody tracked
//
// Without resync facts (an old peer) the decider behaves as the WAL-only protocol did, except that a
// replica ahead of C is never cut back: with no fork point known it needs a rebuild.
import type { Lsn } from "./types";

export interface ResyncFacts {
  /** Highest LSN at which both copies hold the same record; undefined = no common history. */
  readonly forkLsn: Lsn | undefined;
  /** The replica's highest LSN (its log may hold records past its durable LSN). */
  readonly replicaHeadLsn: Lsn;
  /** The primary's change-tracking base: it knows every block it changed after this LSN. */
  readonly primaryChangeBaseLsn: Lsn;
  /** The replica's change-tracking base; undefined = the replica tracks no changes. */
  readonly replicaChangeBaseLsn: Lsn | undefined;
  /** The replica holds an unfinished resync (its image is not consistent until one commits). */
  readonly replicaResyncPending: boolean;
}

export interface RecoveryFacts {
  /** F: the replica's real durable LSN, from the handshake. */
  readonly replicaDurableLsn: Lsn;
  /** C: the primary's committed (lineage-safe) LSN. */
  readonly committedLsn: Lsn;
  /** T: LSNs ≤ tailLsn were recycled from the primary's WAL; 0 = none. */
  readonly tailLsn: Lsn;
  /** The primary's head, only for the explanation. */
  readonly headLsn?: Lsn;
  readonly resync?: ResyncFacts;
}

export type RecoveryDecision =
  /** The replica holds exactly C (= lsn). */
  | { readonly kind: "zero_gap"; readonly lsn: Lsn; readonly reason: string }
  /** Replay (startLsn, targetLsn] from the WAL; targetLsn is frozen when the catch-up starts. */
  | { readonly kind: "catchup"; readonly startLsn: Lsn; readonly targetLsn: Lsn; readonly reason: string }
  /** Send the blocks changed since forkLsn on either side, then catch up from the resync's base. */
  | { readonly kind: "resync"; readonly forkLsn: Lsn; readonly reason: string }
  | { readonly kind: "needs_rebuild"; readonly reason: string };

export type RecoveryDecisionKind = RecoveryDecision["kind"];

/** The gap (F, C] is still in the primary's WAL. */
export function gapRetained(facts: RecoveryFacts): boolean {
  return facts.tailLsn === 0n || facts.replicaDurableLsn >= facts.tailLsn;
}

function headText(facts: RecoveryFacts): string {
  return facts.headLsn === undefined ? "" : `, head=${facts.headLsn}`;
}

/** Today's WAL-only decision, for peers that send no resync facts. */
function decideWithoutResyncFacts(facts: RecoveryFacts): RecoveryDecision {
  const f = facts.replicaDurableLsn;
  const c = facts.committedLsn;
  if (f === c) return { kind: "zero_gap", lsn: c, reason: "zero_gap" };
  if (f > c) {
    return {
      kind: "needs_rebuild",
      reason: `replica_ahead: durable ${f} > committed ${c} and no fork point known (no_common_history)`,
    };
  }
  if (gapRetained(facts)) {
    return {
      kind: "catchup",
      startLsn: f,
      targetLsn: c,
      reason: `gap_within_retention: need LSN ${f + 1n}-${c}, tail=${facts.tailLsn}${headText(facts)}`,
    };
  }
  return {
    kind: "needs_rebuild",
    reason: `gap_beyond_retention: need LSN ${f + 1n} but tail=${facts.tailLsn}${headText(facts)}`,
  };
}

/** Why the replica cannot simply replay the WAL (pending, diverged or recycled), for the reason text. */
function resyncCause(facts: RecoveryFacts, r: ResyncFacts, diverged: boolean): string {
  if (r.replicaResyncPending) return "resync_pending";
  if (diverged) {
    return facts.replicaDurableLsn > facts.committedLsn
      ? `replica_ahead: durable ${facts.replicaDurableLsn} > committed ${facts.committedLsn}`
      : `diverged: replica head ${r.replicaHeadLsn} > fork ${r.forkLsn}`;
  }
  return `gap_beyond_retention: need LSN ${facts.replicaDurableLsn + 1n} but tail=${facts.tailLsn}`;
}

export function decideRecovery(facts: RecoveryFacts): RecoveryDecision {
  const r = facts.resync;
  if (r === undefined) return decideWithoutResyncFacts(facts);
  const f = facts.replicaDurableLsn;
  const c = facts.committedLsn;
  const fork = r.forkLsn;
  const diverged = fork === undefined || fork < r.replicaHeadLsn || f > c;
  if (!r.replicaResyncPending && !diverged) {
    if (f === c) return { kind: "zero_gap", lsn: c, reason: "zero_gap" };
    if (gapRetained(facts)) return decideWithoutResyncFacts(facts);
  }
  const cause = resyncCause(facts, r, diverged);
  if (fork === undefined) return { kind: "needs_rebuild", reason: `no_common_history: ${cause}` };
  if (r.primaryChangeBaseLsn > fork) {
    return {
      kind: "needs_rebuild",
      reason: `untracked_changes: primary base ${r.primaryChangeBaseLsn} > fork ${fork} (${cause})`,
    };
  }
  if (diverged && r.replicaChangeBaseLsn === undefined) {
    return { kind: "needs_rebuild", reason: `untracked_changes: replica tracks no changes (${cause})` };
  }
  if (diverged && r.replicaChangeBaseLsn !== undefined && r.replicaChangeBaseLsn > fork) {
    return {
      kind: "needs_rebuild",
      reason: `untracked_changes: replica base ${r.replicaChangeBaseLsn} > fork ${fork} (${cause})`,
    };
  }
  return { kind: "resync", forkLsn: fork, reason: `resync from fork ${fork}: ${cause}` };
}

/**
 * The reason a needs_rebuild plan ends its session with. A WAL gap keeps the historical
 * `gap_exceeds_retention`; the other verdicts (no common history, untracked changes) say exactly why.
 */
export function needsRebuildSessionReason(decisionReason: string): string {
  return decisionReason.startsWith("gap_beyond_retention") ? "gap_exceeds_retention" : decisionReason;
}
