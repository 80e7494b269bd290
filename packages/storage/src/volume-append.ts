import type { Appender, RawAppendResult } from "./appender";
import { StorageError } from "./errors";
import { RECORD_HEADER_BYTES } from "./record";
import type { VolumeState } from "./state";
import { checkRange, parseRecordBatch } from "./volume-input";

/** Most blocks one TRIM record covers (its block count is 32 bits; a power of two keeps pieces aligned). */
export const MAX_TRIM_RECORD_BLOCKS = 2 ** 31;

/** Validates and queues a WRITE record; resolves with its LSN once it is in the WAL. Throws on bad input. */
export function submitWrite(
  s: VolumeState,
  appender: Appender,
  maxWriteBytes: number,
  lba: number,
  data: Buffer,
): Promise<number> {
  if (!Buffer.isBuffer(data)) throw new StorageError("invalid_argument", "data must be a Buffer");
  const blocks = checkRange(s, lba, data.length, maxWriteBytes);
  return appender.submit(
    { kind: "write", lba, blockCount: blocks, data },
    data.length + RECORD_HEADER_BYTES,
  ) as Promise<number>;
}

/**
 * Queues TRIM records: one per range, or a few when it has more blocks than a record's 32-bit
 * block count holds; resolves with the last record's LSN.
 */
export function submitTrim(
  s: VolumeState,
  appender: Appender,
  lba: number,
  lengthBytes: number,
): Promise<number> {
  const blocks = checkRange(s, lba, lengthBytes, s.sb.volumeSizeBytes);
  const pieces: Array<Promise<number>> = [];
  for (let done = 0; done < blocks; done += MAX_TRIM_RECORD_BLOCKS) {
    const blockCount = Math.min(MAX_TRIM_RECORD_BLOCKS, blocks - done);
    const p = appender.submit({ kind: "trim", lba: lba + done, blockCount }, RECORD_HEADER_BYTES);
    pieces.push(p as Promise<number>);
  }
  return Promise.all(pieces).then((lsns) => Math.max(...lsns));
}

/** Validates and queues already-encoded records (replica path). */
export function submitRecords(
  s: VolumeState,
  appender: Appender,
  maxQueuedBytes: number,
  bytes: Buffer,
): Promise<RawAppendResult> {
  // A batch that could never be admitted is refused now, not left to wait or to fill the queue.
  const records = parseRecordBatch(s, bytes, Math.min(appender.hardLimitBytes, maxQueuedBytes));
  if (records.length === 0) return Promise.resolve({ headLsn: s.nextLsn - 1, appended: 0, skipped: 0 });
  return appender.submit({ kind: "raw", buf: bytes, records }, bytes.length) as Promise<RawAppendResult>;
}
