import { type BlockRange, ChangeBitmap } from "./change-bitmap";
import { defaultGrainBytes } from "./change-region";
import { StorageError } from "./errors";
import type { ChangeSink, VolumeState } from "./state";

/** What a WriteTracker saw between two drains. */
export interface TrackedWrites {
  /** The head at the drain: every record up to it that wrote a block is in `ranges()`. */
  throughLsn: number;
  /** Blocks in all ranges together (whole tracking grains, clipped to the volume). */
  blockCount: number;
  /** Sorted, disjoint ranges; lazily produced. */
  ranges(): Iterable<BlockRange>;
}

/** The blocks written on a volume from the tracker's creation on (a resync source's next pass). */
export interface WriteTracker {
  /** What was marked since the last drain (or the creation); starts an empty set. */
  drain(): TrackedWrites;
  /** Stops tracking (idempotent); a closed tracker costs nothing on the write path. */
  close(): void;
}

/**
 * In memory only, bounded: one bit per grain, the grain chosen like the persistent tracker's
 * default (the block size doubled until the bitmap is at most 4 MiB). Marks arrive through the
 * change tracker's taps, in LSN order as records are applied, so a drain that reads the head
 * covers every record up to it. Also marks blocks a resync writes (conservative).
 */
export class BitmapWriteTracker implements WriteTracker, ChangeSink {
  private bitmap: ChangeBitmap | undefined;
  private readonly bits: number;
  private readonly grainBlocks: number;

  constructor(
    private readonly state: VolumeState,
    private readonly detach: (t: BitmapWriteTracker) => void,
  ) {
    const { volumeSizeBytes, blockSize } = state.sb;
    const grain = defaultGrainBytes(volumeSizeBytes, blockSize);
    this.bits = Math.ceil(volumeSizeBytes / grain);
    this.grainBlocks = grain / blockSize;
    this.bitmap = new ChangeBitmap(this.bits, this.grainBlocks);
  }

  get grainBytes(): number {
    return this.grainBlocks * this.state.geo.blockSize;
  }

  /** Bytes of bitmap memory this tracker holds. */
  get bitmapBytes(): number {
    return this.bitmap?.bytes.length ?? 0;
  }

  mark(lba: number, blocks: number): void {
    this.bitmap?.markBlocks(lba, blocks);
  }

  drain(): TrackedWrites {
    const full = this.bitmap;
    if (!full) throw new StorageError("invalid_argument", "the write tracker is closed");
    this.bitmap = new ChangeBitmap(this.bits, this.grainBlocks);
    const volumeBlocks = this.state.volumeBlocks;
    let blockCount = 0;
    for (const r of full.ranges(volumeBlocks)) blockCount += r.blocks;
    return { throughLsn: this.state.appendedLsn, blockCount, ranges: () => full.ranges(volumeBlocks) };
  }

  close(): void {
    if (!this.bitmap) return;
    this.bitmap = undefined;
    this.detach(this);
  }
}
