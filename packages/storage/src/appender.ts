import {
  type AppendBatch,
  type AppendQueueFront,
  type AppendRequest,
  buildAppendBatch,
  type PendingAppend,
  type RawAppendResult,
} from "./append-batch";
import type { BlockDevice } from "./device";
import { assert, StorageError, wrapIoError } from "./errors";
import type { Gate } from "./gate";
import { RecordType } from "./record";
import type { VolumeState } from "./state";

export type { RawAppendResult } from "./append-batch";

export interface AdmissionConfig {
  softWatermark: number;
  hardWatermark: number;
  walFullTimeoutMs: number;
  maxSoftDelayMs: number;
  maxQueuedWrites: number;
  maxQueuedBytes: number;
  /** Batches up to this size are written O_DSYNC (durable on completion) when the device can. */
  durableAppendMaxBytes: number;
}

export interface AppenderHooks {
  wakeFlusher(): void;
  onAppended(headLsn: number): void;
  /** The volume's sticky failure (set on any I/O error), or undefined. */
  failure(): StorageError | undefined;
  fail(err: StorageError): void;
  now(): number;
  /** Records up to this LSN are durable (a durable append completed with nothing unsynced below it). */
  noteDurable(lsn: number): void;
}

/**
 * Admission + append pump. Writers queue here (bounded); once per event-loop turn the pump takes as
 * many queued requests as fit under the hard watermark, assigns their LSNs, and writes them with one
 * pwritev per contiguous WAL range. LSN assignment and the write are one step: if the write fails the
 * LSNs and WAL space are rolled back (no holes) and the volume is marked failed. The dirty map and LSN
 * index are updated only after the write completed, in LSN order.
 */
