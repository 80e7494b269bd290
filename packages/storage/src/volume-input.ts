import { assert, StorageError } from "./errors";
import { parseRecords, type RecordView } from "./record";
import type { VolumeState } from "./state";

/** Largest single read: bounds the Buffer one call can make the volume allocate. */
export const MAX_READ_BYTES = 64 * 1024 * 1024;

/** Validates an LBA range against the volume's geometry; returns its block count. */
export function checkRange(state: VolumeState, lba: number, lengthBytes: number, maxBytes: number): number {
  const bs = state.geo.blockSize;
  if (!Number.isSafeInteger(lengthBytes) || lengthBytes <= 0) {
    throw new StorageError("invalid_argument", `length ${lengthBytes} must be a positive integer`);
  }
  if (lengthBytes % bs !== 0)
    throw new StorageError("invalid_argument", `length ${lengthBytes} is not a multiple of ${bs}`);
  if (lengthBytes > maxBytes) {
    throw new StorageError("invalid_argument", `length ${lengthBytes} exceeds the maximum ${maxBytes}`);
  }
  const blocks = lengthBytes / bs;
  if (!Number.isSafeInteger(lba) || lba < 0 || lba + blocks > state.volumeBlocks) {
    throw new StorageError(
      "out_of_range",
      `blocks [${lba}, ${lba + blocks}) outside the volume (${state.volumeBlocks} blocks)`,
    );
  }
  assert(blocks > 0, "blocks > 0");
  return blocks;
}

/**
 * Parses a replica's batch of encoded records (CRC + chain verified) and refuses one that could
 * never be admitted: it would wait for WAL space forever instead of failing.
 */
export function parseRecordBatch(state: VolumeState, bytes: unknown, hardLimitBytes: number): RecordView[] {
  if (!Buffer.isBuffer(bytes)) throw new StorageError("invalid_argument", "records must be a Buffer");
  const parsed = parseRecords(bytes, state.geo.blockSize, state.geo.maxRecordBytes);
  if (!parsed.ok) {
    throw new StorageError("corrupt", `record batch invalid at byte ${parsed.atOffset}: ${parsed.problem}`);
  }
  if (parsed.records.length === 0) return parsed.records;
  // The batch crosses the ring end at most once: one padding, at most one record long.
  const largest = parsed.records.reduce((m, r) => Math.max(m, r.recordBytes), 0);
  if (bytes.length + largest > hardLimitBytes) {
    throw new StorageError(
      "invalid_argument",
      `record batch of ${bytes.length} bytes cannot be admitted (hard watermark or admission queue: ${hardLimitBytes} bytes)`,
    );
  }
  return parsed.records;
}
