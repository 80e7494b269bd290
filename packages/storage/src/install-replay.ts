import { EXTENT_WRITE_CONCURRENCY } from "./config";
import type { BlockDevice } from "./device";
import { writeZeros } from "./discard";
import { assert, StorageError, wrapIoError } from "./errors";
import type { TailFile } from "./install-tail";
import { checkHeader, crcMatches, encodeHeader, RECORD_HEADER_BYTES, RecordType, sealHeader } from "./record";
import type { VolumeState } from "./state";

/** What the pending superblock says about the staged tail, plus where the new WAL starts. */
export interface TailReplayInput {
  tail: TailFile | undefined;
  tailBytes: number;
  baseLsn: number;
  lastLsn: number;
  /** Install epoch: no record may carry a higher one. */
  maxEpoch: number;
  /**
   * CRC and epoch of the source's record baseLsn (the chain anchor the first tail record must
   * continue); undefined when the source did not name it (an older version).
   */
  baseCrc: number | undefined;
  baseEpoch: number | undefined;
  /** Logical WAL offset where the post-install WAL starts (the pending superblock's tail offset). */
  walStartOffset: number;
  /** Most WAL bytes the replayed suffix may occupy (padding included). */
  walBudgetBytes: number;
}

export interface TailReplayResult {
  /** Last record applied straight to the extent (baseLsn when every record went to the WAL). */
  checkpointLsn: number;
  /** CRC and epoch of record `checkpointLsn` (the base record's when it is baseLsn). */
  checkpointCrc: number | undefined;
  checkpointEpoch: number | undefined;
  /** Logical WAL offset just past the last record written to the WAL. */
  walEndOffset: number;
}

const READ_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Second step of the install redo: replays the staged tail (records baseLsn+1..lastLsn) on top of
 * the copied image, reading the sidecar in bounded chunks. It writes the device directly and does
 * not go through the appender: the redo runs with the gate held exclusively (or inside open()), so
 * the flusher cannot run, and an append path that needs the flusher to free WAL space would
 * deadlock on a tail larger than the WAL. Instead the newest records that fit in `walBudgetBytes`
 * are laid into the WAL ring from `walStartOffset` exactly as the appender would place them (padding
 * at the ring end), so they stay shippable and truncatable; every older record is applied straight
 * to the extent (latest version per block within a chunk, chunks in LSN order), which is what a
 * flusher cycle would have done. The caller syncs, then persists checkpoint = the returned
 * checkpointLsn. Every write is a pure function of (superblock, sidecar), so a crash midway is
 * repaired by running the whole redo again. Nothing is synced here.
 */
