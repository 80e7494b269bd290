import { crc32, type Volume } from "@blockship/storage";
import { assert } from "./errors";
import type { Outbox } from "./rebuild-outbox";
import type { TokenBucket } from "./token-bucket";
import { numToWire, recordRefToWire } from "./wire";

// The body of one Rebuild.StreamBase stream on the primary: extent chunks from the resume offset
// (the next chunk is read while the current one is throttled and sent), then the WAL tail from
// base + 1 to the head seen when the copy ended, then Done. The caller owns validation, the pin
// and the error mapping; this file only moves bytes.

export interface ImageStreamPlan {
  readonly volume: Volume;
  readonly baseLsn: number;
  readonly fromOffsetBytes: number;
  readonly chunkBytes: number;
  readonly tailBatchBytes: number;
  readonly bucket: TokenBucket | undefined;
  readonly outbox: Outbox;
  readonly signal: AbortSignal;
  /** Throws the error that must end the stream (role or epoch changed, the pin was released). */
  readonly check: () => void;
  /** Updated as messages go out (also when the stream ends early). */
  readonly progress: ImageStreamProgress;
}

export interface ImageStreamProgress {
  imageBytes: number;
  tailBytes: number;
  tailBatches: number;
  /** Highest LSN sent in the tail (the base until the first batch). */
  lastLsn: number;
}

const noop = (): void => {};

/** Streams image, tail and Done. Resolves false when the signal aborted it. */
export async function streamImageAndTail(p: ImageStreamPlan): Promise<boolean> {
  const v = p.volume;
  const size = v.volumeSizeBytes;
  const total = numToWire(size);
  const base = numToWire(p.baseLsn);
  const read = (off: number): Promise<Buffer> => {
    const r = v.readExtent(off, Math.min(p.chunkBytes, size - off));
    r.catch(noop); // awaited below; an abort may leave it unawaited
    return r;
  };
  const progress = p.progress;
  progress.lastLsn = p.baseLsn;
  let offset = p.fromOffsetBytes;
  let pending = offset < size ? read(offset) : undefined;
  while (pending !== undefined) {
    const data = await pending;
    const next = offset + data.length;
    pending = next < size ? read(next) : undefined; // read-ahead while this chunk is throttled and sent
    if (p.signal.aborted) return false;
    p.check();
    await p.bucket?.take(data.length, p.signal);
    if (p.signal.aborted) return false;
    await p.outbox.send(
      {
        chunk: {
          offset_bytes: numToWire(offset),
          data,
          total_size_bytes: total,
          base_lsn: base,
          // The copy checks it before staging: damage on the way is never written.
          data_crc32: crc32(data),
        },
      },
      data.length,
    );
    progress.imageBytes += data.length;
    offset = next;
  }
  assert(offset === size || p.fromOffsetBytes === size, "image streamed to its end");

  // Everything the copied extent can contain is <= the head now: the tail ends there.
  const targetLsn = v.headLsn;
  let cursor = p.baseLsn + 1;
  while (cursor <= targetLsn) {
    if (p.signal.aborted) return false;
    p.check();
    const b = await v.readRecords(cursor, p.tailBatchBytes);
    if (b.count === 0) break;
    assert(b.firstLsn === cursor && b.lastLsn >= cursor, "tail batch starts at the cursor");
    await p.bucket?.take(b.bytes.length, p.signal);
    if (p.signal.aborted) return false;
    await p.outbox.send(
      {
        tail: {
          first_lsn: numToWire(b.firstLsn),
          last_lsn: numToWire(b.lastLsn),
          record_count: b.count,
          records: b.bytes,
        },
      },
      b.bytes.length,
    );
    progress.tailBytes += b.bytes.length;
    progress.tailBatches++;
    progress.lastLsn = b.lastLsn;
    cursor = b.lastLsn + 1;
  }
  if (p.signal.aborted) return false;
  p.check();
  // The base record anchors the copy's CRC chain (pinned from base + 1, so still nameable here).
  const baseRecord = recordRefToWire(v.recordAt(p.baseLsn));
  await p.outbox.send(
    {
      done: {
        base_lsn: base,
        last_lsn: numToWire(progress.lastLsn),
        total_size_bytes: total,
        ...(baseRecord === undefined ? {} : { base_record: baseRecord }),
      },
    },
    0,
  );
  await p.outbox.flushed();
  return !p.signal.aborted;
}
