import { invalidArgument, type U64Wire, u64FromWire } from "@blockship/rpc";

// LSNs and epochs are plain numbers inside this package (as in storage); the wire carries uint64
// decimal strings. Convert at the edge and refuse values a number cannot hold exactly.

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A uint64 wire value as a safe integer (`invalid_argument` naming `field` otherwise). */
export function numFromWire(value: U64Wire | null | undefined, field: string): number {
  const v = u64FromWire(value, field);
  if (v > MAX_SAFE) throw invalidArgument(field, `${v} exceeds ${Number.MAX_SAFE_INTEGER}`);
  return Number(v);
}

/** A safe non-negative integer as a uint64 wire string. */
export function numToWire(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a u64: ${value}`);
  return String(value);
}
