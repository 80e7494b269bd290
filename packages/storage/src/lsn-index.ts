import { assert } from "./errors";

/**
 * Logical WAL offset of every retained record, indexed by LSN (LSNs have no holes, so this is a
 * ring of numbers, 36 bytes per retained record: offset, CRC, epoch, LBA range). Used for tail
 * placement under pins, readRecords without scanning, and the exact changed blocks of the WAL.
 */
export class LsnIndex {
  private offsets = new Float64Array(1024);
  private crcs = new Uint32Array(1024);
  /** Epoch of each record (the handshake names a record by epoch and CRC). */
  private epochs = new Float64Array(1024);
  /** First block and block count of each record (TRIM: the trimmed range); changed-block tracking. */
  private lbas = new Float64Array(1024);
  private blockCounts = new Float64Array(1024);
  private start = 0;
  private count = 0;
  /** LSN of the first indexed record. */
  private firstLsn = 1;

  reset(nextLsn: number): void {
    this.start = 0;
    this.count = 0;
    this.firstLsn = nextLsn;
  }

  get first(): number {
    return this.firstLsn;
  }

  /** One past the last indexed LSN. */
  get end(): number {
    return this.firstLsn + this.count;
  }

  push(lsn: number, offset: number, crc: number, epoch: number, lba = 0, blockCount = 0): void {
    assert(lsn === this.firstLsn + this.count, `LSN index expects ${this.firstLsn + this.count}, got ${lsn}`);
    if (this.count === this.offsets.length) this.grow();
    const at = (this.start + this.count) % this.offsets.length;
    this.offsets[at] = offset;
    this.crcs[at] = crc;
    this.epochs[at] = epoch;
    this.lbas[at] = lba;
    this.blockCounts[at] = blockCount;
    this.count++;
  }

  has(lsn: number): boolean {
    return lsn >= this.firstLsn && lsn < this.firstLsn + this.count;
  }

  offsetOf(lsn: number): number {
    assert(this.has(lsn), `LSN ${lsn} not indexed [${this.firstLsn}, ${this.end})`);
    return this.offsets[(this.start + (lsn - this.firstLsn)) % this.offsets.length]!;
  }

  crcOf(lsn: number): number {
    assert(this.has(lsn), `LSN ${lsn} not indexed [${this.firstLsn}, ${this.end})`);
    return this.crcs[(this.start + (lsn - this.firstLsn)) % this.offsets.length]!;
  }

  epochOf(lsn: number): number {
    assert(this.has(lsn), `LSN ${lsn} not indexed [${this.firstLsn}, ${this.end})`);
    return this.epochs[(this.start + (lsn - this.firstLsn)) % this.offsets.length]!;
  }

  /** Calls `fn` with the block range of every indexed record with LSN >= `fromLsn`, in LSN order. */
  forEachRange(fromLsn: number, fn: (lba: number, blocks: number) => void): void {
    const from = Math.max(fromLsn, this.firstLsn) - this.firstLsn;
    for (let i = from; i < this.count; i++) {
      const at = (this.start + i) % this.offsets.length;
      fn(this.lbas[at]!, this.blockCounts[at]!);
    }
  }

  /** Forgets every LSN below `lsn`. */
  dropBelow(lsn: number): void {
    const n = Math.min(Math.max(0, lsn - this.firstLsn), this.count);
    this.start = (this.start + n) % this.offsets.length;
    this.count -= n;
    this.firstLsn += n;
  }

  private grow(): void {
    const next = new Float64Array(this.offsets.length * 2);
    const nextCrcs = new Uint32Array(this.offsets.length * 2);
    const nextEpochs = new Float64Array(this.offsets.length * 2);
    const nextLbas = new Float64Array(this.offsets.length * 2);
    const nextCounts = new Float64Array(this.offsets.length * 2);
    for (let i = 0; i < this.count; i++) {
      const at = (this.start + i) % this.offsets.length;
      next[i] = this.offsets[at]!;
      nextCrcs[i] = this.crcs[at]!;
      nextEpochs[i] = this.epochs[at]!;
      nextLbas[i] = this.lbas[at]!;
      nextCounts[i] = this.blockCounts[at]!;
    }
    this.offsets = next;
    this.crcs = nextCrcs;
    this.epochs = nextEpochs;
    this.lbas = nextLbas;
    this.blockCounts = nextCounts;
    this.start = 0;
  }
}
