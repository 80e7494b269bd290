// Self-identifying block content for the fault-schedule checker: every 4 KiB block a writer sends
// carries its own LBA, the id of the write that produced it and a CRC over the rest, so any block
// read back from any copy names the history event it came from (or proves that no event wrote it).
import { crc32 } from "node:zlib";

export const BLOCK_BYTES = 4096;
const MAGIC = 0x4e4d5342; // "NMSB"
const HEADER_BYTES = 20; // magic u32, lba u64 (as two u32), write id u32, crc u32

/** What a block read back from a copy is. */
export type BlockIdentity =
  | { readonly kind: "zero" }
  | { readonly kind: "write"; readonly lba: number; readonly writeId: number }
  | { readonly kind: "garbage"; readonly why: string };

/** The content write `writeId` puts at `lba` (deterministic: the same id and LBA give the same bytes). */
export function blockContent(lba: number, writeId: number): Buffer {
  const block = Buffer.alloc(BLOCK_BYTES);
  block.writeUInt32LE(MAGIC, 0);
  block.writeUInt32LE(lba % 2 ** 32, 4);
  block.writeUInt32LE(Math.floor(lba / 2 ** 32), 8);
  block.writeUInt32LE(writeId, 12);
  // A cheap per-(lba, id) fill so that two writes never share a body.
  let x = (Math.imul(lba + 1, 0x9e3779b1) ^ Math.imul(writeId + 1, 0x85ebca6b)) >>> 0;
  for (let i = HEADER_BYTES; i < BLOCK_BYTES; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block.writeUInt32LE(x >>> 0, i);
  }
  block.writeUInt32LE(crcOf(block), 16);
  return block;
}

/** The content of `blocks` consecutive blocks of one write starting at `lba`. */
export function writeContent(lba: number, blocks: number, writeId: number): Buffer {
  return Buffer.concat(Array.from({ length: blocks }, (_, i) => blockContent(lba + i, writeId)));
}

/** Identifies one block read from a copy at `lba`. */
export function identify(block: Buffer, lba: number): BlockIdentity {
  if (block.length !== BLOCK_BYTES) return { kind: "garbage", why: `length ${block.length}` };
  if (isZero(block)) return { kind: "zero" };
  if (block.readUInt32LE(0) !== MAGIC) return { kind: "garbage", why: "no magic" };
  const storedLba = block.readUInt32LE(4) + block.readUInt32LE(8) * 2 ** 32;
  if (block.readUInt32LE(16) !== crcOf(block))
    return { kind: "garbage", why: "crc mismatch (torn or corrupt)" };
  if (storedLba !== lba) return { kind: "garbage", why: `block of lba ${storedLba} found at lba ${lba}` };
  return { kind: "write", lba, writeId: block.readUInt32LE(12) };
}

function crcOf(block: Buffer): number {
  return crc32(block.subarray(HEADER_BYTES), crc32(block.subarray(0, 16)));
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < block.length; i += 8) if (block.readBigUInt64LE(i) !== 0n) return false;
  return true;
}
