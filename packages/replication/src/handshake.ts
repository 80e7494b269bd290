/** The primary's side of a handshake: what it has. */
export interface PrimaryFacts {
  readonly epoch: number;
  readonly headLsn: number;
  /** Highest LSN no longer retained (retained records start at tailLsn + 1). */
  readonly tailLsn: number;
}

/** The replica's answer. */
export interface ReplicaFacts {
  readonly epoch: number;
  readonly headLsn: number;
  readonly durableLsn: number;
}

export type HandshakeVerdict =
  /** Stream from `cursor`; retain the WAL from `pinFromLsn` (what the replica has not fsynced). */
  | { readonly kind: "stream"; readonly cursor: number; readonly pinFromLsn: number }
  /** Not now (epochs differ: the assignment has not reached both yet); retry with back-off. */
  | { readonly kind: "retry"; readonly reason: string }
  /** No catch-up can help (sticky until reconfigured). */
  | { readonly kind: "needs_rebuild"; readonly reason: string };

/**
 * Classifies a replica from its handshake facts (DESIGN §4, engine-spec §4): same epoch required;
 * replica head above the primary head → replica_ahead; the replica's next LSN already recycled →
 * wal_recycled; otherwise catch up (or keep up) from head + 1, the same cursor loop either way.
 */
export function classifyHandshake(p: PrimaryFacts, r: ReplicaFacts): HandshakeVerdict {
  if (r.epoch !== p.epoch) {
    return { kind: "retry", reason: `epoch_mismatch: replica epoch ${r.epoch}, primary epoch ${p.epoch}` };
  }
  if (r.headLsn > p.headLsn) {
    return {
      kind: "needs_rebuild",
      reason: `replica_ahead: replica head ${r.headLsn} > primary head ${p.headLsn}`,
    };
  }
  if (r.headLsn < p.tailLsn) {
    return {
      kind: "needs_rebuild",
      reason: `wal_recycled: replica head ${r.headLsn} is below the retained WAL (starts at ${p.tailLsn + 1})`,
    };
  }
  const cursor = r.headLsn + 1;
  return { kind: "stream", cursor, pinFromLsn: Math.max(Math.min(r.durableLsn + 1, cursor), p.tailLsn + 1) };
}

export function sameFacts(a: ReplicaFacts, b: ReplicaFacts): boolean {
  return a.epoch === b.epoch && a.headLsn === b.headLsn && a.durableLsn === b.durableLsn;
}
