import * as fs from "node:fs";
import { assert, StorageError, wrapIoError } from "./errors";
import { parseRecords } from "./record";
import type { WalGeometry } from "./wal-scan";

/**
 * The staged WAL tail of a base-image install: an append-only sidecar holding whole encoded
 * records (exactly the bytes `readRecords` returns), replayed by the install redo after the commit
 * point. Kept apart from the live WAL so an unfinished install never touches the live state.
 */
export interface TailFile {
  /** Fills `buf` from `offsetBytes` (reading past the end is an error). */
  read(buf: Buffer, offsetBytes: number): Promise<void>;
  write(buf: Buffer, offsetBytes: number): Promise<void>;
  truncate(lengthBytes: number): Promise<void>;
  /** fdatasync (covers the file length too). */
  sync(): Promise<void>;
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
}

/** A regular file. */
export async function openTailFile(path: string, fresh: boolean): Promise<TailFile> {
  const fh = await fs.promises.open(path, fresh ? "w+" : "r+");
  return {
    async read(buf, offsetBytes) {
      for (let done = 0; done < buf.length; ) {
        const { bytesRead } = await fh.read(buf, done, buf.length - done, offsetBytes + done);
        if (bytesRead === 0) throw new Error(`short read of ${path} at ${offsetBytes + done}`);
        done += bytesRead;
      }
    },
    async write(buf, offsetBytes) {
      for (let done = 0; done < buf.length; ) {
        const { bytesWritten } = await fh.write(buf, done, buf.length - done, offsetBytes + done);
        done += bytesWritten;
      }
    },
    truncate: (lengthBytes) => fh.truncate(lengthBytes),
    sync: () => fh.datasync(),
    sizeBytes: async () => (await fh.stat()).size,
    close: () => fh.close(),
  };
}

/** In-memory tail for tests: keeps the synced bytes apart so a simulated crash can drop the rest. */
export class SimTailFile implements TailFile {
  private current: Buffer;
  private durable: Buffer;

  constructor(image: Buffer = Buffer.alloc(0)) {
    this.current = Buffer.from(image);
    this.durable = Buffer.from(image);
  }

  async read(buf: Buffer, offsetBytes: number): Promise<void> {
    await Promise.resolve();
    if (offsetBytes + buf.length > this.current.length) throw new Error("sim tail: read past the end");
    this.current.copy(buf, 0, offsetBytes, offsetBytes + buf.length);
  }

  async write(buf: Buffer, offsetBytes: number): Promise<void> {
    await Promise.resolve();
    const end = offsetBytes + buf.length;
    if (end > this.current.length) {
      const grown = Buffer.alloc(Math.max(end, this.current.length * 2));
      this.current.copy(grown);
      this.current = grown.subarray(0, end);
    }
    buf.copy(this.current, offsetBytes);
  }

  async truncate(lengthBytes: number): Promise<void> {
    await Promise.resolve();
    const next = Buffer.alloc(lengthBytes);
    this.current.copy(next, 0, 0, Math.min(lengthBytes, this.current.length));
    this.current = next;
  }

  async sync(): Promise<void> {
    await Promise.resolve();
    this.durable = Buffer.from(this.current);
  }

  async sizeBytes(): Promise<number> {
    return this.current.length;
  }

  async close(): Promise<void> {}

  /** What a reboot finds: the synced bytes, plus the unsynced ones when `keepUnsynced`. */
  crash(keepUnsynced = false): SimTailFile {
    return new SimTailFile(keepUnsynced ? this.current : this.durable);
  }
}

/** What is staged: LSNs firstLsn..lastLsn (count 0 = nothing staged, then both are 0). */
export interface StagedTailSummary {
  firstLsn: number;
  lastLsn: number;
  count: number;
}

/**
 * Validates and appends record batches to a tail file. Framing, CRCs and the CRC chain inside a
 * batch are checked before anything is queued; continuity with what is already staged (LSN + 1,
 * CRC chain, epochs never decreasing) is checked in order, before any byte is written. Calls are
 * serialized so concurrent batches cannot interleave.
 */
