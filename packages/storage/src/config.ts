import { StorageError } from "./errors";
import { RECORD_HEADER_BYTES } from "./record";
import { type Clock, realClock } from "./retention";
import type { DurabilityMode } from "./superblock";

/** Tunables shared by create and open (all optional; defaults below). */
export interface VolumeTuning {
  /** Flusher timer period: how often it checks whether to checkpoint. */
  flushIntervalMs?: number;
  /**
   * While appends keep arriving, the flusher leaves the disk to them and checkpoints only under WAL
   * pressure (`flusherWatermark`), on a quiet tick (no append since the previous tick), or once
   * un-checkpointed records have waited this long.
   */
  checkpointMaxDelayMs?: number;
  /** WAL used fraction that wakes the flusher immediately. */
  flusherWatermark?: number;
  /** Most WAL bytes one flusher cycle covers (bounds its memory). */
  maxCycleBytes?: number;
  /** Admission: writers are delayed above the soft and wait above the hard watermark (fractions of the WAL). */
  softWatermark?: number;
  hardWatermark?: number;
  /** How long a writer may wait above the hard watermark before failing with `wal_full`. */
  walFullTimeoutMs?: number;
  /** Longest soft-watermark delay (reached just below the hard watermark). */
  maxSoftDelayMs?: number;
  /** Bounds on writers queued for admission (beyond them: `wal_full` at once). */
  maxQueuedWrites?: number;
  maxQueuedBytes?: number;
  /**
   * Append batches up to this many bytes are written O_DSYNC (durable when written, syncing only
   * their own range) on devices that support it; larger ones are synced by group commit. 0 disables.
   */
  durableAppendMaxBytes?: number;
  /**
   * The flusher writes contiguous extent runs of at least this many bytes O_DSYNC (written to disk
   * at once, beside the appends) and shorter ones plain (synced at the end of its cycle).
   * Infinity: always plain.
   */
  durableExtentMinBytes?: number;
  /** Largest single write/trim; default min(8 MiB, hard watermark bytes / 4). */
  maxWriteBytes?: number;
  /** Retention budgets for WAL pins. */
  retentionMaxAgeMs?: number;
  retentionMaxHeldBytes?: number;
  /** The same budget as a fraction of the WAL size (used when retentionMaxHeldBytes is not set). */
  retentionMaxHeldFraction?: number;
  retentionCheckIntervalMs?: number;
  clock?: Clock;
}

export interface CreateOptions extends VolumeTuning {
  volumeSizeBytes: number;
  walSizeBytes?: number;
  blockSize?: number;
  durabilityMode?: DurabilityMode;
  epoch?: number;
  /**
   * Bytes of volume per changed-block tracking bit: a power of two >= the block size. Default: the
   * block size (at least 4 KiB), doubled until the bitmap has at most 32 Mi bits (4 MiB).
   */
  changeGrainBytes?: number;
  /** Skip zeroing the WAL region at create (only for devices known to read as zeros, e.g. a new sparse file). */
  walKnownZero?: boolean;
}

export interface ResolvedTuning {
  flushIntervalMs: number;
  checkpointMaxDelayMs: number;
  flusherWatermark: number;
  maxCycleBytes: number;
  softWatermark: number;
  hardWatermark: number;
  walFullTimeoutMs: number;
  maxSoftDelayMs: number;
  maxQueuedWrites: number;
  maxQueuedBytes: number;
  durableAppendMaxBytes: number;
  durableExtentMinBytes: number;
  maxWriteBytes: number;
  retentionMaxAgeMs: number;
  retentionMaxHeldBytes: number;
  retentionCheckIntervalMs: number;
  clock: Clock;
}

export const DEFAULT_WAL_SIZE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_BLOCK_SIZE = 4096;
export const MIN_WAL_SIZE_BYTES = 16 * 1024;
/** Extent writes in flight (flusher writeback, install replay): the random-write queue depth we give the disk. */
export const EXTENT_WRITE_CONCURRENCY = 4;

function bad(message: string): never {
  throw new StorageError("invalid_argument", message);
}

function nonNegative(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) bad(`${name} must be >= 0 (got ${v})`);
  return v;
}

/** Like positive() but Infinity is allowed (means "never"). */
function atLeastOne(name: string, v: number): number {
  if (!(v >= 1)) bad(`${name} must be >= 1 or Infinity (got ${v})`);
  return v;
}

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) bad(`${name} must be > 0 (got ${v})`);
  return v;
}

