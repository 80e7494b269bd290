import { StorageError } from "./errors";
import type { VolumeState } from "./state";

/**
 * A record named by LSN, epoch and CRC: how two copies compare their histories without shipping
 * them. The CRC covers the record's header (LSN, epoch, the previous record's CRC) and payload, so
 * equal CRCs at one LSN mean equal histories up to it (the CRC chain). LSN 0 is the empty history.
 */
export interface RecordRef {
  readonly lsn: number;
  /** undefined when this copy does not know it (the tail anchor of a volume older than the field). */
  readonly epoch: number | undefined;
  readonly crc: number;
}

/**
 * The record at `lsn` as this copy can name it, or undefined when it cannot: below the tail (no
 * longer retained), above the head, or the tail anchor whose CRC is not known (an install by an
 * older version). Synchronous: read from the LSN index and the superblock, never from the device.
 */
export function recordRefAt(s: VolumeState, lsn: number): RecordRef | undefined {
  if (!Number.isSafeInteger(lsn) || lsn < 0 || lsn > s.appendedLsn) return undefined;
  if (lsn === 0) return { lsn: 0, epoch: 0, crc: 0 };
  if (s.index.has(lsn)) return { lsn, epoch: s.index.epochOf(lsn), crc: s.index.crcOf(lsn) };
  const sb = s.sb;
  if (lsn === sb.walTailLsn && sb.walTailCrc !== undefined) {
    return { lsn, epoch: sb.walTailEpoch, crc: sb.walTailCrc };
  }
  return undefined;
}

/** The source's record at an install's base LSN, as the rebuild stream named it. */
export interface InstallBaseRecord {
  readonly crc: number;
  /** undefined when the source did not know it. */
  readonly epoch?: number | undefined;
}

/** Refuses a base record that cannot be one: not a uint32 CRC, or an epoch above the install's. */
export function checkBaseRecord(r: InstallBaseRecord | undefined, installEpoch: number): void {
  if (r === undefined) return;
  if (!Number.isInteger(r.crc) || r.crc < 0 || r.crc > 0xffff_ffff) {
    throw new StorageError("invalid_argument", `base record CRC ${r.crc} is not a uint32`);
  }
  if (r.epoch !== undefined && (!Number.isSafeInteger(r.epoch) || r.epoch < 0 || r.epoch > installEpoch)) {
    throw new StorageError(
      "invalid_argument",
      `base record epoch ${r.epoch} is not within 0..${installEpoch}`,
    );
  }
}
