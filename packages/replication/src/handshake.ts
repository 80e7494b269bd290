import type { Generation, RecordRef } from "@blockship/storage";

export type { Generation, RecordRef };

/** A copy's persisted resync marker as its handshake reports it (storage's ResyncState). */
export type ReplicaResyncState =
  | { readonly pending: false }
  | { readonly pending: true; readonly phase: "transfer"; readonly forkLsn: number }
  | {
      readonly pending: true;
      readonly phase: "catchup";
      readonly forkLsn: number;
      readonly baseLsn: number;
      readonly consistentLsn: number;
    };

/** The primary's side of a handshake: what it has. */
export interface PrimaryFacts {
  readonly epoch: number;
  readonly headLsn: number;
  /** Highest LSN no longer retained (retained records start at tailLsn + 1). */
  readonly tailLsn: number;
  /** The primary's own record at `lsn`, or undefined when it cannot name it (Volume.recordAt). */
  readonly recordAt: (lsn: number) => RecordRef | undefined;
}

/** The replica's answer. */
export interface ReplicaFacts {
  readonly epoch: number;
  readonly headLsn: number;
  readonly durableLsn: number;
  /** The replica's record at headLsn, or undefined when it could not name it (or sent none). */
  readonly headRecord: RecordRef | undefined;
  /** The replica's record at durableLsn, or undefined when it could not name it. */
  readonly durableRecord: RecordRef | undefined;
  /** The replica's history, oldest first (findForkPoint). Absent: not reported (treated as none). */
  readonly generations?: readonly Generation[];
  /** The replica's changed-block tracking base: its changes after this LSN are known. */
  readonly changeBaseLsn?: number;
  /** Whether the replica tracks its changes persistently (else its base follows its WAL tail). */
  readonly changeTracking?: boolean;
  /** The replica's resync marker. Absent: not reported (no resync pending). */
  readonly resync?: ReplicaResyncState;
}

export type HandshakeVerdict =
  /** Stream from `cursor`; retain the WAL from `pinFromLsn` (what the replica has not fsynced). */
  | { readonly kind: "stream"; readonly cursor: number; readonly pinFromLsn: number }
  /** Not now (epochs differ: the assignment has not reached both yet); retry with back-off. */
  | { readonly kind: "retry"; readonly reason: string }
  /**
   * No catch-up can help (sticky until reconfigured). `divergentAt`: the first LSN found whose
   * record differs from the primary's (the replica holds nothing trustworthy from there on).
   */
  | { readonly kind: "needs_rebuild"; readonly reason: string; readonly divergentAt?: number };

/** The stable reason of a copy in resync phase transfer (never streamed to until a resync commits). */
export function resyncPendingReason(forkLsn: number): string {
  return `resync_pending: the replica is in resync phase transfer from fork LSN ${forkLsn}`;
}

/** The stable reason of a copy whose record at `lsn` is not the primary's. */
export function divergentHistoryReason(lsn: number): string {
  return `needs_rebuild: divergent_history at LSN ${lsn}`;
}

/**
 * Classifies a replica from its handshake facts: same epoch required; replica head above the
 * primary head → replica_ahead; the replica's next LSN already recycled → wal_recycled. Then the
 * histories: the replica's durable and head records must be the primary's records at those LSNs
 * (equal LSNs with different records are divergent history, never in sync), and a head record that
 * either side cannot name is never assumed to match. Otherwise catch up (or keep up) from head + 1,
 * the same cursor loop either way.
 */
export function classifyHandshake(p: PrimaryFacts, r: ReplicaFacts): HandshakeVerdict {
  if (r.epoch !== p.epoch) {
    return { kind: "retry", reason: `epoch_mismatch: replica epoch ${r.epoch}, primary epoch ${p.epoch}` };
  }
  // A copy in resync transfer holds a mix of old and new blocks and a log that does not describe
  // them: nothing may be appended to it until a resync commits (the engine plans that resync).
  if (r.resync?.pending === true && r.resync.phase === "transfer") {
    return { kind: "needs_rebuild", reason: resyncPendingReason(r.resync.forkLsn) };
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
  const history = checkHistory(p, r);
  if (history !== undefined) return history;
  const cursor = r.headLsn + 1;
  return { kind: "stream", cursor, pinFromLsn: Math.max(Math.min(r.durableLsn + 1, cursor), p.tailLsn + 1) };
}

type Comparison = "match" | "mismatch" | "replica_unknown" | "primary_unknown";

function compareAt(p: PrimaryFacts, lsn: number, theirs: RecordRef | undefined): Comparison {
  if (lsn === 0) return "match"; // both histories start empty
  const mine = p.recordAt(lsn);
  if (mine === undefined || mine.lsn !== lsn) return "primary_unknown";
  if (theirs === undefined || theirs.lsn !== lsn) return "replica_unknown";
  if (theirs.crc !== mine.crc) return "mismatch";
  // The CRC covers the epoch; compare it too where both copies know it.
  if (theirs.epoch !== undefined && mine.epoch !== undefined && theirs.epoch !== mine.epoch)
    return "mismatch";
  return "match";
}

function describe(ref: RecordRef | undefined): string {
  if (ref === undefined) return "unknown";
  const crc = ref.crc.toString(16).padStart(8, "0");
  return `epoch ${ref.epoch ?? "?"} crc ${crc}`;
}

/** undefined when the replica's history is the primary's up to its head; else the verdict. */
function checkHistory(p: PrimaryFacts, r: ReplicaFacts): HandshakeVerdict | undefined {
  const divergent = (lsn: number, theirs: RecordRef | undefined): HandshakeVerdict => ({
    kind: "needs_rebuild",
    reason: `${divergentHistoryReason(lsn)} (replica ${describe(theirs)}, primary ${describe(p.recordAt(lsn))})`,
    divergentAt: lsn,
  });
  // The durable record first: it is the lower LSN, so a mismatch there names the earlier LSN. Where
  // it cannot be compared (recycled on the primary), the head decides alone: by the CRC chain, a
  // matching head record means matching records below it.
  if (r.durableLsn <= r.headLsn && r.durableLsn >= p.tailLsn) {
    if (compareAt(p, r.durableLsn, r.durableRecord) === "mismatch")
      return divergent(r.durableLsn, r.durableRecord);
  }
  const head = compareAt(p, r.headLsn, r.headRecord);
  if (head === "match") return undefined;
  if (head === "mismatch") return divergent(r.headLsn, r.headRecord);
  if (head === "primary_unknown") {
    return {
      kind: "needs_rebuild",
      reason: `wal_recycled: the primary cannot name its record at LSN ${r.headLsn} to compare the replica's head with`,
    };
  }
  return {
    kind: "needs_rebuild",
    reason: `unverified_history: the replica did not name its record at head LSN ${r.headLsn}`,
  };
}

export function sameFacts(a: ReplicaFacts, b: ReplicaFacts): boolean {
  return (
    a.epoch === b.epoch &&
    a.headLsn === b.headLsn &&
    a.durableLsn === b.durableLsn &&
    a.headRecord?.crc === b.headRecord?.crc &&
    a.resync?.pending === b.resync?.pending &&
    (a.resync?.pending ? a.resync.phase : "") === (b.resync?.pending ? b.resync.phase : "")
  );
}