export function resolveTuning(t: VolumeTuning, walSizeBytes: number, blockSize: number): ResolvedTuning {
  const soft = t.softWatermark ?? 0.7;
  const hard = t.hardWatermark ?? 0.9;
  if (!(soft > 0 && soft < hard && hard <= 1))
    bad(`watermarks need 0 < soft < hard <= 1 (got ${soft}, ${hard})`);
  const hardBytes = Math.floor(walSizeBytes * hard);
  const defaultMaxWrite = Math.min(
    8 * 1024 * 1024,
    Math.floor((hardBytes / 4 - RECORD_HEADER_BYTES) / blockSize) * blockSize,
  );
  const maxWriteBytes = t.maxWriteBytes ?? defaultMaxWrite;
  if (maxWriteBytes < blockSize || maxWriteBytes % blockSize !== 0) {
    bad(`maxWriteBytes ${maxWriteBytes} must be a positive multiple of the block size ${blockSize}`);
  }
  if ((maxWriteBytes + RECORD_HEADER_BYTES) * 4 > hardBytes) {
    bad(
      `maxWriteBytes ${maxWriteBytes} too large for a ${walSizeBytes}-byte WAL (a record must fit 4 times under the hard watermark)`,
    );
  }
  // A pin may hold WAL until halfway between the soft and hard watermarks: writers are slowed
  // first (giving a lagging replica room to catch up), and the pin is released before writers
  // would block, so a dead replica can never make the primary unwritable.
  const maxHeld =
    t.retentionMaxHeldBytes ?? Math.floor(walSizeBytes * (t.retentionMaxHeldFraction ?? (soft + hard) / 2));
  if (maxHeld >= hardBytes)
    bad("retentionMaxHeldBytes must stay below the hard watermark, or a dead pin could block writers");
  return {
    flushIntervalMs: positive("flushIntervalMs", t.flushIntervalMs ?? 100),
    checkpointMaxDelayMs: nonNegative("checkpointMaxDelayMs", t.checkpointMaxDelayMs ?? 1000),
    flusherWatermark: positive("flusherWatermark", t.flusherWatermark ?? 0.5),
    maxCycleBytes: Math.max(
      positive("maxCycleBytes", t.maxCycleBytes ?? 32 * 1024 * 1024),
      maxWriteBytes + RECORD_HEADER_BYTES,
    ),
    softWatermark: soft,
    hardWatermark: hard,
    walFullTimeoutMs: positive("walFullTimeoutMs", t.walFullTimeoutMs ?? 5000),
    maxSoftDelayMs: t.maxSoftDelayMs ?? 5,
    maxQueuedWrites: positive("maxQueuedWrites", t.maxQueuedWrites ?? 4096),
    maxQueuedBytes: Math.max(
      positive("maxQueuedBytes", t.maxQueuedBytes ?? 256 * 1024 * 1024),
      maxWriteBytes,
    ),
    durableAppendMaxBytes: nonNegative("durableAppendMaxBytes", t.durableAppendMaxBytes ?? 1024 * 1024),
    durableExtentMinBytes: atLeastOne("durableExtentMinBytes", t.durableExtentMinBytes ?? 256 * 1024),
    maxWriteBytes,
    retentionMaxAgeMs: positive("retentionMaxAgeMs", t.retentionMaxAgeMs ?? 5 * 60 * 1000),
    retentionMaxHeldBytes: positive("retentionMaxHeldBytes", maxHeld),
    retentionCheckIntervalMs: positive("retentionCheckIntervalMs", t.retentionCheckIntervalMs ?? 1000),
    clock: t.clock ?? realClock,
  };
}

export function validateGeometry(volumeSizeBytes: number, walSizeBytes: number, blockSize: number): void {
  if (
    !Number.isSafeInteger(blockSize) ||
    blockSize < 512 ||
    blockSize > 65536 ||
    (blockSize & (blockSize - 1)) !== 0
  ) {
    bad(`blockSize ${blockSize} must be a power of two in [512, 65536]`);
  }
  if (!Number.isSafeInteger(volumeSizeBytes) || volumeSizeBytes <= 0 || volumeSizeBytes % blockSize !== 0) {
    bad(`volumeSizeBytes ${volumeSizeBytes} must be a positive multiple of the block size`);
  }
  if (!Number.isSafeInteger(walSizeBytes) || walSizeBytes < MIN_WAL_SIZE_BYTES || walSizeBytes % 4096 !== 0) {
    bad(`walSizeBytes ${walSizeBytes} must be a multiple of 4096 and at least ${MIN_WAL_SIZE_BYTES}`);
  }
}
