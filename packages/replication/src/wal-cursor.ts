import { SHIP_BATCH_HEADROOM_BYTES } from "@blockship/rpc";
import { isStorageError, parseRecords, type Volume } from "@blockship/storage";
import { messageOf } from "./errors";
import { Disconnect, NeedsRebuild } from "./ship-stream";

// The storage edge of a cursor shipper (shipper.ts): reading raw record batches at the cursor and
// moving the replica's WAL pin. Storage errors are translated into the loop's two outcomes.

export interface RecordBatch {
  readonly bytes: Buffer;
  readonly firstLsn: number;
  readonly lastLsn: number;
  readonly count: number;
}

/**
 * Raw records from `cursor` (at most `maxBytes`, at least one record); undefined when none. Read
 * with room for the Ship message header in front (writeBatch encodes it there).
 */
export async function readBatch(
  volume: Volume,
  cursor: number,
  maxBytes: number,
): Promise<RecordBatch | undefined> {
  try {
    const b = await volume.readRecords(cursor, maxBytes, SHIP_BATCH_HEADROOM_BYTES);
    return b.count === 0 ? undefined : b;
  } catch (err) {
    if (isStorageError(err, "wal_recycled")) throw new NeedsRebuild(`wal_recycled: ${messageOf(err)}`);
    throw new Disconnect(`reading the WAL at LSN ${cursor}: ${messageOf(err)}`);
  }
}

/**
 * The longest prefix of `batch` whose records `allows` admits, in LSN order (the first refused
 * record ends it); undefined when not even the first is admitted.
 */
export function clipBatch(
  batch: RecordBatch,
  blockSize: number,
  allows: (lsn: number) => boolean,
): RecordBatch | undefined {
  // Only the headers matter here (the bytes were validated when read): no record-size bound.
  const parsed = parseRecords(batch.bytes, blockSize, Number.MAX_SAFE_INTEGER);
  let endBytes = 0;
  let lastLsn = 0;
  let count = 0;
  for (const r of parsed.records) {
    if (!allows(r.lsn)) break;
    endBytes = r.offset + r.recordBytes;
    lastLsn = r.lsn;
    count++;
  }
  if (count === 0) return undefined;
  return { bytes: batch.bytes.subarray(0, endBytes), firstLsn: batch.firstLsn, lastLsn, count };
}

/** Pins the WAL from the tail unless a pin exists; returns an error message on failure. */
export function pinFromTail(volume: Volume, replicaId: string): string | undefined {
  try {
    if (volume.pinnedLsn(replicaId) === undefined) volume.pinWal(replicaId, volume.tailLsn + 1);
    return undefined;
  } catch (err) {
    return messageOf(err);
  }
}

/**
 * Moves the WAL pin forward to `lsn` (never backward, never past head + 1). Returns "recycled"
 * when `lsn` is already gone, an error message for other failures, undefined when pinned.
 */
export function pinForward(volume: Volume, replicaId: string, lsn: number): "recycled" | string | undefined {
  const cur = volume.pinnedLsn(replicaId);
  if (cur !== undefined && cur >= lsn) return undefined;
  try {
    volume.pinWal(replicaId, Math.min(lsn, volume.headLsn + 1));
    return undefined;
  } catch (err) {
    if (isStorageError(err, "wal_recycled")) return "recycled";
    return messageOf(err);
  }
}
