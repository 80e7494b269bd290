import type { BlockDevice } from "./device";

/** How a crash treats one write issued after the last completed sync. */
export type CrashFate = "keep" | "drop" | "tear";

export interface CrashChooser {
  /** Fate of the i-th unsynced write (in issue order). */
  fate(index: number, lengthBytes: number): CrashFate;
  /** For a torn write: which byte ranges of it reach the disk, as [start, end) pairs. */
  tornRanges(lengthBytes: number): Array<[number, number]>;
}

interface PendingWrite {
  offsetBytes: number;
  data: Buffer;
  /** Issue order: a sync covers every write issued before it started. */
  seq: number;
}

/**
 * A simulated disk for crash tests: it keeps the durable image separately from writes issued after
 * the last sync, so `crash()` can keep, drop or tear each unsynced write, exactly the freedom a real
 * disk with a volatile cache has. This simulates the disk, not any part of the volume.
 */
export class SimDevice implements BlockDevice {
  readonly sizeBytes: number;
  private readonly durable: Buffer;
  private readonly current: Buffer;
  private pending: PendingWrite[] = [];
  private nextSeq = 0;
  private closed = false;
  /** Fault injection: return an Error to fail the next write/sync with it. */
  failWrite: ((offsetBytes: number, lengthBytes: number) => Error | undefined) | undefined;
  failSync: (() => Error | undefined) | undefined;
  /** Test hook: a read waits for the returned promise before copying (to interleave I/O). */
  beforeRead: ((offsetBytes: number, lengthBytes: number) => Promise<void> | undefined) | undefined;
  /**
   * Linux after a failed fdatasync ("fsyncgate"): the writes that sync covered are marked clean and
   * never reach the disk, although reads still see them. Set to model that; otherwise they stay
   * pending and a later sync may still write them.
   */
  dropOnFailedSync = false;
  /** Test hook: a sync waits for the returned promise before it completes (a slow disk; the fate from failSync is chosen at the start). */
  beforeSync: (() => Promise<void> | undefined) | undefined;
  syncCount = 0;
  writeCount = 0;
  discardCount = 0;

  constructor(sizeBytes: number, image?: Buffer) {
    this.sizeBytes = sizeBytes;
    this.durable = Buffer.alloc(sizeBytes);
    if (image) image.copy(this.durable, 0, 0, Math.min(sizeBytes, image.length));
    this.current = Buffer.from(this.durable);
  }

  async read(buf: Buffer, offsetBytes: number): Promise<void> {
    this.checkRange(offsetBytes, buf.length);
    await (this.beforeRead?.(offsetBytes, buf.length) ?? Promise.resolve());
    this.current.copy(buf, 0, offsetBytes, offsetBytes + buf.length);
  }

  async writev(bufs: readonly Buffer[], offsetBytes: number): Promise<void> {
    const total = bufs.reduce((n, b) => n + b.length, 0);
    this.checkRange(offsetBytes, total);
    const failure = this.failWrite?.(offsetBytes, total);
    await Promise.resolve();
    if (failure) throw failure;
    this.writeCount++;
    let pos = offsetBytes;
    for (const b of bufs) {
      b.copy(this.current, pos);
      this.pending.push({ offsetBytes: pos, data: Buffer.from(b), seq: this.nextSeq++ });
      pos += b.length;
    }
  }

  /** O_DSYNC-like: this range is durable on return; other unsynced writes stay unsynced. */
  async writevDurable(bufs: readonly Buffer[], offsetBytes: number): Promise<void> {
    const total = bufs.reduce((n, b) => n + b.length, 0);
    this.checkRange(offsetBytes, total);
    const failure = this.failWrite?.(offsetBytes, total);
    await Promise.resolve();
    if (failure) throw failure;
    this.writeCount++;
    const end = offsetBytes + total;
    // The page cache holds only the newest bytes of a range, so older unsynced writes to it can no
    // longer reach the disk over these: cut them out of the pending list.
    this.pending = this.pending.flatMap((w) => {
      const wEnd = w.offsetBytes + w.data.length;
      if (wEnd <= offsetBytes || w.offsetBytes >= end) return [w];
      const pieces: PendingWrite[] = [];
      if (w.offsetBytes < offsetBytes)
        pieces.push({ ...w, data: w.data.subarray(0, offsetBytes - w.offsetBytes) });
      if (wEnd > end) pieces.push({ ...w, offsetBytes: end, data: w.data.subarray(end - w.offsetBytes) });
      return pieces;
    });
    let pos = offsetBytes;
    for (const b of bufs) {
      b.copy(this.current, pos);
      b.copy(this.durable, pos);
      pos += b.length;
    }
  }

  /** A discard is a zero write of the range as far as crashes go (durable after the next sync). */
  async discard(offsetBytes: number, lengthBytes: number): Promise<void> {
    this.discardCount++;
    await this.writev([Buffer.alloc(lengthBytes)], offsetBytes);
  }

  async sync(): Promise<void> {
    const failure = this.failSync?.();
    // Writes issued before the sync started are the ones it covers.
    const upTo = this.nextSeq;
    await (this.beforeSync?.() ?? Promise.resolve());
    if (failure) {
      if (this.dropOnFailedSync) this.pending = this.pending.filter((w) => w.seq >= upTo);
      throw failure;
    }
    this.syncCount++;
    const done = this.pending.filter((w) => w.seq < upTo);
    this.pending = this.pending.filter((w) => w.seq >= upTo);
    for (const w of done) w.data.copy(this.durable, w.offsetBytes);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get unsyncedWrites(): number {
    return this.pending.length;
  }

  /** The image a reboot would find: durable bytes plus what the chooser lets through. */
  crashImage(chooser: CrashChooser): Buffer {
    const image = Buffer.from(this.durable);
    this.pending.forEach((w, i) => {
      const fate = chooser.fate(i, w.data.length);
      if (fate === "keep") w.data.copy(image, w.offsetBytes);
      else if (fate === "tear") {
        for (const [start, end] of chooser.tornRanges(w.data.length)) {
          w.data.copy(image, w.offsetBytes + start, start, end);
        }
      }
    });
    return image;
  }

  /** A new device holding the post-crash image (this one should be abandoned). */
  crash(chooser: CrashChooser): SimDevice {
    return new SimDevice(this.sizeBytes, this.crashImage(chooser));
  }

  /** A clean copy of everything written so far (as after an orderly shutdown). */
  snapshot(): SimDevice {
    return new SimDevice(this.sizeBytes, this.current);
  }

  private checkRange(offsetBytes: number, lengthBytes: number): void {
    if (this.closed) throw new Error("sim device closed");
    if (offsetBytes < 0 || offsetBytes + lengthBytes > this.sizeBytes) {
      throw new Error(`sim device access [${offsetBytes}, ${offsetBytes + lengthBytes}) out of range`);
    }
  }
}

/** A chooser driven by a seeded PRNG (mulberry32) so crash tests are reproducible. */
export function randomCrashChooser(seed: number): CrashChooser {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    fate: () => {
      const r = next();
      return r < 0.4 ? "keep" : r < 0.7 ? "drop" : "tear";
    },
    tornRanges: (len) => {
      // Sector-ish granularity with an arbitrary byte cut, in any subset of pieces.
      const ranges: Array<[number, number]> = [];
      const pieces = 1 + Math.floor(next() * 4);
      for (let i = 0; i < pieces; i++) {
        const a = Math.floor(next() * len);
        const b = a + Math.floor(next() * (len - a + 1));
        ranges.push([a, b]);
      }
      return ranges;
    },
  };
}
