import { RpcError } from "./errors";

// uint64 fields (LSNs, epochs, sizes, offsets) travel as decimal strings (proto-loader
// `longs: String`) and live as bigint in our code. A JS number above 2^53 silently loses
// precision, so numbers are accepted only when they are safe integers.

export const U64_MAX = (1n << 64n) - 1n;

/** What proto-loader (or a hand-built request) may hand us for a uint64 field. */
export interface LongLike {
  low: number;
  high: number;
  unsigned: boolean;
}
export type U64Wire = string | number | bigint | LongLike;

const DECIMAL = /^(0|[1-9][0-9]{0,19})$/;

/**
 * Reads a uint64 wire value as bigint. Rejects negatives, fractions, unsafe numbers,
 * non-decimal strings and values above 2^64-1 with `invalid_argument` naming `field`.
 * An absent value (undefined/null/"") is 0, as in proto3.
 */
export function u64FromWire(value: U64Wire | null | undefined, field = "value"): bigint {
  if (value === undefined || value === null || value === "") return 0n;
  switch (typeof value) {
    case "string": {
      if (!DECIMAL.test(value)) throw invalidU64(field, value);
      return checkRange(BigInt(value), field);
    }
    case "number": {
      if (!Number.isSafeInteger(value) || value < 0) throw invalidU64(field, value);
      return BigInt(value);
    }
    case "bigint":
      return checkRange(value, field);
    case "object":
      return fromLong(value, field);
    default:
      throw invalidU64(field, value);
  }
}

/** Writes a bigint as the decimal string proto-loader accepts for uint64 fields. */
export function u64ToWire(value: bigint): string {
  if (typeof value !== "bigint" || value < 0n || value > U64_MAX) {
    throw new RangeError(`u64ToWire: ${String(value)} is outside 0..2^64-1`);
  }
  return value.toString(10);
}

function fromLong(value: LongLike, field: string): bigint {
  const { low, high, unsigned } = value;
  if (!Number.isInteger(low) || !Number.isInteger(high)) throw invalidU64(field, value);
  if (!unsigned && high < 0) throw invalidU64(field, `${high}:${low} (negative)`);
  return (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
}

function checkRange(value: bigint, field: string): bigint {
  if (value < 0n || value > U64_MAX) throw invalidU64(field, value);
  return value;
}

function invalidU64(field: string, value: unknown): RpcError {
  const shown = typeof value === "object" ? JSON.stringify(value) : String(value);
  return new RpcError(
    "invalid_argument",
    `${field}: must be an unsigned 64-bit integer, got ${shown.slice(0, 64)}`,
  );
}
