import type { Generation, RecordRef } from "@blockship/storage";

// The fork point of two copies: the highest LSN at which both hold the same record. Everything at
// or below it is identical on both copies; a resync then only has to send the blocks either copy
// changed after it.
//
// Evidence, strongest first:
// - CRC chain. Each record's CRC covers the previous record's CRC, so two copies naming the same
//   (LSN, CRC) hold the same records up to that LSN. A generation's prevCrc names record
//   firstLsn - 1, the replica's head record names its head.
// - One primary per epoch. The records of epoch e are written by one primary only, so two copies
//   holding the same generation (epoch, firstLsn, prevCrc) hold the same records from firstLsn
//   through the end of the shorter copy's run of that generation (its next generation or its head).
// A record that the CRC chain proves different (the replica's head record against the primary's
// record at that LSN) caps the answer below that LSN, whatever the generations claim.

export interface ForkPrimarySide {
  /** Oldest first, as Volume.history() returns them. */
  readonly generations: readonly Generation[];
  readonly headLsn: number;
  /** The primary's record at `lsn`, or undefined when it cannot name it (recycled). */
  readonly recordAt: (lsn: number) => RecordRef | undefined;
}

export interface ForkReplicaSide {
  /** Oldest first, as the replica's handshake reported them. */
  readonly generations: readonly Generation[];
  readonly headLsn: number;
  /** The replica's record at headLsn, or undefined when it could not name it. */
  readonly headRecord: RecordRef | undefined;
  /** Optional extra evidence: the replica's durable LSN and its record there. */
  readonly durableLsn?: number;
  readonly durableRecord?: RecordRef | undefined;
}

/**
 * The highest LSN at which both copies hold the same record, or undefined when no common history
 * can be shown (no shared generation, no matching record): then only a full rebuild is safe.
 * A replica that is merely behind (its history a prefix of the primary's) has its head as fork.
 * LSN 0 (the empty history) is common when both histories are complete (their first generation
 * starts at LSN 1, or the copy is empty).
 */
export function findForkPoint(primary: ForkPrimarySide, replica: ForkReplicaSide): number | undefined {
  const limit = Math.min(primary.headLsn, replica.headLsn);
  const candidates: number[] = [];
  const disproven: number[] = [];
  const probe = (lsn: number, theirs: RecordRef | undefined): void => {
    if (theirs === undefined || theirs.lsn !== lsn || lsn > primary.headLsn) return;
    const verdict = sameRecord(primary.recordAt(lsn), theirs);
    if (verdict === true) candidates.push(lsn);
    else if (verdict === false) disproven.push(lsn);
  };
  probe(replica.headLsn, replica.headRecord);
  if (replica.durableLsn !== undefined) probe(replica.durableLsn, replica.durableRecord);
  if (complete(primary.generations, primary.headLsn) && complete(replica.generations, replica.headLsn)) {
    candidates.push(0);
  }
  for (const c of sharedGenerationCandidates(primary, replica)) candidates.push(c);
  const cap = Math.min(limit + 1, ...disproven);
  let best: number | undefined;
  for (const c of candidates) {
    if (c < cap && (best === undefined || c > best)) best = c;
  }
  return best;
}

/** true: same record; false: the CRC chain proves them different; undefined: cannot compare. */
function sameRecord(mine: RecordRef | undefined, theirs: RecordRef): boolean | undefined {
  if (theirs.lsn === 0) return true;
  if (mine === undefined || mine.lsn !== theirs.lsn) return undefined;
  if (mine.crc !== theirs.crc) return false;
  if (mine.epoch !== undefined && theirs.epoch !== undefined && mine.epoch !== theirs.epoch) return false;
  return true;
}

/** The history reaches back to the empty log: nothing was dropped from its start. */
function complete(gens: readonly Generation[], headLsn: number): boolean {
  const first = gens[0];
  if (first === undefined) return headLsn === 0;
  return first.firstLsn === 1 && first.prevCrc === 0;
}

/**
 * For every generation both copies hold: record firstLsn - 1 is common (prevCrc, CRC chain), and by
 * the one-primary-per-epoch rule so is every record up to the shorter run's end. Both lists are
 * sorted by firstLsn (strictly), so one merge pass finds the pairs.
 */
function* sharedGenerationCandidates(p: ForkPrimarySide, r: ForkReplicaSide): Generator<number> {
  const pg = p.generations;
  const rg = r.generations;
  let i = 0;
  let j = 0;
  while (i < pg.length && j < rg.length) {
    const a = pg[i] as Generation;
    const b = rg[j] as Generation;
    if (a.firstLsn < b.firstLsn) i++;
    else if (a.firstLsn > b.firstLsn) j++;
    else {
      if (a.epoch === b.epoch && a.prevCrc === b.prevCrc && a.firstLsn >= 1) {
        const endP = runEnd(pg, i, p.headLsn);
        const endR = runEnd(rg, j, r.headLsn);
        // A generation that starts beyond a copy's head holds no record of it yet.
        if (a.firstLsn - 1 <= Math.min(p.headLsn, r.headLsn)) yield a.firstLsn - 1;
        const end = Math.min(endP, endR);
        if (end >= a.firstLsn) yield end;
      }
      i++;
      j++;
    }
  }
}

/** The last LSN of generation `k` on a copy with head `headLsn`. */
function runEnd(gens: readonly Generation[], k: number, headLsn: number): number {
  const next = gens[k + 1];
  return next === undefined ? headLsn : Math.min(next.firstLsn - 1, headLsn);
}
