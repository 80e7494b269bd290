import type { BlockDevice } from "./device";
import { StorageError } from "./errors";
import { checkHeader, crcMatches, RECORD_HEADER_BYTES, type RecordHeader, RecordType } from "./record";

export interface WalGeometry {
  /** Device offset of the WAL region. */
  walOffsetBytes: number;
  walSizeBytes: number;
  blockSize: number;
  /** Largest WRITE/TRIM record allowed (header + payload). */
  maxRecordBytes: number;
  /** Volume size in blocks: records addressing blocks past it are invalid. */
  volumeBlocks: number;
}

export interface ScanRecord extends RecordHeader {
  /** Logical WAL offset of the record. */
  logicalOffset: number;
  /** The chunk the record was read into and the record's offset in it (views stay valid). */
  buf: Buffer;
  at: number;
}

export interface ScanOptions {
  startOffset: number;
  /** Exact logical end to scan to; omitted = recovery mode (stop quietly at the first invalid record). */
  endOffset?: number;
  expectLsn: number;
  /** Records with a higher epoch than this are invalid (epochs are persisted before use). */
  maxEpoch: number;
  minEpoch?: number;
  /** CRC of the record before startOffset, when known: the first record's prevCrc must match. */
  prevCrc?: number;
  /**
   * Reused in turn for the chunk reads (each at least scanChunkBytes); a record's views stay valid
   * until the buffer comes round again, i.e. for `chunkBuffers.length - 1` more onChunkDone calls.
   * Without them every chunk gets a fresh buffer.
   */
  chunkBuffers?: Buffer[];
  /** Called after the records of each chunk were reported, before the buffer is reused. */
  onChunkDone?: () => Promise<void>;
  /** Return false to stop after this record. Padding is not reported. */
  onRecord: (rec: ScanRecord) => boolean | undefined;
}

export interface ScanResult {
  /** Logical end of the last valid record (padding included). */
  endOffset: number;
  /** LSN of the last valid WRITE/TRIM record (expectLsn - 1 when none). */
  lastLsn: number;
  /** Why a recovery-mode scan stopped (undefined when it reached an explicit end or was stopped). */
  stopReason?: string;
  lastEpoch: number;
  /** CRC of the last valid WRITE/TRIM record (the input prevCrc when none). */
  lastCrc: number | undefined;
}

const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Walks WAL records in LSN order from a logical offset. Records never straddle the ring end: a
 * PADDING record (or, if fewer than 40 bytes remain, nothing) fills the gap and the walk continues
 * at the next lap. Every record is checked: header sanity, CRC, LSN = previous + 1, epoch bounds.
 */
export function scanChunkBytes(geo: WalGeometry): number {
  return Math.max(DEFAULT_CHUNK_BYTES, geo.maxRecordBytes);
}

export async function scanWal(device: BlockDevice, geo: WalGeometry, opts: ScanOptions): Promise<ScanResult> {
  const W = geo.walSizeBytes;
  const chunkBytes = scanChunkBytes(geo);
  const recovery = opts.endOffset === undefined;
  const limit = opts.endOffset ?? opts.startOffset + W;
  let pos = opts.startOffset;
  let endOffset = pos;
  let expect = opts.expectLsn;
  let lastEpoch = opts.minEpoch ?? 0;
  let lastCrc = opts.prevCrc;
  let chunkIndex = 0;

  const fail = (problem: string): ScanResult => {
    if (recovery) return { endOffset, lastLsn: expect - 1, stopReason: problem, lastEpoch, lastCrc };
    throw new StorageError("corrupt", `WAL record at logical offset ${pos}: ${problem}`);
  };

  while (pos < limit) {
    const phys = pos % W;
    const toRingEnd = W - phys;
    if (toRingEnd < RECORD_HEADER_BYTES) {
      pos += toRingEnd; // tail fragment too small for any record: skipped by construction
      continue;
    }
    const len = Math.min(chunkBytes, toRingEnd, limit - pos);
    if (len < RECORD_HEADER_BYTES) return fail("truncated header");
    const pool = opts.chunkBuffers;
    const buf = pool ? pool[chunkIndex++ % pool.length]!.subarray(0, len) : Buffer.allocUnsafe(len);
    await device.read(buf, geo.walOffsetBytes + phys);
    let at = 0;
    let advanced = false;
    for (;;) {
      if (pos >= limit) break;
      const left = len - at;
      if (left < RECORD_HEADER_BYTES) {
        if (toRingEnd - at < RECORD_HEADER_BYTES) {
          pos += toRingEnd - at; // fragment at the ring end: continue at the next lap
          advanced = true;
        }
        break; // otherwise re-read from pos
      }
      const check = checkHeader(buf, at, geo.blockSize, geo.maxRecordBytes);
      if (!check.ok) return fail(check.problem);
      const h = check.header;
      if (h.lsn !== expect) return fail(`LSN ${h.lsn} where ${expect} was expected`);
      if (h.epoch > opts.maxEpoch) return fail(`epoch ${h.epoch} above persisted epoch ${opts.maxEpoch}`);
      if (h.type === RecordType.PADDING) {
        if (h.recordBytes !== toRingEnd - at) return fail("padding does not end at the ring end");
        if (!crcMatches(buf, at, RECORD_HEADER_BYTES)) return fail("CRC mismatch (padding)");
        pos += h.recordBytes;
        endOffset = pos;
        advanced = true;
        break;
      }
      if (h.epoch < lastEpoch) return fail(`epoch ${h.epoch} below previous ${lastEpoch}`);
      if (h.lba + h.blockCount > geo.volumeBlocks) return fail("record addresses blocks past the volume end");
      if (h.recordBytes > toRingEnd - at) return fail("record crosses the ring end");
      if (pos + h.recordBytes > limit && !recovery) return fail("record crosses the scan end");
      if (h.recordBytes > left) {
        if (at === 0) return fail("record longer than the readable range");
        break; // re-read with the record at the chunk start
      }
      if (!crcMatches(buf, at, h.payloadBytes)) return fail("CRC mismatch");
      if (lastCrc !== undefined && h.prevCrc !== lastCrc) return fail("CRC chain broken (stale record)");
      const keepGoing = opts.onRecord({ ...h, logicalOffset: pos, buf, at });
      expect++;
      lastEpoch = h.epoch;
      lastCrc = h.crc;
      pos += h.recordBytes;
      at += h.recordBytes;
      endOffset = pos;
      advanced = true;
      if (keepGoing === false) {
        await opts.onChunkDone?.();
        return { endOffset, lastLsn: expect - 1, lastEpoch, lastCrc };
      }
    }
    await opts.onChunkDone?.();
    if (!advanced && pos < limit && pos % W !== 0) {
      // Nothing parsed and no lap change: only possible when a header straddles the chunk end.
      return fail("no progress");
    }
  }
  return { endOffset, lastLsn: expect - 1, lastEpoch, lastCrc };
}
