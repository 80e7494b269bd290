import { assert } from "./errors";

/** Where the latest not-yet-checkpointed version of one block lives in the WAL. */
export interface DirtyEntry {
  lsn: number;
  /** Logical WAL offset of the record holding the block. */
  recordOffset: number;
  /** Block index inside the record's payload; -1 for a TRIM (reads as zeros). */
  blockInRecord: number;
}

/** Blocks [start, end) trimmed by record `entry.lsn` and not yet checkpointed. */
export interface TrimRange {
  start: number;
  end: number;
  /** What `get` answers for a block in the range (one object per range, shared). */
  entry: DirtyEntry;
}

/**
 * LBA → latest WAL location. Written blocks are one entry each (a write record is at most
 * maxWriteBytes); trimmed blocks are ranges (a TRIM record may cover the whole volume), kept sorted
 * and disjoint, so a trim costs O(ranges), never O(blocks).
 *
 * Newest LSN wins: `put` and `putTrim` ignore an update older than what they replace. A trim
 * deletes the (older) written entries it covers, so a written entry inside a trimmed range is
 * always newer than the range: `get` answers the written entry first, then the range.
 */
export class DirtyMap {
  private readonly map = new Map<number, DirtyEntry>();
  private trims: TrimRange[] = [];
  private trimmedBlocks = 0;
  /** Puts ignored because a newer LSN was already present (should stay 0: appends complete in order). */
  staleIgnored = 0;

  /** Blocks with a version not yet in the extent (written ones + trimmed ones). */
  get size(): number {
    return this.map.size + this.trimmedBlocks;
  }

  /** Trimmed ranges held (each a few dozen bytes, whatever its length). */
  get trimRanges(): number {
    return this.trims.length;
  }

  get(lba: number): DirtyEntry | undefined {
    const e = this.map.get(lba);
    if (e !== undefined || this.trims.length === 0) return e;
    return this.trimAt(lba)?.entry;
  }

  put(lba: number, entry: DirtyEntry): void {
    assert(entry.lsn > 0, "dirty entry needs an LSN");
    const old = this.get(lba);
    if (old !== undefined && old.lsn >= entry.lsn) {
      this.staleIgnored++;
      return;
    }
    this.map.set(lba, entry);
  }

  /** Blocks [lba, lba + count) read as zeros from record `lsn` on (replaces every older version). */
  putTrim(lba: number, count: number, lsn: number, recordOffset: number): void {
    assert(lsn > 0 && count > 0, "trim range needs an LSN and blocks");
    const end = lba + count;
    const first = this.firstEndingAfter(lba);
    let last = first;
    while (last < this.trims.length && this.trims[last]!.start < end) {
      if (this.trims[last]!.entry.lsn >= lsn) {
        // Appends complete in LSN order, so this cannot happen; never let an old trim win.
        this.staleIgnored++;
        return;
      }
      last++;
    }
    this.dropWrittenIn(lba, end, lsn);
    const replaced = this.trims.slice(first, last);
    const pieces: TrimRange[] = [];
    const head = replaced[0];
    if (head && head.start < lba) pieces.push({ start: head.start, end: lba, entry: head.entry });
    pieces.push({ start: lba, end, entry: { lsn, recordOffset, blockInRecord: -1 } });
    const tail = replaced[replaced.length - 1];
    if (tail && tail.end > end) pieces.push({ start: end, end: tail.end, entry: tail.entry });
    for (const r of replaced) this.trimmedBlocks -= r.end - r.start;
    for (const r of pieces) this.trimmedBlocks += r.end - r.start;
    this.trims.splice(first, last - first, ...pieces);
  }

  /** Removes the entry only if it still holds `lsn` (a newer write keeps its entry). */
  deleteIfLsn(lba: number, lsn: number): void {
    const e = this.map.get(lba);
    if (e !== undefined && e.lsn === lsn) this.map.delete(lba);
  }

  /** Drops what is left of trim `lsn` within [lba, lba + count) (newer trims keep their ranges). */
  deleteTrimIfLsn(lba: number, count: number, lsn: number): void {
    const end = lba + count;
    let i = this.firstEndingAfter(lba);
    while (i < this.trims.length && this.trims[i]!.start < end) {
      const r = this.trims[i]!;
      if (r.entry.lsn === lsn) {
        this.trimmedBlocks -= r.end - r.start;
        this.trims.splice(i, 1);
      } else i++;
    }
  }

  /** The parts of [lba, lba + count) still trimmed by record `lsn` (not replaced by a newer trim). */
  trimRangesOf(lba: number, count: number, lsn: number): Array<{ start: number; end: number }> {
    const end = lba + count;
    const out: Array<{ start: number; end: number }> = [];
    for (let i = this.firstEndingAfter(lba); i < this.trims.length && this.trims[i]!.start < end; i++) {
      const r = this.trims[i]!;
      if (r.entry.lsn === lsn) out.push({ start: Math.max(r.start, lba), end: Math.min(r.end, end) });
    }
    return out;
  }

  /** Written (not trimmed) blocks in [start, end), sorted. Costs min(end - start, written blocks). */
  writtenIn(start: number, end: number): number[] {
    const out: number[] = [];
    if (end - start <= this.map.size) {
      for (let lba = start; lba < end; lba++) if (this.map.has(lba)) out.push(lba);
      return out;
    }
    for (const lba of this.map.keys()) if (lba >= start && lba < end) out.push(lba);
    return out.sort((a, b) => a - b);
  }

  clear(): void {
    this.map.clear();
    this.trims = [];
    this.trimmedBlocks = 0;
  }

  /** Written blocks only (trimmed ranges: trimRangesOf). */
  entries(): IterableIterator<[number, DirtyEntry]> {
    return this.map.entries();
  }

  private dropWrittenIn(start: number, end: number, lsn: number): void {
    const drop = (lba: number): void => {
      const e = this.map.get(lba);
      if (e !== undefined && e.lsn < lsn) this.map.delete(lba);
    };
    if (end - start <= this.map.size) for (let lba = start; lba < end; lba++) drop(lba);
    else for (const lba of this.map.keys()) if (lba >= start && lba < end) drop(lba); // deleting while iterating a Map is safe
  }

  /** Index of the first range whose end is past `lba` (binary search; ranges are sorted, disjoint). */
  private firstEndingAfter(lba: number): number {
    let lo = 0;
    let hi = this.trims.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.trims[mid]!.end <= lba) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private trimAt(lba: number): TrimRange | undefined {
    const r = this.trims[this.firstEndingAfter(lba)];
    return r !== undefined && r.start <= lba ? r : undefined;
  }
}
