import {
  type Generation__Output,
  invalidArgument,
  type RecordId,
  type RecordId__Output,
  type ResyncStatus,
  type ResyncStatus__Output,
  type U64Wire,
  u64FromWire,
  type Generation as WireGeneration,
} from "@blockship/rpc";
import type { Generation, RecordRef } from "@blockship/storage";
import type { ReplicaResyncState } from "./handshake";

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

/** A history from the wire; invalid_argument when malformed (out of range, not ascending). */
export function generationsFromWire(
  gens: readonly Generation__Output[] | null | undefined,
  field: string,
): Generation[] {
  const out: Generation[] = [];
  for (const [i, g] of (gens ?? []).entries()) {
    const epoch = numFromWire(g.epoch, `${field}[${i}].epoch`);
    const firstLsn = numFromWire(g.first_lsn, `${field}[${i}].first_lsn`);
    const prevCrc = g.prev_crc;
    if (!Number.isInteger(prevCrc) || prevCrc < 0 || prevCrc > 0xffff_ffff)
      throw invalidArgument(`${field}[${i}].prev_crc`, `${prevCrc} is not a uint32`);
    const prev = out[out.length - 1];
    if (firstLsn < 1 || (prev !== undefined && (firstLsn <= prev.firstLsn || epoch <= prev.epoch)))
      throw invalidArgument(`${field}[${i}]`, "generations must ascend by first_lsn and epoch from LSN 1");
    out.push({ epoch, firstLsn, prevCrc });
  }
  return out;
}

export function generationsToWire(gens: readonly Generation[]): WireGeneration[] {
  return gens.map((g) => ({
    epoch: numToWire(g.epoch),
    first_lsn: numToWire(g.firstLsn),
    prev_crc: g.prevCrc,
  }));
}

/** A resync marker from the wire (absent or not pending: none). */
export function resyncStateFromWire(
  r: ResyncStatus__Output | null | undefined,
  field: string,
): ReplicaResyncState {
  if (r === null || r === undefined || !r.pending) return { pending: false };
  const forkLsn = numFromWire(r.fork_lsn, `${field}.fork_lsn`);
  if (r.phase === "transfer") return { pending: true, phase: "transfer", forkLsn };
  if (r.phase === "catchup") {
    return {
      pending: true,
      phase: "catchup",
      forkLsn,
      baseLsn: numFromWire(r.base_lsn, `${field}.base_lsn`),
      consistentLsn: numFromWire(r.consistent_lsn, `${field}.consistent_lsn`),
    };
  }
  throw invalidArgument(`${field}.phase`, `${JSON.stringify(r.phase)} is not transfer or catchup`);
}

export function resyncStateToWire(s: ReplicaResyncState): ResyncStatus {
  if (!s.pending) return { pending: false, phase: "" };
  return {
    pending: true,
    phase: s.phase,
    fork_lsn: numToWire(s.forkLsn),
    ...(s.phase === "catchup"
      ? { base_lsn: numToWire(s.baseLsn), consistent_lsn: numToWire(s.consistentLsn) }
      : {}),
  };
}