export class Appender {
  private queue: PendingAppend[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private inFlight: Promise<void> | undefined;
  private scheduled = false;
  private softDelayPending = false;
  private softDelayGranted = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private waitingGate = false;
  private closedError: StorageError | undefined;
  /** The queue head does not fit under the hard watermark (writers are waiting for WAL space). */
  blocked = false;
  readonly counters = {
    softDelays: 0,
    hardWaits: 0,
    timedOut: 0,
    batches: 0,
    durableBatches: 0,
    queueRejects: 0,
  };
  /** Last LSN written by a plain (not O_DSYNC) batch: durable only after the next full sync. */
  private plainAppendedLsn = 0;
  /**
   * Set while a replicated flush (sync_all / sync_quorum) is the only durability anyone waits for:
   * every batch is then written plain and made durable by the flush's own sync, which runs beside
   * the replicas' barriers, instead of delaying each write (and its shipping) by a disk round trip.
   */
  private plainOnly = false;
  /** Built once: the batch builder takes from the front through dequeue() so `blocked` stays right. */
  private readonly queueFront: AppendQueueFront = {
    peek: () => (this.queueHead < this.queue.length ? this.queue[this.queueHead] : undefined),
    take: () => this.dequeue(),
  };

  constructor(
    private readonly state: VolumeState,
    private readonly device: BlockDevice,
    private readonly gate: Gate,
    private readonly cfg: AdmissionConfig,
    private readonly hooks: AppenderHooks,
  ) {}

  get queuedWrites(): number {
    return this.queue.length - this.queueHead;
  }

  get hardLimitBytes(): number {
    return Math.floor(this.cfg.hardWatermark * this.state.geo.walSizeBytes);
  }

  submit(req: AppendRequest, bytes: number): Promise<number | RawAppendResult> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (this.queuedWrites >= this.cfg.maxQueuedWrites || this.queuedBytes + bytes > this.cfg.maxQueuedBytes) {
      this.counters.queueRejects++;
      return Promise.reject(new StorageError("wal_full", "admission queue is full"));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({
        req,
        bytes,
        deadlineMs: this.hooks.now() + this.cfg.walFullTimeoutMs,
        resolve,
        reject,
      });
      this.queuedBytes += bytes;
      this.schedule();
    });
  }

  /** Resolves once no append is in flight (used by group commit and exclusive operations). */
  /** See `plainOnly`. Either setting is safe: durability is only ever claimed by a sync or O_DSYNC. */
  setPlainOnly(plain: boolean): void {
    this.plainOnly = plain;
  }

  async drain(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  /** Rejects every queued request and refuses new ones. */
  shutdown(err: StorageError): void {
    this.closedError = err;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    while (this.queueHead < this.queue.length) this.dequeue().reject(err);
  }

  /** Rejects every queued request (the volume stopped taking appends for a while); new ones still queue. */
  refuseQueued(err: StorageError): void {
    while (this.queueHead < this.queue.length) this.dequeue().reject(err);
  }

  /** Called when WAL space may have been freed or the pressure changed. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private dequeue(): PendingAppend {
    if (this.queuedWrites === 1) this.blocked = false;
    const p = this.queue[this.queueHead]!;
    this.queue[this.queueHead] = undefined as unknown as PendingAppend;
    this.queueHead++;
    this.queuedBytes -= p.bytes;
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    return p;
  }

  private pump(): void {
    if (this.inFlight || this.queuedWrites === 0 || this.closedError) return;
    const failure = this.hooks.failure();
    if (failure) {
      while (this.queueHead < this.queue.length) this.dequeue().reject(failure);
      return;
    }
    const s = this.state;
    const W = s.geo.walSizeBytes;
    const usedFraction = (s.reservedOffset - s.tailOffset) / W;
    if (usedFraction >= this.cfg.softWatermark && !this.softDelayGranted) {
      this.hooks.wakeFlusher();
      if (usedFraction < this.cfg.hardWatermark) {
        const span = this.cfg.hardWatermark - this.cfg.softWatermark;
        const delayMs = Math.min(1, (usedFraction - this.cfg.softWatermark) / span) * this.cfg.maxSoftDelayMs;
        if (delayMs > 0 && !this.softDelayPending) {
          this.softDelayPending = true;
          this.counters.softDelays++;
          setTimeout(() => {
            this.softDelayPending = false;
            this.softDelayGranted = true;
            this.pump();
          }, delayMs);
          return;
        }
        if (this.softDelayPending) return;
      }
    }
    this.softDelayGranted = false;
    const release = this.gate.tryShared();
    if (!release) {
      if (!this.waitingGate) {
        this.waitingGate = true;
        this.gate.whenOpen(() => {
          this.waitingGate = false;
          this.schedule();
        });
      }
      return;
    }
    const batch = buildAppendBatch(this.state, this.hardLimitBytes, this.queueFront);
    this.blocked = batch === undefined;
    if (batch === undefined) {
      release();
      this.counters.hardWaits++;
      this.hooks.wakeFlusher();
      this.armDeadline();
      return;
    }
    this.inFlight = this.issue(batch).finally(() => {
      release();
      this.inFlight = undefined;
      this.pump();
    });
  }

  private armDeadline(): void {
    if (this.deadlineTimer || this.queuedWrites === 0) return;
    const head = this.queue[this.queueHead]!;
    const waitMs = Math.max(0, head.deadlineMs - this.hooks.now());
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = undefined;
      const now = this.hooks.now();
      while (this.queuedWrites > 0 && this.queue[this.queueHead]!.deadlineMs <= now) {
        this.counters.timedOut++;
        this.dequeue().reject(
          new StorageError("wal_full", `WAL above the hard watermark for ${this.cfg.walFullTimeoutMs} ms`),
        );
      }
      this.pump();
    }, waitMs + 1);
  }

  private async issue(batch: AppendBatch): Promise<void> {
    const s = this.state;
    this.counters.batches++;
    const bytes = s.reservedOffset - batch.startOffset;
    // Replicated records (raw) are made durable by the barrier that follows them (one group sync
    // per barrier); writing each shipped batch O_DSYNC would put a disk round trip on every batch
    // of the replica's receive loop.
    const durable =
      !this.plainOnly &&
      this.device.writevDurable !== undefined &&
      bytes <= this.cfg.durableAppendMaxBytes &&
      !batch.placed.some((p) => p.pending.req.kind === "raw");
    try {
      for (const seg of batch.segments) {
        const at = s.geo.walOffsetBytes + seg.phys;
        if (durable) await this.device.writevDurable!(seg.bufs, at);
        else await this.device.writev(seg.bufs, at);
      }
    } catch (err) {
      // Nothing after startOffset was acknowledged: give the space and the LSNs back.
      s.reservedOffset = batch.startOffset;
      s.nextLsn = batch.startLsn;
      s.lastCrc = batch.startCrc;
      const failure = wrapIoError(err, "WAL append");
      this.hooks.fail(failure);
      for (const p of batch.placed) p.pending.reject(failure);
      return;
    }
    for (const pl of batch.placed) {
      const req = pl.pending.req;
      if (req.kind === "raw") {
        pl.records.forEach((r, i) => {
          this.applyRecord(r.lsn, r.type, r.lba, r.blockCount, pl.offsets[i]!, r.crc, r.epoch);
        });
        pl.pending.resolve({
          headLsn: pl.records.length > 0 ? pl.records[pl.records.length - 1]!.lsn : s.appendedLsn,
          appended: pl.records.length,
          skipped: pl.skipped,
        });
      } else {
        const type = req.kind === "write" ? RecordType.WRITE : RecordType.TRIM;
        this.applyRecord(pl.firstLsn, type, req.lba, req.blockCount, pl.offsets[0]!, pl.crc, pl.epoch);
        pl.pending.resolve(pl.firstLsn);
      }
    }
    s.appendedOffset = s.reservedOffset;
    if (durable) {
      this.counters.durableBatches++;
      // O_DSYNC covers only this batch's range: it makes the log durable up to here only if every
      // earlier plain batch has been synced already.
      if (s.durableLsn >= this.plainAppendedLsn) this.hooks.noteDurable(s.appendedLsn);
    } else this.plainAppendedLsn = s.appendedLsn;
    this.hooks.onAppended(s.appendedLsn);
  }

  private applyRecord(
    lsn: number,
    type: number,
    lba: number,
    blockCount: number,
    offset: number,
    crc: number,
    epoch: number,
  ): void {
    const s = this.state;
    assert(lsn === s.appendedLsn + 1, `append completion out of order: ${lsn} after ${s.appendedLsn}`);
    if (type === RecordType.TRIM) s.dirty.putTrim(lba, blockCount, lsn, offset);
    else
      for (let i = 0; i < blockCount; i++)
        s.dirty.put(lba + i, { lsn, recordOffset: offset, blockInRecord: i });
    s.index.push(lsn, offset, crc, epoch, lba, blockCount);
    s.history.observe(lsn, epoch, crc);
    // Marked in memory before the record can be acknowledged; persisted before its WAL space is
    // reused (ChangeTracker.coverThrough), so no write path I/O is added here.
    s.changes.mark(lba, blockCount);
    s.appendedLsn = lsn;
  }
}
