// Recovery decisions from the primary's retained WAL history (engine-spec §4). Pure functions.
import type { Lsn, RebuildSource, RecoveryOutcome } from "./types";

export interface RetainedHistory {
  /** Highest LSN in the primary WAL. */
  readonly headLsn: Lsn;
  /** Recycled boundary (exclusive): LSNs <= tail are gone. 0 = nothing recycled. */
  readonly tailLsn: Lsn;
  /** Lineage-safe boundary; every recovery target is phrased against it, never against head. */
  readonly committedLsn: Lsn;
  /** Highest LSN with a durable base image. */
  readonly checkpointLsn: Lsn;
  readonly checkpointTrusted: boolean;
}

export interface HandshakeResult {
  /** The replica's real durable LSN, reported by the replica in the handshake. */
  readonly replicaFlushedLsn: Lsn;
  readonly committedLsn: Lsn;
  /** First LSN still in the WAL (tail + 1), or 0 when nothing has been recycled. */
  readonly retentionStartLsn: Lsn;
}

export interface RecoverabilityProof {
  readonly recoverable: boolean;
  readonly reason: string;
}

export interface RebuildSourceDecision {
  readonly source: RebuildSource;
  readonly snapshotLsn: Lsn;
  readonly targetLsn: Lsn;
  /** Why this source (for full_base: the causal reason the snapshot could not be used). */
  readonly reason: string;
}

export function retentionStart(history: RetainedHistory): Lsn {
  return history.tailLsn === 0n ? 0n : history.tailLsn + 1n;
}

export function makeHandshakeResult(history: RetainedHistory, replicaFlushedLsn: Lsn): HandshakeResult {
  return {
    replicaFlushedLsn,
    committedLsn: history.committedLsn,
    retentionStartLsn: retentionStart(history),
  };
}

/**
 * zero_gap only on exact equality (a replica that is ahead is not in sync); catch-up when the next LSN
 * the replica needs is still retained; otherwise a rebuild is the only way back.
 */
export function classifyRecoveryOutcome(handshake: HandshakeResult): RecoveryOutcome {
  const { replicaFlushedLsn: f, committedLsn: c, retentionStartLsn: r } = handshake;
  if (f === c) return "zero_gap";
  if (r === 0n || f + 1n >= r) return "catchup";
  return "needs_rebuild";
}

/** The range (startExclusive, endInclusive] is still in the primary WAL. */
export function isRecoverable(history: RetainedHistory, startExclusive: Lsn, endInclusive: Lsn): boolean {
  return startExclusive >= history.tailLsn && endInclusive <= history.headLsn;
}

export function proveRecoverability(history: RetainedHistory, replicaFlushedLsn: Lsn): RecoverabilityProof {
  const f = replicaFlushedLsn;
  const c = history.committedLsn;
  if (f === c) return { recoverable: true, reason: "zero_gap" };
  if (f > c) return { recoverable: true, reason: "replica_ahead_needs_truncation" };
  if (isRecoverable(history, f, c)) {
    return {
      recoverable: true,
      reason: `gap_within_retention: need LSN ${f + 1n}-${c}, tail=${history.tailLsn}, head=${history.headLsn}`,
    };
  }
  return {
    recoverable: false,
    reason: `gap_beyond_retention: need LSN ${f + 1n} but tail=${history.tailLsn}, head=${history.headLsn}`,
  };
}

/** snapshot_tail iff the checkpoint is trusted, > 0, and (checkpoint, committed] is still replayable. */
export function decideRebuildSource(history: RetainedHistory): RebuildSourceDecision {
  const cp = history.checkpointLsn;
  const target = history.committedLsn;
  if (history.checkpointTrusted && cp > 0n && isRecoverable(history, cp, target)) {
    return { source: "snapshot_tail", snapshotLsn: cp, targetLsn: target, reason: "trusted_checkpoint" };
  }
  let reason = "no_checkpoint";
  if (cp > 0n && !history.checkpointTrusted) reason = "untrusted_checkpoint";
  else if (cp > 0n)
    reason = `trusted_checkpoint_unreplayable_tail: checkpoint=${cp}, tail=${history.tailLsn}`;
  return { source: "full_base", snapshotLsn: 0n, targetLsn: target, reason };
}
