// Recovery decisions from the primary's retained WAL history. Pure functions.
import { decideRecovery, type RecoveryFacts, type ResyncFacts } from "./decide";
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

/** The decider's facts from a WAL-only handshake (no resync facts: an old peer). */
export function factsFromHandshake(handshake: HandshakeResult): RecoveryFacts {
  const r = handshake.retentionStartLsn;
  return {
    replicaDurableLsn: handshake.replicaFlushedLsn,
    committedLsn: handshake.committedLsn,
    tailLsn: r === 0n ? 0n : r - 1n,
  };
}

/** The decider's facts from the primary's retained history and the replica's handshake. */
export function recoveryFacts(
  history: RetainedHistory,
  replicaFlushedLsn: Lsn,
  resync?: ResyncFacts,
): RecoveryFacts {
  return {
    replicaDurableLsn: replicaFlushedLsn,
    committedLsn: history.committedLsn,
    tailLsn: history.tailLsn,
    headLsn: history.headLsn,
    ...(resync === undefined ? {} : { resync }),
  };
}

/** The WAL-only outcome (see decideRecovery): a replica ahead of C is never cut back. */
export function classifyRecoveryOutcome(handshake: HandshakeResult): RecoveryOutcome {
  return decideRecovery(factsFromHandshake(handshake)).kind;
}

/** The range (startExclusive, endInclusive] is still in the primary WAL. */
export function isRecoverable(history: RetainedHistory, startExclusive: Lsn, endInclusive: Lsn): boolean {
  return startExclusive >= history.tailLsn && endInclusive <= history.headLsn;
}

/** The decider's verdict as a proof: recoverable unless only a rebuild helps. */
export function proveRecoverability(
  history: RetainedHistory,
  replicaFlushedLsn: Lsn,
  resync?: ResyncFacts,
): RecoverabilityProof {
  const d = decideRecovery(recoveryFacts(history, replicaFlushedLsn, resync));
  return { recoverable: d.kind !== "needs_rebuild", reason: d.reason };
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
