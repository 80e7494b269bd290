import { DirtyMap } from "./dirty-map";
import { History } from "./history";
import { LsnIndex } from "./lsn-index";
import { extentOffsetBytes, type ResyncMarker, type Superblock, WAL_OFFSET_BYTES } from "./superblock";
import type { WalGeometry } from "./wal-scan";

/**
 * The volume's mutable WAL bookkeeping, shared by the appender, group commit, flusher and
 * retention. Offsets are logical WAL byte counters (physical = logical % walSizeBytes).
 * Invariants: tailOffset <= flushedOffset <= appendedOffset <= reservedOffset,
 * reservedOffset - tailOffset <= walSizeBytes, tailLsn <= checkpointLsn <= appendedLsn <= nextLsn - 1,
 * durableLsn <= appendedLsn.
 */
export interface VolumeState {
  readonly geo: WalGeometry;
  readonly extentOffsetBytes: number;
  readonly volumeBlocks: number;
  sb: Superblock;
  epoch: number;
  tailOffset: number;
  tailLsn: number;
  flushedOffset: number;
  checkpointLsn: number;
  extentHighLsn: number;
  appendedOffset: number;
  appendedLsn: number;
  reservedOffset: number;
  nextLsn: number;
  durableLsn: number;
  /** CRC of the last reserved WRITE/TRIM record (chain value for the next append); undefined = unknown. */
  lastCrc: number | undefined;
  /** Bumped whenever WAL contents are reset (truncate, install): in-flight WAL reads retry. */
  walGeneration: number;
  readonly dirty: DirtyMap;
  readonly index: LsnIndex;
  /** Generations of the log (persisted ones + those derived from the records since). */
  readonly history: History;
  /** Told the block range of every record appended (in LSN order): changed-block tracking. */
  changes: ChangeSink;
  /**
   * The resync marker in force (see resync.ts); every superblock write persists this value, so a
   * marker cleared in memory is persisted by the next one.
   */
  resync: ResyncMarker | undefined;
}

export interface ChangeSink {
  mark(lba: number, blocks: number): void;
}

export function walUsedBytes(s: VolumeState): number {
  return s.reservedOffset - s.tailOffset;
}

/**
 * Logical offset just past record `lsn` (conservatively: where the next record starts, so any
 * padding before it is included). Requires tailLsn < lsn <= appendedLsn... or lsn == tailLsn.
 */
export function recordEndOffset(s: VolumeState, lsn: number): number {
  if (lsn === s.appendedLsn) return s.appendedOffset;
  if (lsn === s.tailLsn) return s.tailOffset;
  return s.index.offsetOf(lsn + 1);
}

/** Largest L in [fromLsn, appendedLsn] whose records [fromLsn, L] end within `limitOffset` (>= fromLsn). */
export function lastLsnWithin(s: VolumeState, fromLsn: number, limitOffset: number): number {
  let lo = fromLsn;
  let hi = s.appendedLsn;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (recordEndOffset(s, mid) <= limitOffset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The state of a volume just opened from superblock `sb`, before recovery sets its positions. */
export function newVolumeState(sb: Superblock, maxRecordBytes: number): VolumeState {
  return {
    geo: {
      walOffsetBytes: WAL_OFFSET_BYTES,
      walSizeBytes: sb.walSizeBytes,
      blockSize: sb.blockSize,
      maxRecordBytes,
      volumeBlocks: sb.volumeSizeBytes / sb.blockSize,
    },
    extentOffsetBytes: extentOffsetBytes(sb),
    volumeBlocks: sb.volumeSizeBytes / sb.blockSize,
    sb,
    epoch: sb.epoch,
    tailOffset: 0,
    tailLsn: 0,
    flushedOffset: 0,
    checkpointLsn: 0,
    extentHighLsn: 0,
    appendedOffset: 0,
    appendedLsn: 0,
    reservedOffset: 0,
    nextLsn: 1,
    durableLsn: 0,
    lastCrc: undefined,
    walGeneration: 0,
    dirty: new DirtyMap(),
    index: new LsnIndex(),
    history: new History(),
    changes: { mark: () => undefined },
    resync: sb.resync,
  };
}