export async function replayStagedTail(
  device: BlockDevice,
  s: VolumeState,
  input: TailReplayInput,
): Promise<TailReplayResult> {
  const geo = s.geo;
  const W = geo.walSizeBytes;
  assert(
    input.walBudgetBytes + 2 * RECORD_HEADER_BYTES <= W,
    "install WAL budget leaves room for the end marker",
  );
  const corrupt = (problem: string): StorageError =>
    new StorageError("corrupt", `staged install tail: ${problem}`);
  if (input.tailBytes > 0 && !input.tail) throw corrupt("the tail sidecar is missing");
  // Records starting at or after `cut` go to the WAL; the slack of one record covers the padding.
  const cut = input.tailBytes - Math.max(0, input.walBudgetBytes - geo.maxRecordBytes);
  let walPos = input.walStartOffset;
  let expect = input.baseLsn + 1;
  let prevCrc = input.baseCrc;
  let prevEpoch = input.baseEpoch ?? 0;
  let checkpointLsn = input.baseLsn;
  let checkpointCrc = input.baseCrc;
  let checkpointEpoch = input.baseEpoch;
  const chunk = Buffer.allocUnsafe(Math.min(input.tailBytes, Math.max(READ_CHUNK_BYTES, geo.maxRecordBytes)));
  for (let filePos = 0; filePos < input.tailBytes; ) {
    const buf = chunk.subarray(0, Math.min(chunk.length, input.tailBytes - filePos));
    try {
      await input.tail!.read(buf, filePos);
    } catch (err) {
      throw wrapIoError(err, "install tail read");
    }
    // In LSN order: maps of lba → newest content, and trimmed ranges between them (a trim may cover
    // the whole volume, so it is a range to punch, never one entry per block).
    const extentSteps: ExtentStep[] = [new Map()];
    let extentBlocks = extentSteps[0] as Map<number, Buffer | undefined>;
    const walRecords: Array<{ at: number; bytes: number; lsn: number; epoch: number }> = [];
    let at = 0;
    while (buf.length - at >= RECORD_HEADER_BYTES) {
      const check = checkHeader(buf, at, geo.blockSize, geo.maxRecordBytes);
      if (!check.ok) throw corrupt(`${check.problem} at byte ${filePos + at}`);
      const h = check.header;
      if (h.type === RecordType.PADDING) throw corrupt(`padding at byte ${filePos + at}`);
      if (at + h.recordBytes > buf.length) break; // re-read with the record at the chunk start
      if (!crcMatches(buf, at, h.payloadBytes)) throw corrupt(`CRC mismatch at LSN ${h.lsn}`);
      if (h.lsn !== expect) throw corrupt(`LSN ${h.lsn} where ${expect} was expected`);
      if (prevCrc !== undefined && h.prevCrc !== prevCrc) throw corrupt(`CRC chain broken at LSN ${h.lsn}`);
      if (h.epoch < prevEpoch || h.epoch > input.maxEpoch)
        throw corrupt(`bad epoch ${h.epoch} at LSN ${h.lsn}`);
      if (h.lba + h.blockCount > geo.volumeBlocks)
        throw corrupt(`LSN ${h.lsn} addresses blocks past the end`);
      if (filePos + at < cut && h.type === RecordType.TRIM) {
        extentBlocks = new Map();
        extentSteps.push({ lba: h.lba, blocks: h.blockCount }, extentBlocks);
        checkpointLsn = h.lsn;
        checkpointCrc = h.crc;
      } else if (filePos + at < cut) {
        for (let i = 0; i < h.blockCount; i++) {
          const start = at + RECORD_HEADER_BYTES + i * geo.blockSize;
          extentBlocks.set(
            h.lba + i,
            h.type === RecordType.WRITE ? buf.subarray(start, start + geo.blockSize) : undefined,
          );
        }
        checkpointLsn = h.lsn;
        checkpointCrc = h.crc;
        checkpointEpoch = h.epoch;
      } else {
        walRecords.push({ at, bytes: h.recordBytes, lsn: h.lsn, epoch: h.epoch });
      }
      prevCrc = h.crc;
      prevEpoch = h.epoch;
      expect++;
      at += h.recordBytes;
    }
    if (at === 0) throw corrupt(`truncated record at byte ${filePos}`);
    try {
      for (const step of extentSteps) {
        if (step instanceof Map) await writeExtentBlocks(device, s, step);
        else await discardExtent(device, s, step);
      }
      walPos = await writeWalRecords(device, s, buf, walRecords, walPos);
    } catch (err) {
      throw wrapIoError(err, "install tail replay");
    }
    filePos += at;
  }
  if (expect - 1 !== input.lastLsn) throw corrupt(`ends at LSN ${expect - 1}, expected ${input.lastLsn}`);
  assert(walPos - input.walStartOffset <= input.walBudgetBytes, "replayed WAL suffix within budget");
  try {
    await zeroRecordSlot(device, s, walPos);
  } catch (err) {
    throw wrapIoError(err, "install WAL end marker");
  }
  return { checkpointLsn, checkpointCrc, checkpointEpoch, walEndOffset: walPos };
}

type ExtentStep = Map<number, Buffer | undefined> | { lba: number; blocks: number };

