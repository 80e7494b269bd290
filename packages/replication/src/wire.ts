import {
  invalidArgument,
  type RecordId,
  type RecordId__Output,
  type U64Wire,
  u64FromWire,
} from "@blockship/rpc";
import type { RecordRef } from "@blockship/storage";

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

/** A record named on the wire (absent: the sender could not name it). Epoch 0 means unknown. */
export function recordRefFromWire(
  ref: RecordId__Output | null | undefined,
  field: string,
): RecordRef | undefined {
  if (ref === null || ref === undefined) return undefined;
  const lsn = numFromWire(ref.lsn, `${field}.lsn`);
  const epoch = numFromWire(ref.epoch, `${field}.epoch`);
  const crc = ref.crc;
  if (!Number.isInteger(crc) || crc < 0 || crc > 0xffff_ffff)
    throw invalidArgument(`${field}.crc`, `${crc} is not a uint32`);
  return { lsn, epoch: epoch === 0 && lsn !== 0 ? undefined : epoch, crc };
}

/** A record for the wire; undefined (field absent) when it cannot be named. */
export function recordRefToWire(ref: RecordRef | undefined): RecordId | undefined {
  if (ref === undefined) return undefined;
  return { lsn: numToWire(ref.lsn), epoch: numToWire(ref.epoch ?? 0), crc: ref.crc };
}
