/** Bytes of bitmap written to the device as one unit (one page of the on-device bitmap). */
export const BITMAP_PAGE_BYTES = 4096;

/** A run of blocks: `blocks` blocks starting at block `lba`. */
export interface BlockRange {
  lba: number;
  blocks: number;
}

/**
 * An in-memory bitmap of changed chunks (one bit per `grainBlocks` blocks) that remembers which of
 * its 4 KiB pages changed since `takeDirtyPages()`, so persisting it writes only those pages.
 * Bits are only ever set here; clearing is done by replacing the whole bitmap (see ChangeTracker).
 */
export class ChangeBitmap {
  readonly bytes: Buffer;
  private dirty = new Set<number>();
  /** Number of set bits (kept up to date by set operations). */
  private setBits = 0;

  constructor(
    readonly bits: number,
    readonly grainBlocks: number,
    bytes?: Buffer,
  ) {
    const len = Math.ceil(bits / 8);
    this.bytes = Buffer.alloc(len);
    if (bytes) {
      bytes.copy(this.bytes, 0, 0, len);
      // Bits past `bits` (the last byte's padding) are never set: a stray one would name a chunk
      // outside the volume.
      if (bits % 8 !== 0 && len > 0) this.bytes[len - 1]! &= (1 << (bits % 8)) - 1;
      this.setBits = countBits(this.bytes);
    }
  }

  get count(): number {
    return this.setBits;
  }

  get pageCount(): number {
    return Math.ceil(this.bytes.length / BITMAP_PAGE_BYTES);
  }

  has(chunk: number): boolean {
    return ((this.bytes[chunk >>> 3] ?? 0) & (1 << (chunk & 7))) !== 0;
  }

  /** Marks every chunk that blocks [lba, lba + blocks) touch. */
  markBlocks(lba: number, blocks: number): void {
    if (blocks <= 0) return;
    const first = Math.floor(lba / this.grainBlocks);
    const last = Math.min(this.bits - 1, Math.floor((lba + blocks - 1) / this.grainBlocks));
    this.setChunks(first, last + 1);
  }

  /** Sets chunks [from, to). Whole bytes are filled at once, so a whole-volume trim is cheap. */
  setChunks(from: number, to: number): void {
    let c = from;
    while (c < to && (c & 7) !== 0) this.setOne(c++);
    const fullEnd = to - ((to - c) & 7);
    if (fullEnd > c) {
      for (let b = c >>> 3; b < fullEnd >>> 3; b++) {
        const old = this.bytes[b]!;
        if (old === 0xff) continue;
        this.setBits += 8 - popcount8(old);
        this.bytes[b] = 0xff;
      }
      this.markPages(c >>> 3, (fullEnd >>> 3) - 1);
      c = fullEnd;
    }
    while (c < to) this.setOne(c++);
  }

  /** Sets every bit that is set in `other` (same geometry). */
  orFrom(other: ChangeBitmap): void {
    for (let b = 0; b < other.bytes.length; b++) {
      const add = other.bytes[b]! & ~this.bytes[b]!;
      if (add === 0) continue;
      this.bytes[b] = this.bytes[b]! | add;
      this.setBits += popcount8(add);
      this.dirty.add(Math.floor(b / BITMAP_PAGE_BYTES));
    }
  }

  /** Pages changed since the last call, ascending; the dirty set starts empty again. */
  takeDirtyPages(): number[] {
    const pages = [...this.dirty].sort((a, b) => a - b);
    this.dirty = new Set();
    return pages;
  }

  /** Every page counts as changed (after a fresh slot is chosen, all of it must be written). */
  markAllDirty(): void {
    for (let p = 0; p < this.pageCount; p++) this.dirty.add(p);
  }

  /** A copy of page `p`, padded with zeros to a full page (the device writes whole pages). */
  pageCopy(p: number): Buffer {
    const out = Buffer.alloc(BITMAP_PAGE_BYTES);
    this.bytes.copy(out, 0, p * BITMAP_PAGE_BYTES, Math.min(this.bytes.length, (p + 1) * BITMAP_PAGE_BYTES));
    return out;
  }

  clone(): ChangeBitmap {
    return new ChangeBitmap(this.bits, this.grainBlocks, this.bytes);
  }

  /**
   * The marked chunks as block ranges (adjacent chunks merged, the last one clipped to
   * `volumeBlocks`), lazily: memory stays bounded whatever the number of ranges.
   */
  *ranges(volumeBlocks: number): Generator<BlockRange> {
    let c = 0;
    while (c < this.bits) {
      const byte = this.bytes[c >>> 3]!;
      if (byte === 0 && (c & 7) === 0) {
        c += 8;
        continue;
      }
      if (!this.has(c)) {
        c++;
        continue;
      }
      const start = c;
      while (c < this.bits && this.has(c)) c++;
      const lba = start * this.grainBlocks;
      yield { lba, blocks: Math.min(volumeBlocks, c * this.grainBlocks) - lba };
    }
  }

  private setOne(c: number): void {
    const b = c >>> 3;
    const m = 1 << (c & 7);
    const old = this.bytes[b]!;
    if ((old & m) !== 0) return;
    this.bytes[b] = old | m;
    this.setBits++;
    this.dirty.add(Math.floor(b / BITMAP_PAGE_BYTES));
  }

  private markPages(fromByte: number, toByte: number): void {
    for (let p = Math.floor(fromByte / BITMAP_PAGE_BYTES); p <= Math.floor(toByte / BITMAP_PAGE_BYTES); p++)
      this.dirty.add(p);
  }
}

function popcount8(v: number): number {
  let n = v - ((v >>> 1) & 0x55);
  n = (n & 0x33) + ((n >>> 2) & 0x33);
  return (n + (n >>> 4)) & 0x0f;
}

function countBits(buf: Buffer): number {
  let n = 0;
  for (let i = 0; i < buf.length; i++) n += popcount8(buf[i]!);
  return n;
}
