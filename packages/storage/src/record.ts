import { crc32 } from "./crc";
import { assert } from "./errors";
import { readU64, writeU64 } from "./u64";

/**
 * WAL record = 48-byte header + payload. The same bytes are the replication payload.
 *
 *   off size field
 *   0   4    crc32 (IEEE) over [4, 48 + payloadBytes)
 *   4   4    recordBytes: bytes this record occupies in the WAL (header + payload; padding: to ring end)
 *   8   1    type: 1 WRITE, 2 TRIM, 0xFF PADDING
 *   9   1    flags (0)
 *   10  2    format tag 0x5342 ("BS")
 *   12  4    blockCount: WRITE: payload blocks; TRIM: blocks trimmed; PADDING: 0
 *   16  8    lsn (PADDING: the LSN of the record that follows it, so stale padding is detectable)
 *   24  8    epoch of the writer
 *   32  8    lba
 *   40  4    prevCrc: CRC of the previous WRITE/TRIM record (0 in padding). Chains the log like
 *            Raft's log-matching check: a stale record left behind a rewritten slot, or a replica
 *            batch that does not continue this log, fails the chain.
 *   44  4    reserved (0)
 *   48  ...  payload: WRITE: blockCount * blockSize bytes; TRIM/PADDING: none (padding's
 *            remaining space is never written and not covered by the CRC)
 */
export const RECORD_HEADER_BYTES = 48;
export const RECORD_FORMAT_TAG = 0x5342;
export const RecordType = { WRITE: 1, TRIM: 2, PADDING: 0xff } as const;
export type RecordTypeCode = (typeof RecordType)[keyof typeof RecordType];

export interface RecordHeader {
  type: RecordTypeCode;
  lsn: number;
  epoch: number;
  lba: number;
  blockCount: number;
  prevCrc: number;
  crc: number;
  /** Bytes the record occupies (header + payload; for padding up to the ring end). */
  recordBytes: number;
  /** Bytes covered by the CRC (header + payload actually present). */
  payloadBytes: number;
}

/** Encodes a header for a WRITE/TRIM record into `out` at `at` and returns its CRC-ready view. */
export function encodeHeader(
  out: Buffer,
  at: number,
  type: RecordTypeCode,
  lsn: number,
  epoch: number,
  lba: number,
  blockCount: number,
  recordBytes: number,
  prevCrc: number,
): Buffer {
  const h = out.subarray(at, at + RECORD_HEADER_BYTES);
  h.writeUInt32LE(recordBytes, 4);
  h.writeUInt8(type, 8);
  h.writeUInt8(0, 9);
  h.writeUInt16LE(RECORD_FORMAT_TAG, 10);
  h.writeUInt32LE(blockCount, 12);
  writeU64(h, 16, lsn);
  writeU64(h, 24, epoch);
  writeU64(h, 32, lba);
  h.writeUInt32LE(prevCrc, 40);
  h.writeUInt32LE(0, 44);
  return h;
}

/** Seals the header: CRC over header[4..] and the payload (payload passed as a separate view: no copy). */
export function sealHeader(h: Buffer, payload: Buffer | undefined): number {
  let c = crc32(h.subarray(4, RECORD_HEADER_BYTES));
  if (payload && payload.length > 0) c = crc32(payload, c);
  h.writeUInt32LE(c, 0);
  return c;
}

/** Builds a self-contained record (tests, small callers). The hot path uses encodeHeader + writev. */
export function encodeRecord(args: {
  type: RecordTypeCode;
  lsn: number;
  epoch: number;
  lba: number;
  blockCount: number;
  blockSize: number;
  data?: Buffer;
  recordBytes?: number;
  prevCrc?: number;
}): Buffer {
  const payloadBytes = args.type === RecordType.WRITE ? args.blockCount * args.blockSize : 0;
  assert((args.data?.length ?? 0) === payloadBytes, "payload length must match blockCount");
  const buf = Buffer.alloc(RECORD_HEADER_BYTES + payloadBytes);
  const recordBytes = args.recordBytes ?? RECORD_HEADER_BYTES + payloadBytes;
  const h = encodeHeader(
    buf,
    0,
    args.type,
    args.lsn,
    args.epoch,
    args.lba,
    args.blockCount,
    recordBytes,
    args.prevCrc ?? 0,
  );
  if (args.data) args.data.copy(buf, RECORD_HEADER_BYTES);
  sealHeader(h, args.data);
  return buf;
}

export type HeaderCheck = { ok: true; header: RecordHeader } | { ok: false; problem: string };

/**
 * Validates the header fields that do not need the payload. `maxRecordBytes` bounds lengths so a
 * garbage header can never make a reader allocate or skip absurd amounts.
 */
