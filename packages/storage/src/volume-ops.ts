import type { Appender } from "./appender";
import type { BlockDevice } from "./device";
import { assert, StorageError, wrapIoError } from "./errors";
import type { Gate } from "./gate";
import { RECORD_HEADER_BYTES } from "./record";
import { recoverState } from "./recovery";
import type { Retention } from "./retention";
import type { VolumeState } from "./state";
import { DURABILITY_MODES, type DurabilityMode } from "./superblock";
import type { SuperblockWriter } from "./superblock-writer";

const ZERO_CHUNK = Buffer.alloc(1024 * 1024);

/** The less frequent volume operations: reads, epoch/mode, truncate, extent reads. */
export class VolumeOps {
  constructor(
    private readonly s: VolumeState,
    private readonly device: BlockDevice,
    private readonly gate: Gate,
    private readonly sbWriter: SuperblockWriter,
    private readonly appender: Appender,
    private readonly retention: Retention,
    private readonly env: {
      check: () => void;
      fail: (e: StorageError) => void;
    },
  ) {}

  /** Dirty blocks come from their WAL record, the rest from the extent; retried if a WAL slot was reused. */
  async read(lba: number, lengthBytes: number): Promise<Buffer> {
    const s = this.s;
    const bs = s.geo.blockSize;
    const W = s.geo.walSizeBytes;
    const blocks = lengthBytes / bs;
    const out = Buffer.allocUnsafe(lengthBytes);
    const release = await this.gate.shared();
    try {
      for (let attempt = 0; ; attempt++) {
        assert(attempt < 1000, "read kept racing slot reuse");
        const generation = s.walGeneration;
        const reads: Array<Promise<void>> = [];
        let lowestWalOffset = Number.POSITIVE_INFINITY;
        let i = 0;
        while (i < blocks) {
          const e = s.dirty.get(lba + i);
          let j = i + 1;
          if (e === undefined) {
            while (j < blocks && s.dirty.get(lba + j) === undefined) j++;
            reads.push(this.device.read(out.subarray(i * bs, j * bs), s.extentOffsetBytes + (lba + i) * bs));
          } else if (e.blockInRecord < 0) {
            out.fill(0, i * bs, j * bs);
          } else {
            // Coalesce blocks that are consecutive inside the same record.
            for (;;) {
              const n = j < blocks ? s.dirty.get(lba + j) : undefined;
              if (!n || n.recordOffset !== e.recordOffset || n.blockInRecord !== e.blockInRecord + (j - i))
                break;
              j++;
            }
            lowestWalOffset = Math.min(lowestWalOffset, e.recordOffset);
            const phys = (e.recordOffset % W) + RECORD_HEADER_BYTES + e.blockInRecord * bs;
            reads.push(this.device.read(out.subarray(i * bs, j * bs), s.geo.walOffsetBytes + phys));
          }
          i = j;
        }
        await Promise.all(reads);
        // Slot-reuse guard: WAL bytes are valid only if no append has reached their slot since.
        if (generation === s.walGeneration && s.reservedOffset <= lowestWalOffset + W) return out;
      }
    } finally {
      release();
    }
  }

  async readExtent(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    const s = this.s;
    const bs = s.geo.blockSize;
    if (!Number.isSafeInteger(offsetBytes) || offsetBytes < 0 || offsetBytes % bs !== 0) {
      throw new StorageError(
        "invalid_argument",
        `extent offset ${offsetBytes} must be a block-aligned non-negative integer`,
      );
    }
    if (
      !Number.isSafeInteger(lengthBytes) ||
      lengthBytes <= 0 ||
      lengthBytes % bs !== 0 ||
      lengthBytes > 64 * 1024 * 1024
    ) {
      throw new StorageError(
        "invalid_argument",
        `extent length ${lengthBytes} must be a positive block multiple <= 64 MiB`,
      );
    }
    if (offsetBytes + lengthBytes > s.sb.volumeSizeBytes) {
      throw new StorageError(
        "out_of_range",
        `extent range ends past the volume (${s.sb.volumeSizeBytes} bytes)`,
      );
    }
    const release = await this.gate.shared();
    try {
      const buf = Buffer.allocUnsafe(lengthBytes);
      await this.device.read(buf, s.extentOffsetBytes + offsetBytes);
      return buf;
    } finally {
      release();
    }
  }

  /** Persists (fsync'd superblock) before resolving; a lower epoch is rejected. */
  async setEpoch(epoch: number): Promise<void> {
    this.env.check();
    if (!Number.isSafeInteger(epoch) || epoch < 0)
      throw new StorageError("invalid_argument", `bad epoch ${epoch}`);
    if (epoch < this.s.epoch)
      throw new StorageError("epoch_regression", `epoch ${epoch} is below the current ${this.s.epoch}`);
    if (epoch === this.s.epoch) return;
    await this.sbWriter.persist({ epoch });
    // Re-check: a concurrent higher setEpoch may have won.
    if (epoch > this.s.epoch) this.s.epoch = epoch;
  }

  async setDurabilityMode(mode: DurabilityMode): Promise<void> {
    this.env.check();
    if (!DURABILITY_MODES.includes(mode))
      throw new StorageError("invalid_argument", `unknown durability mode ${String(mode)}`);
    if (mode === this.s.sb.durabilityMode) return;
    await this.sbWriter.persist({ durabilityMode: mode });
  }

  /**
   * Replica-ahead truncation. Safe iff no effect above `lsn` can be in the extent: checkpoint <= lsn
   * and extentHighLsn <= lsn (the flusher persists extentHighLsn before touching the extent). Records
   * above lsn are zeroed and synced, then the WAL state is recovered again from disk.
   */
  async truncateToLsn(lsn: number): Promise<void> {
    this.env.check();
    if (!Number.isSafeInteger(lsn) || lsn < 0) throw new StorageError("invalid_argument", `bad LSN ${lsn}`);
    const release = await this.gate.exclusive();
    try {
      this.env.check();
      const s = this.s;
      if (lsn > s.appendedLsn)
        throw new StorageError("out_of_range", `LSN ${lsn} is above the head ${s.appendedLsn}`);
      if (lsn === s.appendedLsn) return;
      if (lsn < s.checkpointLsn || s.extentHighLsn > lsn) {
        throw new StorageError(
          "truncation_unsafe",
          `the extent may hold effects up to LSN ${s.extentHighLsn} (checkpoint ${s.checkpointLsn}) > ${lsn}: rebuild instead`,
        );
      }
      const from = s.index.offsetOf(lsn + 1);
      try {
        await this.zeroWal(from, s.appendedOffset);
        await this.device.sync();
        await recoverState(this.device, s);
      } catch (err) {
        // Disk and memory may now disagree: refuse everything until a reopen re-derives the state.
        const e = wrapIoError(err, "truncate");
        this.env.fail(e);
        throw e;
      }
      assert(s.appendedLsn === lsn, `truncate recovered head ${s.appendedLsn}, wanted ${lsn}`);
      s.durableLsn = lsn;
      this.retention.clampTo(lsn + 1);
    } finally {
      release();
      this.appender.schedule();
    }
  }

  private async zeroWal(from: number, to: number): Promise<void> {
    const W = this.s.geo.walSizeBytes;
    for (let pos = from; pos < to; ) {
      const phys = pos % W;
      const len = Math.min(to - pos, W - phys, ZERO_CHUNK.length);
      await this.device.writev([ZERO_CHUNK.subarray(0, len)], this.s.geo.walOffsetBytes + phys);
      pos += len;
    }
  }
}
