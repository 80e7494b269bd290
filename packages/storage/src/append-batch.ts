import { assert } from "./errors";
import { checkRawAppend } from "./raw-append-check";
import { encodeHeader, RECORD_HEADER_BYTES, RecordType, type RecordView, sealHeader } from "./record";
import type { VolumeState } from "./state";

export interface RawAppendResult {
  /** Head LSN after the call. */
  headLsn: number;
  appended: number;
  /** Records at or below the head that were skipped as duplicates. */
  skipped: number;
}

export type AppendRequest =
  | { kind: "write"; lba: number; blockCount: number; data: Buffer }
  | { kind: "trim"; lba: number; blockCount: number }
  | { kind: "raw"; buf: Buffer; records: RecordView[] };

export interface PendingAppend {
  req: AppendRequest;
  bytes: number;
  deadlineMs: number;
  resolve: (v: number | RawAppendResult) => void;
  reject: (e: unknown) => void;
}

/** One contiguous physical WAL range, written with one pwritev. */
export interface WalSegment {
  phys: number;
  bufs: Buffer[];
}

export interface AppendBatch {
  placed: PlacedAppend[];
  segments: WalSegment[];
  /** WAL head before the batch: restored if the write fails, so a failed batch leaves no hole. */
  startOffset: number;
  startLsn: number;
  startCrc: number | undefined;
}

export interface PlacedAppend {
  pending: PendingAppend;
  /** For raw requests: the records actually appended (duplicates removed). */
  records: RecordView[];
  skipped: number;
  firstLsn: number;
  /** Logical offset of each record placed (write/trim: one). */
  offsets: number[];
  /** write/trim: the sealed record's CRC. */
  crc: number;
  /** write/trim: the epoch the record was sealed with. */
  epoch: number;
}

/** The admission queue as the batch builder sees it: it only looks at the front and takes from it. */
export interface AppendQueueFront {
  peek(): PendingAppend | undefined;
  take(): PendingAppend;
}

/**
 * Bounds how many iovecs one batch collects (each record counts one spare), so a single batch stays a
 * bounded amount of work and memory; the device splits the segments into IOV_MAX-sized pwritev calls.
 */
const MAX_BATCH_IOVECS = 4000;

/**
 * Takes requests from the queue front while they fit under `limitBytes` of WAL in use; assigns
 * their LSNs, encodes write/trim records, and lays everything out as iovecs in the ring (padding
 * where a record would straddle the end). Reserves the WAL space and LSNs in `state` before
 * returning; returns undefined (nothing reserved) when not even the first request fits. Invalid raw
 * requests are rejected and dropped from the queue as they are met.
 */
export function buildAppendBatch(
  state: VolumeState,
  limitBytes: number,
  queue: AppendQueueFront,
): AppendBatch | undefined {
  const s = state;
  const W = s.geo.walSizeBytes;
  const placed: PlacedAppend[] = [];
  const segments: WalSegment[] = [];
  const startOffset = s.reservedOffset;
  const startLsn = s.nextLsn;
  const startCrc = s.lastCrc;
  let prevCrc = s.lastCrc;
  let offset = s.reservedOffset;
  let lsn = s.nextLsn;
  let iovecs = 0;
  let current: WalSegment | undefined;
  const openSegment = (phys: number): WalSegment => {
    const seg = { phys, bufs: [] as Buffer[] };
    segments.push(seg);
    return seg;
  };
  const place = (recordBytes: number, bufs: Buffer[], nextLsn: number): number => {
    const toEnd = W - (offset % W);
    if (recordBytes > toEnd) {
      if (toEnd >= RECORD_HEADER_BYTES) {
        const pad = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
        sealHeader(encodeHeader(pad, 0, RecordType.PADDING, nextLsn, s.epoch, 0, 0, toEnd, 0), undefined);
        current = current ?? openSegment(offset % W);
        current.bufs.push(pad);
      }
      offset += toEnd;
      current = undefined;
    }
    current = current ?? openSegment(offset % W);
    for (const b of bufs) current.bufs.push(b);
    iovecs += bufs.length + 1;
    const at = offset;
    offset += recordBytes;
    return at;
  };
  /** WAL bytes a record of this size needs at `off`, padding included. */
  const need = (off: number, recordBytes: number): number => {
    const toEnd = W - (off % W);
    return recordBytes > toEnd ? toEnd + recordBytes : recordBytes;
  };

  for (let p = queue.peek(); p !== undefined && iovecs < MAX_BATCH_IOVECS; p = queue.peek()) {
    const req = p.req;
    if (req.kind === "raw") {
      const error = checkRawAppend(s, req.records, lsn, prevCrc);
      if (error) {
        queue.take().reject(error);
        continue;
      }
      const fresh = req.records.filter((r) => r.lsn >= lsn);
      let end = offset;
      for (const r of fresh) end += need(end, r.recordBytes);
      if (end - s.tailOffset > limitBytes) break;
      queue.take();
      const offsets: number[] = [];
      for (const r of fresh) {
        offsets.push(place(r.recordBytes, [req.buf.subarray(r.offset, r.offset + r.recordBytes)], r.lsn));
        prevCrc = r.crc;
        lsn++;
      }
      placed.push({
        pending: p,
        crc: 0,
        epoch: 0,
        records: fresh,
        skipped: req.records.length - fresh.length,
        firstLsn: fresh[0]?.lsn ?? 0,
        offsets,
      });
      continue;
    }
    const payload = req.kind === "write" ? req.data : undefined;
    const recordBytes = RECORD_HEADER_BYTES + (payload?.length ?? 0);
    if (offset + need(offset, recordBytes) - s.tailOffset > limitBytes) break;
    queue.take();
    const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
    const type = req.kind === "write" ? RecordType.WRITE : RecordType.TRIM;
    prevCrc = sealHeader(
      encodeHeader(header, 0, type, lsn, s.epoch, req.lba, req.blockCount, recordBytes, prevCrc ?? 0),
      payload,
    );
    const at = place(recordBytes, payload ? [header, payload] : [header], lsn);
    placed.push({
      pending: p,
      crc: prevCrc,
      epoch: s.epoch,
      records: [],
      skipped: 0,
      firstLsn: lsn,
      offsets: [at],
    });
    lsn++;
  }
  if (placed.length === 0) return undefined;
  assert(offset - s.tailOffset <= W, "WAL over-reserved");
  s.reservedOffset = offset;
  s.nextLsn = lsn;
  s.lastCrc = prevCrc;
  return { placed, segments, startOffset, startLsn, startCrc };
}
