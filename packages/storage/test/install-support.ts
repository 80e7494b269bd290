import { encodeRecord, RecordType } from "../src/index";
import { BS, block } from "./helpers";

export const VOL_BLOCKS = 64;
export const VOL_BYTES = VOL_BLOCKS * BS;

export interface TailOp {
  trim: boolean;
  lba: number;
  blocks: number;
  tag: number;
  /** Added to the previous record's epoch (epochs never decrease). */
  epochStep: number;
}

export interface BuiltTail {
  /** One encoded record per op, LSNs base+1.. */
  records: Buffer[];
  lastLsn: number;
  lastCrc: number;
  lastEpoch: number;
  /** The image with every record applied in LSN order: what the volume must read after commit. */
  expected: Buffer;
}

/** A deterministic base image: block i holds block(i, tag). */
export function imageOf(tag: number): Buffer {
  return Buffer.concat(Array.from({ length: VOL_BLOCKS }, (_, i) => block(i, tag)));
}

/**
 * Encodes the records a source would ship after `baseLsn` (CRC chain from an arbitrary value: the
 * record at baseLsn is the source's) and computes the model of image + tail.
 */
/** The CRC of the (imaginary) source record at the base LSN: the first tail record chains to it. */
export const BASE_RECORD_CRC = 0x5eed;

export function buildTail(baseLsn: number, firstEpoch: number, ops: TailOp[], image: Buffer): BuiltTail {
  const expected = Buffer.from(image);
  const records: Buffer[] = [];
  let prevCrc = BASE_RECORD_CRC;
  let epoch = firstEpoch;
  let lsn = baseLsn;
  for (const op of ops) {
    lsn++;
    epoch += op.epochStep;
    const blocks = Math.min(op.blocks, VOL_BLOCKS - op.lba);
    const data = op.trim ? undefined : block(op.lba, op.tag, blocks);
    const rec = encodeRecord({
      type: op.trim ? RecordType.TRIM : RecordType.WRITE,
      lsn,
      epoch,
      lba: op.lba,
      blockCount: blocks,
      blockSize: BS,
      data,
      prevCrc,
    });
    prevCrc = rec.readUInt32LE(0);
    records.push(rec);
    if (data) data.copy(expected, op.lba * BS);
    else expected.fill(0, op.lba * BS, (op.lba + blocks) * BS);
  }
  return { records, lastLsn: lsn, lastCrc: prevCrc, lastEpoch: epoch, expected };
}

/** Splits records into consecutive batches of the given sizes (the rest in one last batch). */
export function batches(records: Buffer[], sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  for (const n of sizes) {
    if (i >= records.length) break;
    out.push(Buffer.concat(records.slice(i, i + n)));
    i += n;
  }
  if (i < records.length) out.push(Buffer.concat(records.slice(i)));
  return out;
}

/** One encoded record continuing a tail (live shipping after the install). */
export function nextRecord(tail: BuiltTail, lba: number, tag: number): Buffer {
  return encodeRecord({
    type: RecordType.WRITE,
    lsn: tail.lastLsn + 1,
    epoch: tail.lastEpoch,
    lba,
    blockCount: 1,
    blockSize: BS,
    data: block(lba, tag),
    prevCrc: tail.lastCrc,
  });
}
