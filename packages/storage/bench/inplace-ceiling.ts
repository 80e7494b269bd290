/**
 * The disk's ceiling for the volume's layout (`superblock | WAL ring | extent`, DESIGN §3), measured
 * with plain Node fs and no volume code: the I/O any implementation that updates the extent in place
 * must do for 4 KiB random writes that are each flushed, at a given batch size.
 *
 * Per client write that is: one WAL record (4 KiB + header) inside a sequential O_DSYNC batch write,
 * and one random 4 KiB extent write made durable by the writeback cycle's fdatasync, after which
 * its WAL space may be reused. The two sides run as fast as the disk lets them, coupled only by
 * what the layout forces: writeback cannot pass the appends, appends cannot pass the free WAL space.
 * There is no CPU work, no dirty map, no superblock write, so this is an upper bound for the volume
 * on this disk at this moment. Printed next to the volume's figure, it shows how much of a ratio
 * against the fsync baseline is the disk's and how much is ours.
 */

import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { EXTENT_WRITE_CONCURRENCY, RECORD_HEADER_BYTES, WAL_OFFSET_BYTES } from "../src/index";

/** Work done in one timed slice: units (writes or MiB) and seconds. */
export interface Slice {
  units: number;
  seconds: number;
}

export interface CeilingOptions {
  /** A preallocated file laid out like the volume: superblock region, WAL, extent. */
  file: string;
  walSizeBytes: number;
  extentBlocks: number;
  blockSizeBytes: number;
  /** Records per WAL write: the writers one group commit gathers (the concurrency). */
  recordsPerBatch: number;
  /** Records one writeback cycle covers before its fdatasync (the volume's maxCycleBytes). */
  cycleRecords: number;
  seconds: number;
}

/** A wake-up for a loop that re-checks its condition after every wait (no lost wake-ups). */
class Signal {
  private waiters: Array<() => void> = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

export async function inPlaceCeilingSlice(o: CeilingOptions): Promise<Slice> {
  const walFile = await fs.promises.open(o.file, fs.constants.O_RDWR | fs.constants.O_DSYNC);
  const extentFile = await fs.promises.open(o.file, "r+");
  const recordBytes = o.blockSizeBytes + RECORD_HEADER_BYTES;
  const batch = randomBytes(recordBytes * o.recordsPerBatch);
  const block = randomBytes(o.blockSizeBytes);
  const walRecords = Math.floor(o.walSizeBytes / recordBytes);
  if (walRecords < 2 * o.recordsPerBatch) throw new Error("WAL too small for two batches");
  const extentOffsetBytes = WAL_OFFSET_BYTES + o.walSizeBytes;
  // A cycle starts once this many records wait, or when the appends have ended.
  const cycleStartRecords = Math.min(o.cycleRecords, Math.floor(walRecords / 2));

  let appended = 0; // records in durable WAL batches
  let checkpointed = 0; // records whose extent writes are durable: their WAL space is free again
  let appending = true;
  const spaceFreed = new Signal();
  const recordsArrived = new Signal();

  const start = performance.now();
  const deadline = start + o.seconds * 1000;

  const appendLoop = async (): Promise<void> => {
    let walPos = 0;
    while (performance.now() < deadline) {
      while (appended - checkpointed + o.recordsPerBatch > walRecords) await spaceFreed.wait();
      if (walPos + batch.length > o.walSizeBytes) walPos = 0; // the ring wraps (PADDING)
      await walFile.write(batch, 0, batch.length, WAL_OFFSET_BYTES + walPos);
      walPos += batch.length;
      appended += o.recordsPerBatch;
      recordsArrived.notify();
    }
    appending = false;
    recordsArrived.notify();
  };

  const writebackLoop = async (): Promise<void> => {
    while (appending || checkpointed < appended) {
      const pending = appended - checkpointed;
      if (pending === 0 || (appending && pending < cycleStartRecords)) {
        await recordsArrived.wait();
        continue;
      }
      const end = checkpointed + Math.min(pending, o.cycleRecords);
      let next = checkpointed;
      const writer = async (): Promise<void> => {
        while (next < end) {
          next++;
          const lba = Math.floor(Math.random() * o.extentBlocks);
          await extentFile.write(block, 0, block.length, extentOffsetBytes + lba * o.blockSizeBytes);
        }
      };
      await Promise.all(Array.from({ length: EXTENT_WRITE_CONCURRENCY }, writer));
      await extentFile.datasync();
      checkpointed = end;
      spaceFreed.notify();
    }
  };

  try {
    await Promise.all([appendLoop(), writebackLoop()]);
    return { units: appended, seconds: (performance.now() - start) / 1000 };
  } finally {
    await walFile.close();
    await extentFile.close();
  }
}
