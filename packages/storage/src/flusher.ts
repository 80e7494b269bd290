import { CheckpointPacer } from "./checkpoint-pacer";
import { EXTENT_WRITE_CONCURRENCY } from "./config";
import type { BlockDevice } from "./device";
import { writeZeros } from "./discard";
import { assert, StorageError, wrapIoError } from "./errors";
import type { Gate } from "./gate";
import { RECORD_HEADER_BYTES, RecordType } from "./record";
import type { Retention } from "./retention";
import { lastLsnWithin, recordEndOffset, type VolumeState } from "./state";
import type { Superblock } from "./superblock";
import type { SuperblockWriter } from "./superblock-writer";
import { scanChunkBytes, scanWal } from "./wal-scan";

export interface FlusherHooks {
  failure(): StorageError | undefined;
  fail(err: StorageError): void;
  noteDurable(lsn: number): void;
  /** WAL space was freed. */
  onTailAdvanced(): void;
  /** Runs (and must succeed) before a superblock write moves the WAL tail up to `lsn`. */
  beforeTailAdvance(lsn: number): Promise<void>;
  /** Writes changed tracking pages without syncing them; resolves with the LSN they cover. */
  stageTrackingPages(): Promise<number>;
  /** A sync that started after stageTrackingPages resolved has completed. */
  trackingPagesSynced(lsn: number): void;
}

interface Punch {
  lba: number;
  blocks: number;
}

interface Run {
  lba: number;
  blocks: number;
  lsn: number;
  bufs: Buffer[];
}

/**
 * WAL → extent checkpointing. One cycle covers a bounded WAL range [flushedOffset, end):
 *  1. persist extentHighLsn = upTo (the extent may hold effects up to it from now on; this is what
 *     makes truncateToLsn safe to decide) — skipped when already persisted;
 *  2. write the latest version of every dirty block in range to the extent (coalesced, sorted);
 *  3. fdatasync; drop dirty entries that still point at the flushed LSN;
 *  4. persist checkpoint + tail (tail held at the lowest retention pin); only then is WAL space reused.
 */
export class Flusher {
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  cycles = 0;
  /** Extent blocks released by trims (punched, discarded, or zero-written by the fallback). */
  punchedBlocks = 0;
  /** This cycle wrote extent blocks that only an fdatasync makes durable. */
  private plainExtentWrites = false;
  /** Reused WAL read buffers: fresh multi-MiB buffers per chunk cost page faults and GC. */
  private readonly chunkBuffers: Buffer[];
  private readonly pacer: CheckpointPacer;

  constructor(
    private readonly state: VolumeState,
    private readonly device: BlockDevice,
    private readonly gate: Gate,
    private readonly sbWriter: SuperblockWriter,
    private readonly retention: Retention,
    private readonly hooks: FlusherHooks,
    private readonly cfg: {
      flushIntervalMs: number;
      checkpointMaxDelayMs: number;
      maxCycleBytes: number;
      flusherWatermark: number;
      /** Contiguous extent runs at least this long are written O_DSYNC (Infinity: never). */
      durableExtentMinBytes: number;
    },
  ) {
    this.chunkBuffers = [0, 1].map(() => Buffer.allocUnsafe(scanChunkBytes(state.geo)));
    this.pacer = new CheckpointPacer(cfg.checkpointMaxDelayMs);
  }

  start(): void {
    this.stopped = false;
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.cfg.flushIntervalMs);
      this.timer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Timer: a checkpoint cycle when the pacer says so; persist work (checkpoint/tail) at once. */
  private tick(): void {
    const s = this.state;
    const due = this.pacer.tick({
      nowMs: performance.now(),
      appendedLsn: s.appendedLsn,
      checkpointLsn: s.checkpointLsn,
      underPressure: this.underPressure(),
    });
    if (due || (s.checkpointLsn >= s.appendedLsn && this.hasPersistWork())) this.wake();
  }