/** A replayed TRIM: the range becomes a hole (or zeros, without a discarding device). */
async function discardExtent(device: BlockDevice, s: VolumeState, r: { lba: number; blocks: number }) {
  const at = s.extentOffsetBytes + r.lba * s.geo.blockSize;
  const len = r.blocks * s.geo.blockSize;
  if (device.discard) await device.discard(at, len);
  else await writeZeros((bufs, off) => device.writev(bufs, off), at, len);
}

/** Sorted, coalesced writes of distinct blocks (so they may run concurrently). */
async function writeExtentBlocks(
  device: BlockDevice,
  s: VolumeState,
  blocks: Map<number, Buffer | undefined>,
): Promise<void> {
  if (blocks.size === 0) return;
  const bs = s.geo.blockSize;
  const zero = Buffer.alloc(bs);
  const lbas = [...blocks.keys()].sort((a, b) => a - b);
  const groups: Array<{ lba: number; bufs: Buffer[] }> = [];
  let g: { lba: number; bufs: Buffer[] } | undefined;
  for (const lba of lbas) {
    const b = blocks.get(lba) ?? zero;
    if (!g || g.lba + g.bufs.length !== lba || g.bufs.length >= 1024) {
      g = { lba, bufs: [] };
      groups.push(g);
    }
    g.bufs.push(b);
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < groups.length) {
      const grp = groups[next++]!;
      await device.writev(grp.bufs, s.extentOffsetBytes + grp.lba * bs);
    }
  };
  await Promise.all(Array.from({ length: Math.min(EXTENT_WRITE_CONCURRENCY, groups.length) }, worker));
}

/** Lays records into the WAL ring from `pos` the way the appender would; returns the new end. */
async function writeWalRecords(
  device: BlockDevice,
  s: VolumeState,
  buf: Buffer,
  records: Array<{ at: number; bytes: number; lsn: number; epoch: number }>,
  pos: number,
): Promise<number> {
  const W = s.geo.walSizeBytes;
  const segments: Array<{ phys: number; bufs: Buffer[] }> = [];
  let seg: { phys: number; bufs: Buffer[] } | undefined;
  for (const r of records) {
    const toEnd = W - (pos % W);
    if (r.bytes > toEnd) {
      if (toEnd >= RECORD_HEADER_BYTES) {
        const pad = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
        sealHeader(encodeHeader(pad, 0, RecordType.PADDING, r.lsn, r.epoch, 0, 0, toEnd, 0), undefined);
        if (!seg) {
          seg = { phys: pos % W, bufs: [] };
          segments.push(seg);
        }
        seg.bufs.push(pad);
      }
      pos += toEnd;
      seg = undefined;
    }
    if (!seg) {
      seg = { phys: pos % W, bufs: [] };
      segments.push(seg);
    }
    const view = buf.subarray(r.at, r.at + r.bytes);
    const last = seg.bufs[seg.bufs.length - 1];
    // Records are adjacent in the chunk: extend the previous view instead of adding an iovec.
    if (last && last.buffer === view.buffer && last.byteOffset + last.length === view.byteOffset) {
      seg.bufs[seg.bufs.length - 1] = buf.subarray(r.at - last.length, r.at + r.bytes);
    } else seg.bufs.push(view);
    pos += r.bytes;
  }
  for (const sg of segments) await device.writev(sg.bufs, s.geo.walOffsetBytes + sg.phys);
  return pos;
}

/**
 * Zeroes the header slot at logical `pos` (and at the next lap start if too little room is left
 * there for a record): recovery stops exactly at the end of the replayed records, never at a stale
 * record of the old log that happens to follow them.
 */
async function zeroRecordSlot(device: BlockDevice, s: VolumeState, pos: number): Promise<void> {
  const W = s.geo.walSizeBytes;
  const phys = pos % W;
  const span = Math.min(RECORD_HEADER_BYTES, W - phys);
  await device.writev([Buffer.alloc(span)], s.geo.walOffsetBytes + phys);
  if (span < RECORD_HEADER_BYTES)
    await device.writev([Buffer.alloc(RECORD_HEADER_BYTES)], s.geo.walOffsetBytes);
}