export function checkHeader(buf: Buffer, at: number, blockSize: number, maxRecordBytes: number): HeaderCheck {
  if (buf.length - at < RECORD_HEADER_BYTES) return { ok: false, problem: "truncated header" };
  if (buf.readUInt16LE(at + 10) !== RECORD_FORMAT_TAG) return { ok: false, problem: "bad format tag" };
  const type = buf.readUInt8(at + 8);
  const recordBytes = buf.readUInt32LE(at + 4);
  const blockCount = buf.readUInt32LE(at + 12);
  const lsn = readU64(buf, at + 16);
  const epoch = readU64(buf, at + 24);
  const lba = readU64(buf, at + 32);
  if (lsn < 0 || epoch < 0 || lba < 0) return { ok: false, problem: "u64 field out of range" };
  if (buf.readUInt8(at + 9) !== 0 || buf.readUInt32LE(at + 44) !== 0)
    return { ok: false, problem: "bad flags" };
  let payloadBytes: number;
  if (type === RecordType.WRITE) {
    payloadBytes = blockCount * blockSize;
    if (blockCount === 0 || recordBytes !== RECORD_HEADER_BYTES + payloadBytes) {
      return { ok: false, problem: "bad WRITE length" };
    }
  } else if (type === RecordType.TRIM) {
    payloadBytes = 0;
    if (blockCount === 0 || recordBytes !== RECORD_HEADER_BYTES)
      return { ok: false, problem: "bad TRIM length" };
  } else if (type === RecordType.PADDING) {
    payloadBytes = 0;
    if (blockCount !== 0 || recordBytes < RECORD_HEADER_BYTES)
      return { ok: false, problem: "bad PADDING length" };
  } else {
    return { ok: false, problem: `unknown record type ${type}` };
  }
  if (recordBytes > maxRecordBytes && type !== RecordType.PADDING) {
    return { ok: false, problem: "record longer than allowed" };
  }
  if (lsn === 0) return { ok: false, problem: "LSN 0" };
  return {
    ok: true,
    header: {
      type: type as RecordTypeCode,
      lsn,
      epoch,
      lba,
      blockCount,
      prevCrc: buf.readUInt32LE(at + 40),
      crc: buf.readUInt32LE(at),
      recordBytes,
      payloadBytes: RECORD_HEADER_BYTES + payloadBytes,
    },
  };
}

export function crcMatches(buf: Buffer, at: number, coveredBytes: number): boolean {
  return buf.readUInt32LE(at) === crc32(buf.subarray(at + 4, at + coveredBytes));
}

/** A record inside a buffer of concatenated records: views only, nothing copied. */
export interface RecordView extends RecordHeader {
  /** Offset of the record inside the buffer it was parsed from. */
  offset: number;
}

export type ParseResult =
  | { ok: true; records: RecordView[] }
  | { ok: false; records: RecordView[]; problem: string; atOffset: number };

/**
 * Validates a buffer of concatenated WRITE/TRIM records (the replication payload): every header,
 * every CRC, strictly consecutive LSNs. Padding is not allowed (it is a WAL-layout artifact, never
 * shipped). Returns the valid prefix and, if any, where and why validation stopped.
 */
export function parseRecords(buf: Buffer, blockSize: number, maxRecordBytes: number): ParseResult {
  const records: RecordView[] = [];
  let at = 0;
  while (at < buf.length) {
    const check = checkHeader(buf, at, blockSize, maxRecordBytes);
    if (!check.ok) return { ok: false, records, problem: check.problem, atOffset: at };
    const h = check.header;
    if (h.type === RecordType.PADDING)
      return { ok: false, records, problem: "padding in batch", atOffset: at };
    if (at + h.recordBytes > buf.length)
      return { ok: false, records, problem: "truncated record", atOffset: at };
    if (!crcMatches(buf, at, h.payloadBytes))
      return { ok: false, records, problem: "CRC mismatch", atOffset: at };
    const prev = records[records.length - 1];
    if (prev && h.lsn !== prev.lsn + 1)
      return { ok: false, records, problem: "LSNs not consecutive", atOffset: at };
    if (prev && h.prevCrc !== prev.crc)
      return { ok: false, records, problem: "CRC chain broken", atOffset: at };
    records.push({ ...h, offset: at });
    at += h.recordBytes;
  }
  return { ok: true, records };
}

/** The payload (block data) of a WRITE record as a view into `buf`. */
export function recordPayload(buf: Buffer, view: RecordView): Buffer {
  return buf.subarray(view.offset + RECORD_HEADER_BYTES, view.offset + view.payloadBytes);
}
