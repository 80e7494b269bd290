import type { ShipRequest } from "./generated/blockship/v1/ShipRequest";

// Encoding of the primary's Ship batches without copying the records.
//
// A batch message is a few header bytes followed by the WAL records (up to 16 MiB). protobufjs
// would allocate a message-sized buffer and copy the records into it, and grpc-js then copies the
// message once more into its framed buffer. Each of those buffers is external memory to V8, and
// the more of it a process allocates, the more often V8 runs a full mark-compact: shipping at
// ~100 MB/s the primary spent over half its CPU in GC. So the shipper reads the records with
// free room in front of them (storage `readRecords(..., SHIP_BATCH_HEADROOM_BYTES)`), the
// header is written into that room, and the serializer hands grpc-js the view over header +
// records: one copy (grpc-js's framing) instead of two, one large allocation per batch fewer.
//
// The bytes are exactly what protobufjs produces for the same message, field order included
// (fields in number order), so any protobuf decoder reads them.

/** Room a batch's records need in front of them for the header (worst case is 45 bytes). */
export const SHIP_BATCH_HEADROOM_BYTES = 64;

const PRE_ENCODED = Symbol("blockship.shipRequest.preEncoded");

type PreEncoded = ShipRequest & { [PRE_ENCODED]?: Buffer };

/** protobuf wire tags: (field number << 3) | wire type (0 varint, 2 length-delimited). */
const TAG_SHIP_BATCH = (4 << 3) | 2;
const TAG_FIRST_LSN = (1 << 3) | 0;
const TAG_LAST_LSN = (2 << 3) | 0;
const TAG_RECORD_COUNT = (3 << 3) | 0;
const TAG_RECORDS = (4 << 3) | 2;

function varintBytes(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes `v` (a safe non-negative integer) as a varint at `at`; returns the offset after it. */
function writeVarint(buf: Uint8Array, at: number, v: number): number {
  while (v >= 128) {
    buf[at++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  buf[at++] = v;
  return at;
}

function checkCount(name: string, v: number, max: number): void {
  if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new RangeError(`${name} ${v} is not in 0..${max}`);
}

/**
 * A batch ShipRequest whose wire bytes are built in place: the header goes into the
 * SHIP_BATCH_HEADROOM_BYTES right before `records`, which must be memory the caller owns and
 * nothing else uses (storage `readRecords` with that headroom gives exactly this). The returned
 * message also carries the plain fields, so a client without our serializer still sends it right.
 */
export function shipBatchInPlace(
  records: Buffer,
  firstLsn: number,
  lastLsn: number,
  count: number,
): ShipRequest {
  checkCount("firstLsn", firstLsn, Number.MAX_SAFE_INTEGER);
  checkCount("lastLsn", lastLsn, Number.MAX_SAFE_INTEGER);
  checkCount("count", count, 0xffff_ffff);
  const walBatchBytes =
    1 +
    varintBytes(firstLsn) +
    1 +
    varintBytes(lastLsn) +
    1 +
    varintBytes(count) +
    1 +
    varintBytes(records.length) +
    records.length;
  const headerBytes = 1 + varintBytes(walBatchBytes) + (walBatchBytes - records.length);
  if (headerBytes > SHIP_BATCH_HEADROOM_BYTES || records.byteOffset < headerBytes) {
    throw new RangeError(`records need ${headerBytes} bytes of headroom (have ${records.byteOffset})`);
  }
  const start = records.byteOffset - headerBytes;
  const wire = Buffer.from(records.buffer, start, headerBytes + records.length);
  let at = 0;
  wire[at++] = TAG_SHIP_BATCH;
  at = writeVarint(wire, at, walBatchBytes);
  wire[at++] = TAG_FIRST_LSN;
  at = writeVarint(wire, at, firstLsn);
  wire[at++] = TAG_LAST_LSN;
  at = writeVarint(wire, at, lastLsn);
  wire[at++] = TAG_RECORD_COUNT;
  at = writeVarint(wire, at, count);
  wire[at++] = TAG_RECORDS;
  at = writeVarint(wire, at, records.length);
  if (at !== headerBytes) throw new Error(`ship header is ${at} bytes, computed ${headerBytes}`);
  const message: PreEncoded = {
    batch: { first_lsn: String(firstLsn), last_lsn: String(lastLsn), record_count: count, records },
  };
  message[PRE_ENCODED] = wire;
  return message;
}

/** Wraps a ShipRequest serializer: messages from shipBatchInPlace are sent as built. */
export function shipRequestSerializer(
  fallback: (message: ShipRequest) => Buffer,
): (message: ShipRequest) => Buffer {
  return (message) => (message as PreEncoded)[PRE_ENCODED] ?? fallback(message);
}