export class TailStager {
  bytes = 0;
  count = 0;
  firstLsn = 0;
  lastLsn = 0;
  lastCrc = 0;
  lastEpoch = 0;
  /** prevCrc of the first staged record: it must be the CRC of the source's base record. */
  firstPrevCrc = 0;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly file: TailFile,
    private readonly geo: WalGeometry,
  ) {}

  stage(buf: Buffer, reset: boolean): Promise<StagedTailSummary> {
    if (!Buffer.isBuffer(buf)) throw new StorageError("invalid_argument", "records must be a Buffer");
    const parsed = parseRecords(buf, this.geo.blockSize, this.geo.maxRecordBytes);
    if (!parsed.ok) {
      throw new StorageError("corrupt", `tail batch invalid at byte ${parsed.atOffset}: ${parsed.problem}`);
    }
    const records = parsed.records;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (i > 0 && r.epoch < records[i - 1]!.epoch) {
        throw new StorageError("epoch_mismatch", `tail record LSN ${r.lsn}: epoch ${r.epoch} decreases`);
      }
      if (r.lba + r.blockCount > this.geo.volumeBlocks) {
        throw new StorageError(
          "out_of_range",
          `tail record LSN ${r.lsn} addresses blocks past the volume end`,
        );
      }
    }
    const run = async (): Promise<StagedTailSummary> => {
      const first = records[0];
      const continuing = !reset && this.count > 0;
      if (first && continuing) {
        if (first.lsn !== this.lastLsn + 1) {
          throw new StorageError(
            "lsn_gap",
            `tail record LSN ${first.lsn} does not follow the staged tail (last ${this.lastLsn})`,
          );
        }
        if (first.prevCrc !== this.lastCrc) {
          throw new StorageError(
            "log_mismatch",
            `tail record LSN ${first.lsn} does not continue the staged tail`,
          );
        }
        if (first.epoch < this.lastEpoch) {
          throw new StorageError(
            "epoch_mismatch",
            `tail record LSN ${first.lsn}: epoch ${first.epoch} below the staged ${this.lastEpoch}`,
          );
        }
      }
      try {
        if (reset) {
          await this.file.truncate(0);
          this.bytes = 0;
          this.count = 0;
          this.firstLsn = 0;
          this.lastLsn = 0;
          this.lastCrc = 0;
          this.lastEpoch = 0;
        }
        if (records.length > 0) await this.file.write(buf, this.bytes);
      } catch (err) {
        // A partly written batch lies beyond `bytes`: the next batch overwrites it, redo never reads it.
        throw wrapIoError(err, "install tail write");
      }
      if (first) {
        const last = records[records.length - 1]!;
        if (this.count === 0) {
          this.firstLsn = first.lsn;
          this.firstPrevCrc = first.prevCrc;
        }
        this.bytes += buf.length;
        this.count += records.length;
        this.lastLsn = last.lsn;
        this.lastCrc = last.crc;
        this.lastEpoch = last.epoch;
        assert(this.lastLsn - this.firstLsn + 1 === this.count, "staged tail LSNs contiguous");
      }
      return this.summary();
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  summary(): StagedTailSummary {
    return { firstLsn: this.firstLsn, lastLsn: this.lastLsn, count: this.count };
  }

  /** Waits for every queued batch. */
  async idle(): Promise<void> {
    await this.chain;
  }

  /** The staged tail must continue baseLsn, stay within the install epoch and cover imageHighLsn; returns its last LSN. */
  checkCommit(baseLsn: number, epoch: number, imageHighLsn: number, baseCrc?: number): number {
    const staged = this.summary();
    if (staged.count > 0 && staged.firstLsn !== baseLsn + 1) {
      throw new StorageError(
        "lsn_gap",
        `the staged tail starts at LSN ${staged.firstLsn}, not at baseLsn + 1 = ${baseLsn + 1}`,
      );
    }
    if (staged.count > 0 && baseCrc !== undefined && this.firstPrevCrc !== baseCrc) {
      throw new StorageError(
        "log_mismatch",
        `the staged tail's first record (LSN ${staged.firstLsn}) does not continue the base record's CRC`,
      );
    }
    if (staged.count > 0 && this.lastEpoch > epoch) {
      throw new StorageError(
        "epoch_mismatch",
        `staged tail has epoch ${this.lastEpoch} > install epoch ${epoch}`,
      );
    }
    const lastLsn = staged.count > 0 ? staged.lastLsn : baseLsn;
    if (lastLsn < imageHighLsn) {
      // The image may hold effects up to imageHighLsn; without their records the copy would be
      // a state no history ever had.
      throw new StorageError(
        "lsn_gap",
        `the staged tail ends at LSN ${lastLsn}, below imageHighLsn ${imageHighLsn}: stage up to it first`,
      );
    }
    return lastLsn;
  }
}
