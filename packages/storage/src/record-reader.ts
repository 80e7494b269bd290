import type { BlockDevice } from "./device";
import { StorageError } from "./errors";
import type { Gate } from "./gate";
import { checkHeader, parseRecords, RECORD_HEADER_BYTES, RecordType } from "./record";
import { lastLsnWithin, recordEndOffset, type VolumeState } from "./state";

/** Raw record bytes for shipping: concatenated WRITE/TRIM records (no padding), LSNs firstLsn..lastLsn. */
export interface RecordBatch {
  bytes: Buffer;
  firstLsn: number;
  lastLsn: number;
  count: number;
}

/** Largest headroom a caller may ask for in front of the records (a message header, not data). */
export const MAX_HEADROOM_BYTES = 4096;

/**
 * Reads retained records [fromLsn, L] where L is the last record ending within maxBytes (at least
 * one record). The range is read straight into one buffer (two preads when it wraps, skipping the
 * padding), then validated (CRC, LSN sequence, chain) and re-checked against slot reuse.
 * `headroomBytes` of the returned buffer's own memory lie right before `bytes` (unused by storage).
 */
export async function readRecordRange(
  device: BlockDevice,
  s: VolumeState,
  gate: Gate,
  fromLsn: number,
  maxBytes: number,
  headroomBytes = 0,
): Promise<RecordBatch> {
  if (!Number.isSafeInteger(fromLsn) || fromLsn < 1) {
    throw new StorageError("invalid_argument", `fromLsn ${fromLsn} must be a positive integer`);
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
    throw new StorageError("invalid_argument", `maxBytes ${maxBytes} must be a positive integer`);
  }
  if (!Number.isSafeInteger(headroomBytes) || headroomBytes < 0 || headroomBytes > MAX_HEADROOM_BYTES) {
    throw new StorageError(
      "invalid_argument",
      `headroomBytes ${headroomBytes} must be 0..${MAX_HEADROOM_BYTES}`,
    );
  }
  const release = await gate.shared();
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      if (fromLsn <= s.tailLsn) {
        throw new StorageError(
          "wal_recycled",
          `LSN ${fromLsn} is below the retained WAL (tail LSN ${s.tailLsn}); rebuild needed`,
        );
      }
      if (fromLsn > s.appendedLsn) {
        if (fromLsn > s.appendedLsn + 1) {
          throw new StorageError("out_of_range", `LSN ${fromLsn} is beyond head+1 (${s.appendedLsn + 1})`);
        }
        return { bytes: Buffer.alloc(0), firstLsn: fromLsn, lastLsn: fromLsn - 1, count: 0 };
      }
      const start = s.index.offsetOf(fromLsn);
      const last = lastLsnWithin(s, fromLsn, start + maxBytes);
      const end = recordEndOffset(s, last);
      const generation = s.walGeneration;
      const bytes = await readRange(device, s, start, end, headroomBytes);
      // Slot reuse guard: the bytes are ours only if no append reached that part of the ring since.
      if (s.walGeneration !== generation) continue;
      if (s.reservedOffset > start + s.geo.walSizeBytes) continue;
      const parsed = parseRecords(bytes, s.geo.blockSize, s.geo.maxRecordBytes);
      const n = parsed.records.length;
      if (
        !parsed.ok ||
        n === 0 ||
        parsed.records[0]!.lsn !== fromLsn ||
        parsed.records[n - 1]!.lsn !== last
      ) {
        throw new StorageError("corrupt", `WAL records ${fromLsn}..${last} failed validation on read`);
      }
      return { bytes, firstLsn: fromLsn, lastLsn: last, count: n };
    }
    throw new StorageError("wal_recycled", `LSN ${fromLsn} kept being recycled during the read`);
  } finally {
    release();
  }
}

async function readRange(
  device: BlockDevice,
  s: VolumeState,
  start: number,
  end: number,
  headroomBytes: number,
): Promise<Buffer> {
  const W = s.geo.walSizeBytes;
  // The headroom is part of the same allocation, in front of the records: the shipper writes its
  // message header there instead of copying the records into a new message buffer.
  const out = Buffer.allocUnsafe(headroomBytes + end - start).subarray(headroomBytes);
  const phys = start % W;
  const firstLen = Math.min(end - start, W - phys);
  await device.read(out.subarray(0, firstLen), s.geo.walOffsetBytes + phys);
  if (firstLen === end - start) return trimPadding(out, s);
  // Records never straddle the ring end: find where the records in the first part stop.
  let used = 0;
  while (firstLen - used >= RECORD_HEADER_BYTES) {
    const h = checkHeader(out, used, s.geo.blockSize, s.geo.maxRecordBytes);
    if (!h.ok) throw new StorageError("corrupt", `WAL record header at ${start + used}: ${h.problem}`);
    if (h.header.type === RecordType.PADDING) break;
    used += h.header.recordBytes;
  }
  const secondLen = end - (start + firstLen);
  await device.read(out.subarray(used, used + secondLen), s.geo.walOffsetBytes);
  return trimPadding(out.subarray(0, used + secondLen), s);
}

/** A range ending exactly at a lap end can include trailing padding (recordEndOffset is conservative). */
function trimPadding(buf: Buffer, s: VolumeState): Buffer {
  let at = 0;
  while (buf.length - at >= RECORD_HEADER_BYTES) {
    const h = checkHeader(buf, at, s.geo.blockSize, s.geo.maxRecordBytes);
    if (!h.ok || h.header.type === RecordType.PADDING) break;
    at += h.header.recordBytes;
  }
  return buf.subarray(0, at);
}
