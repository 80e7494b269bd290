import { crc32 } from "./crc";
import { StorageError } from "./errors";
import { readU64, writeU64 } from "./u64";

/**
 * On-device layout of the changed-block tracking region (after the extent, 4 KiB aligned): two
 * slots, A then B, each `header page | bitmap pages`. The slot whose header is valid (magic, CRC,
 * this volume's uuid and tracking tag) with the highest generation is the live one. Bitmap pages of
 * the live slot are updated in place (bits are only ever added there, so a torn page holds at
 * least the bits it held before); a clear writes the whole bitmap into the other slot, syncs, and
 * only then writes and syncs that slot's header with the next generation.
 */
export const CHANGE_HEADER_BYTES = 4096;
const MAGIC = Buffer.from("BLKSCBT1", "ascii");
const HEADER_VERSION = 1;
const CRC_OFFSET = CHANGE_HEADER_BYTES - 4;
/** Most bits the default grain allows (a 4 MiB bitmap); volumes up to 128 GiB get 4 KiB grains. */
export const DEFAULT_MAX_TRACKING_BITS = 32 * 1024 * 1024;

export interface ChangeGeometry {
  grainBytes: number;
  bits: number;
  /** Bytes of one slot (header + bitmap pages). */
  slotBytes: number;
  regionBytes: number;
}

export interface ChangeSlotHeader {
  uuid: string;
  /** Tracking tag of the superblock this slot belongs to (a new one after every install). */
  tag: number;
  grainBytes: number;
  bits: number;
  generation: number;
  /** Every block written by a record with LSN > baseLsn is marked (in this slot or in the WAL). */
  baseLsn: number;
}

function alignUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** The default grain: the block size, doubled until the bitmap has at most `maxBits` bits. */
export function defaultGrainBytes(
  volumeSizeBytes: number,
  blockSize: number,
  maxBits = DEFAULT_MAX_TRACKING_BITS,
): number {
  let grain = Math.max(blockSize, 4096);
  while (Math.ceil(volumeSizeBytes / grain) > maxBits) grain *= 2;
  return grain;
}

export function validateGrain(grainBytes: number, blockSize: number): void {
  if (!Number.isSafeInteger(grainBytes) || grainBytes < blockSize || (grainBytes & (grainBytes - 1)) !== 0) {
    throw new StorageError(
      "invalid_argument",
      `changeGrainBytes ${grainBytes} must be a power of two >= the block size ${blockSize}`,
    );
  }
}

export function changeGeometry(volumeSizeBytes: number, grainBytes: number): ChangeGeometry {
  const bits = Math.ceil(volumeSizeBytes / grainBytes);
  const slotBytes = CHANGE_HEADER_BYTES + alignUp(Math.ceil(bits / 8), 4096);
  return { grainBytes, bits, slotBytes, regionBytes: 2 * slotBytes };
}

/** Where the region starts: the first 4 KiB boundary at or after the end of the extent. */
export function changeRegionOffset(extentOffsetBytes: number, volumeSizeBytes: number): number {
  return alignUp(extentOffsetBytes + volumeSizeBytes, 4096);
}

export function encodeSlotHeader(h: ChangeSlotHeader): Buffer {
  const buf = Buffer.alloc(CHANGE_HEADER_BYTES);
  MAGIC.copy(buf, 0);
  buf.writeUInt16LE(HEADER_VERSION, 8);
  Buffer.from(h.uuid.replaceAll("-", ""), "hex").copy(buf, 16);
  buf.writeUInt32LE(h.tag, 32);
  buf.writeUInt32LE(h.grainBytes, 36);
  writeU64(buf, 40, h.generation);
  writeU64(buf, 48, h.baseLsn);
  writeU64(buf, 56, h.bits);
  buf.writeUInt32LE(crc32(buf.subarray(0, CRC_OFFSET)), CRC_OFFSET);
  return buf;
}

/** The header if it is valid and belongs to this volume/tag/geometry; undefined otherwise. */
export function decodeSlotHeader(
  buf: Buffer,
  expect: { uuid: string; tag: number; grainBytes: number; bits: number },
): ChangeSlotHeader | undefined {
  if (buf.length < CHANGE_HEADER_BYTES || !buf.subarray(0, 8).equals(MAGIC)) return undefined;
  if (buf.readUInt32LE(CRC_OFFSET) !== crc32(buf.subarray(0, CRC_OFFSET))) return undefined;
  if (buf.readUInt16LE(8) !== HEADER_VERSION) return undefined;
  const uuid = buf.subarray(16, 32).toString("hex");
  if (uuid !== expect.uuid.replaceAll("-", "")) return undefined;
  const h: ChangeSlotHeader = {
    uuid: expect.uuid,
    tag: buf.readUInt32LE(32),
    grainBytes: buf.readUInt32LE(36),
    generation: readU64(buf, 40),
    baseLsn: readU64(buf, 48),
    bits: readU64(buf, 56),
  };
  if (h.tag !== expect.tag || h.grainBytes !== expect.grainBytes || h.bits !== expect.bits) return undefined;
  if (h.generation < 0 || h.baseLsn < 0) return undefined;
  return h;
}