  /** Requests a cycle soon (timer, pressure, admission); errors surface through the volume's failure. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Waits for the running cycle, if any. */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  /** Runs cycles until everything appended before the call is checkpointed (tail as pins allow). */
  async checkpointAll(): Promise<void> {
    const target = this.state.appendedLsn;
    await this.idle();
    while (this.state.checkpointLsn < target || this.hasPersistWork()) {
      const failure = this.hooks.failure();
      if (failure) throw failure;
      const before = this.state.checkpointLsn;
      const tailBefore = this.state.tailOffset;
      const persistedBefore = this.state.sb.checkpointLsn;
      await this.cycle();
      const s = this.state;
      if (s.checkpointLsn === before && s.tailOffset === tailBefore && s.sb.checkpointLsn === persistedBefore)
        break;
    }
    const failure = this.hooks.failure();
    if (failure) throw failure;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      if (this.hooks.failure()) return;
      if (this.state.checkpointLsn >= this.state.appendedLsn && !this.hasPersistWork()) continue;
      try {
        await this.cycle();
      } catch {
        return; // the cycle already failed the volume
      }
      // Back-to-back cycles only under WAL pressure; otherwise the timer paces them (each cycle
      // costs syncs that would compete with group commit).
      const s = this.state;
      if (this.underPressure() && (s.checkpointLsn < s.appendedLsn || this.hasPersistWork()))
        this.again = true;
    } while (this.again && !this.stopped);
  }

  private tailCanAdvance(): boolean {
    return this.newTailLsn() > this.state.tailLsn;
  }

  private newTailLsn(): number {
    const pin = this.retention.minPinnedLsn();
    return pin === undefined ? this.state.checkpointLsn : Math.min(this.state.checkpointLsn, pin - 1);
  }

  /** One bounded cycle. Runs shared with appends/reads; exclusive resets wait for it. */
  async cycle(): Promise<void> {
    const release = await this.gate.shared();
    try {
      await this.cycleLocked();
    } catch (err) {
      const e = err instanceof StorageError ? err : wrapIoError(err, "flusher");
      this.hooks.fail(e);
      throw e;
    } finally {
      release();
    }
  }

  private async cycleLocked(): Promise<void> {
    const s = this.state;
    this.cycles++;
    const startLsn = s.checkpointLsn;
    const upTo = this.pickUpTo();
    const end = recordEndOffset(s, upTo);
    if (upTo > startLsn) {
      // One superblock sync carries the previous cycle's checkpoint/tail (if not yet persisted) and
      // this cycle's extentHighLsn; it also makes the WAL durable up to upTo before the extent is touched.
      if (s.sb.extentHighLsn < upTo) await this.persistState({ extentHighLsn: upTo });
      // Chunk by chunk through two reused buffers: the extent writes of one chunk overlap the read
      // of the next; a buffer is read into again only after its chunk's writes completed.
      let runs: Run[] = [];
      let punches: Punch[] = [];
      const flushed: Run[] = [];
      const flushedTrims: Run[] = [];
      this.plainExtentWrites = false;
      let previousWrites: Promise<void> = Promise.resolve();
      await scanWal(this.device, s.geo, {
        startOffset: s.flushedOffset,
        endOffset: end,
        expectLsn: startLsn + 1,
        maxEpoch: Number.MAX_SAFE_INTEGER,
        chunkBuffers: this.chunkBuffers,
        onRecord: (rec) => {
          if (rec.type === RecordType.WRITE) this.collect(rec, runs);
          else if (rec.type === RecordType.TRIM) {
            this.collectTrim(rec, punches);
            flushedTrims.push({ lba: rec.lba, blocks: rec.blockCount, lsn: rec.lsn, bufs: [] });
          }
          return undefined;
        },
        onChunkDone: async () => {
          // Punches and writes of one cycle never overlap (collectTrim leaves out every block with
          // a newer written version), so they may run side by side.
          const writes = Promise.all([this.writeExtent(runs), this.punchExtent(punches)]).then(
            () => undefined,
          );
          writes.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
          for (const r of runs) flushed.push({ lba: r.lba, blocks: r.blocks, lsn: r.lsn, bufs: [] });
          runs = [];
          punches = [];
          await previousWrites;
          previousWrites = writes;
        },
      });
      await previousWrites;
      if (this.plainExtentWrites) {
        // The changed bitmap pages ride on this sync (plain writes before it), so the next tail
        // move usually finds its marks durable already and needs no write of its own.
        const marksThrough = await this.hooks.stageTrackingPages();
        const covered = s.appendedLsn;
        await this.device.sync();
        this.hooks.noteDurable(covered);
        this.hooks.trackingPagesSynced(marksThrough);
      }
      for (const r of flushed) for (let i = 0; i < r.blocks; i++) s.dirty.deleteIfLsn(r.lba + i, r.lsn);
      for (const t of flushedTrims) s.dirty.deleteTrimIfLsn(t.lba, t.blocks, t.lsn);
      s.checkpointLsn = upTo;
      s.flushedOffset = end;
      s.extentHighLsn = Math.max(s.extentHighLsn, upTo);
      // The next cycle's first superblock sync persists this checkpoint/tail (at once under
      // pressure, else on the next tick), so a steady cycle costs two syncs, not three.
      return;
    }
    if (this.hasPersistWork()) await this.persistState({});
  }

  /** Persists checkpoint + tail (held at the lowest pin) plus `extra`; frees WAL space after the sync. */
  private async persistState(extra: Partial<Superblock>): Promise<void> {
    const s = this.state;
    const tailLsn = Math.max(s.tailLsn, this.newTailLsn());
    const tailOffset = tailLsn === s.checkpointLsn ? s.flushedOffset : s.index.offsetOf(tailLsn + 1);
    const tailCrc = tailLsn === s.tailLsn ? s.sb.walTailCrc : s.index.crcOf(tailLsn);
    const tailEpoch = tailLsn === s.tailLsn ? s.sb.walTailEpoch : s.index.epochOf(tailLsn);
    // The records the tail passes leave the WAL: their changed-block marks must be on the device first.
    if (tailLsn > s.tailLsn) await this.hooks.beforeTailAdvance(tailLsn);
    await this.sbWriter.persist({
      checkpointLsn: s.checkpointLsn,
      walTailLsn: tailLsn,
      walTailCrc: tailCrc,
      walTailEpoch: tailEpoch,
      walTailOffset: tailOffset,
      walHeadOffset: s.flushedOffset,
      walHeadLsn: s.checkpointLsn,
      ...extra,
    });
    if (tailLsn > s.tailLsn) {
      assert(tailOffset >= s.tailOffset, "tail moved backwards");
      s.tailLsn = tailLsn;
      s.tailOffset = tailOffset;
      s.index.dropBelow(tailLsn + 1);
      this.hooks.onTailAdvanced();
    }
  }

  private underPressure(): boolean {
    const s = this.state;
    return (s.reservedOffset - s.tailOffset) / s.geo.walSizeBytes >= this.cfg.flusherWatermark;
  }

  /** The persisted checkpoint lags, or the tail may move. */
  private hasPersistWork(): boolean {
    return this.state.sb.checkpointLsn < this.state.checkpointLsn || this.tailCanAdvance();
  }

  /** Highest LSN such that the cycle's WAL range stays within maxCycleBytes (at least one record). */
  private pickUpTo(): number {
    const s = this.state;
    if (s.appendedLsn <= s.checkpointLsn) return s.checkpointLsn;
    return lastLsnWithin(s, s.checkpointLsn + 1, s.flushedOffset + this.cfg.maxCycleBytes);
  }

  private collect(
    rec: { type: number; lsn: number; lba: number; blockCount: number; buf: Buffer; at: number },
    runs: Run[],
  ): void {
    const bs = this.state.geo.blockSize;
    const dirty = this.state.dirty;
    let run: Run | undefined;
    for (let i = 0; i < rec.blockCount; i++) {
      const e = dirty.get(rec.lba + i);
      if (e === undefined || e.lsn !== rec.lsn) {
        run = undefined;
        continue;
      }
      if (!run) {
        run = { lba: rec.lba + i, blocks: 0, lsn: rec.lsn, bufs: [] };
        runs.push(run);
      }
      run.blocks++;
      {
        const start = rec.at + RECORD_HEADER_BYTES + i * bs;
        const last = run.bufs[run.bufs.length - 1];
        // Extend the previous view when the bytes are adjacent in the same chunk (no new iovec).
        if (
          last &&
          last.buffer === rec.buf.buffer &&
          last.byteOffset + last.length === rec.buf.byteOffset + start
        ) {
          run.bufs[run.bufs.length - 1] = rec.buf.subarray(start - last.length, start + bs);
        } else run.bufs.push(rec.buf.subarray(start, start + bs));
      }
    }
  }

  /**
   * The ranges a TRIM record still owns (not replaced by a newer trim), minus the blocks that hold a
   * newer written version (those reach the extent by their own record): the holes to punch.
   */
  private collectTrim(rec: { lsn: number; lba: number; blockCount: number }, punches: Punch[]): void {
    const dirty = this.state.dirty;
    for (const r of dirty.trimRangesOf(rec.lba, rec.blockCount, rec.lsn)) {
      let from = r.start;
      for (const lba of dirty.writtenIn(r.start, r.end)) {
        if (lba > from) punches.push({ lba: from, blocks: lba - from });
        from = lba + 1;
      }
      if (r.end > from) punches.push({ lba: from, blocks: r.end - from });
    }
  }

  /** Trimmed ranges go to the extent as holes (punch hole / discard), not as written zeros. */
  private async punchExtent(punches: Punch[]): Promise<void> {
    if (punches.length === 0) return;
    const bs = this.state.geo.blockSize;
    this.plainExtentWrites = true; // durable with the cycle's sync, like plain writes
    const discard = this.device.discard?.bind(this.device);
    for (const p of punches) {
      const at = this.state.extentOffsetBytes + p.lba * bs;
      if (discard) await discard(at, p.blocks * bs);
      else await writeZeros((bufs, off) => this.device.writev(bufs, off), at, p.blocks * bs);
      this.punchedBlocks += p.blocks;
    }
  }

  private async writeExtent(runs: Run[]): Promise<void> {
    if (runs.length === 0) return;
    runs.sort((a, b) => a.lba - b.lba);
    const bs = this.state.geo.blockSize;
    const groups: Array<{ lba: number; bufs: Buffer[]; next: number }> = [];
    let g: { lba: number; bufs: Buffer[]; next: number } | undefined;
    for (const r of runs) {
      if (g && g.next === r.lba && g.bufs.length + r.bufs.length <= 1024) {
        for (const b of r.bufs) g.bufs.push(b);
        g.next += r.blocks;
      } else {
        g = { lba: r.lba, bufs: [...r.bufs], next: r.lba + r.blocks };
        groups.push(g);
      }
    }
    let nextGroup = 0;
    const durable = this.device.writevDurable?.bind(this.device);
    const worker = async (): Promise<void> => {
      while (nextGroup < groups.length) {
        const grp = groups[nextGroup++]!;
        const at = this.state.extentOffsetBytes + grp.lba * bs;
        // Long runs go out O_DSYNC: the disk writes them now, beside the appends, instead of all at
        // once inside the next fdatasync that a flush() waits for (and the cycle needs no sync of
        // its own when every run went this way). Short random runs would cost a device cache flush
        // each: they stay in the page cache until the cycle's fdatasync.
        if (durable && (grp.next - grp.lba) * bs >= this.cfg.durableExtentMinBytes)
          await durable(grp.bufs, at);
        else {
          this.plainExtentWrites = true;
          await this.device.writev(grp.bufs, at);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(EXTENT_WRITE_CONCURRENCY, groups.length) }, worker));
  }
}
