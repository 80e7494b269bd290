import { assert } from "./errors";

const TWO_32 = 0x1_0000_0000;

/** LSNs, epochs and offsets are JS safe integers (< 2^53); on disk they are u64 LE. */
export function writeU64(buf: Buffer, offset: number, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, `u64 value ${value} must be a safe non-negative integer`);
  buf.writeUInt32LE(value % TWO_32, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_32), offset + 4);
}

/** Returns -1 when the stored value does not fit a safe integer (treated as corruption by callers). */
export function readU64(buf: Buffer, offset: number): number {
  const lo = buf.readUInt32LE(offset);
  const hi = buf.readUInt32LE(offset + 4);
  if (hi >= 0x20_0000) return -1;
  return hi * TWO_32 + lo;
}
