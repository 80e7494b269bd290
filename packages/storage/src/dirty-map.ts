import { assert } from "./errors";

/** Where the latest not-yet-checkpointed version of one block lives in the WAL. */
export interface DirtyEntry {
  lsn: number;
  /** Logical WAL offset of the record holding the block. */
  recordOffset: number;
  /** Block index inside the record's payload; -1 for a TRIM (reads as zeros). */
  blockInRecord: number;
}

/**
 * LBA → latest WAL location. `put` is LSN-monotonic: an older LSN never replaces a newer one, so
 * the map cannot move backwards whatever order updates arrive in.
 */
export class DirtyMap {
  private readonly map = new Map<number, DirtyEntry>();
  /** Puts ignored because a newer LSN was already present (should stay 0: appends complete in order). */
  staleIgnored = 0;

  get size(): number {
    return this.map.size;
  }

  get(lba: number): DirtyEntry | undefined {
    return this.map.get(lba);
  }

  put(lba: number, entry: DirtyEntry): void {
    assert(entry.lsn > 0, "dirty entry needs an LSN");
    const old = this.map.get(lba);
    if (old !== undefined && old.lsn >= entry.lsn) {
      this.staleIgnored++;
      return;
    }
    this.map.set(lba, entry);
  }

  /** Removes the entry only if it still holds `lsn` (a newer write keeps its entry). */
  deleteIfLsn(lba: number, lsn: number): void {
    const e = this.map.get(lba);
    if (e !== undefined && e.lsn === lsn) this.map.delete(lba);
  }

  clear(): void {
    this.map.clear();
  }

  entries(): IterableIterator<[number, DirtyEntry]> {
    return this.map.entries();
  }
}
