import type { BlockDevice } from "./device";
import { assert, StorageError, wrapIoError } from "./errors";
import type { Gate } from "./gate";
import { encodeHeader, RECORD_HEADER_BYTES, RecordType, type RecordView, sealHeader } from "./record";
import type { VolumeState } from "./state";

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

export interface RawAppendResult {
  /** Head LSN after the call. */
  headLsn: number;
  appended: number;
  /** Records at or below the head that were skipped as duplicates. */
  skipped: number;
}

type Request =
  | { kind: "write"; lba: number; blockCount: number; data: Buffer }
  | { kind: "trim"; lba: number; blockCount: number }
  | { kind: "raw"; buf: Buffer; records: RecordView[] };

interface Pending {
  req: Request;
  bytes: number;
  deadlineMs: number;
  resolve: (v: number | RawAppendResult) => void;
  reject: (e: unknown) => void;
}

interface Batch {
  placed: Placed[];
  segments: Array<{ phys: number; bufs: Buffer[] }>;
  startOffset: number;
  startLsn: number;
  startCrc: number | undefined;
}

interface Placed {
  pending: Pending;
  /** For raw requests: the records actually appended (duplicates removed). */
  records: RecordView[];
  skipped: number;
  firstLsn: number;
  /** Logical offset of each record placed (write/trim: one). */
  offsets: number[];
  /** write/trim: the sealed record's CRC. */
  crc: number;
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
  private queue: Pending[] = [];
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

  submit(req: Request, bytes: number): Promise<number | RawAppendResult> {
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

  /** Called when WAL space may have been freed or the pressure changed. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private dequeue(): Pending {
    if (this.queuedWrites === 1) this.blocked = false;
    const p = this.queue[this.queueHead]!;
    this.queue[this.queueHead] = undefined as unknown as Pending;
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
    const batch = this.buildBatch();
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

  /** Takes requests from the queue front while they fit; assigns LSNs; builds the iovecs. */
  private buildBatch(): Batch | undefined {
    const s = this.state;
    const W = s.geo.walSizeBytes;
    const limit = this.hardLimitBytes;
    const placed: Placed[] = [];
    const segments: Array<{ phys: number; bufs: Buffer[] }> = [];
    const startOffset = s.reservedOffset;
    const startLsn = s.nextLsn;
    const startCrc = s.lastCrc;
    let prevCrc = s.lastCrc;
    let offset = s.reservedOffset;
    let lsn = s.nextLsn;
    let iovecs = 0;
    let current: { phys: number; bufs: Buffer[] } | undefined;
    const openSegment = (phys: number): { phys: number; bufs: Buffer[] } => {
      const seg = { phys, bufs: [] as Buffer[] };
      segments.push(seg);
      return seg;
    };
    const place = (recordBytes: number, bufs: Buffer[], nextLsn: number): number => {
      const toEnd = W - (offset % W);
      if (recordBytes > toEnd) {
        if (toEnd >= RECORD_HEADER_BYTES) {
          const pad = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
          sealHeader(encodeHeader(pad, 0, RecordType.PADDING, nextLsn, s.epoch, 0, 0, toEnd, 0), undefined);
          current = current ?? openSegment(offset % W);
          current.bufs.push(pad);
        }
        offset += toEnd;
        current = undefined;
      }
      current = current ?? openSegment(offset % W);
      for (const b of bufs) current.bufs.push(b);
      iovecs += bufs.length + 1;
      const at = offset;
      offset += recordBytes;
      return at;
    };
    /** WAL bytes a record of this size needs at `off`, padding included. */
    const need = (off: number, recordBytes: number): number => {
      const toEnd = W - (off % W);
      return recordBytes > toEnd ? toEnd + recordBytes : recordBytes;
    };

    while (this.queueHead < this.queue.length && iovecs < 4000) {
      const p = this.queue[this.queueHead]!;
      const req = p.req;
      if (req.kind === "raw") {
        const error = this.checkRaw(req.records, lsn, prevCrc);
        if (error) {
          this.dequeue().reject(error);
          continue;
        }
        const fresh = req.records.filter((r) => r.lsn >= lsn);
        let end = offset;
        for (const r of fresh) end += need(end, r.recordBytes);
        if (end - s.tailOffset > limit) break;
        this.dequeue();
        const offsets: number[] = [];
        for (const r of fresh) {
          offsets.push(place(r.recordBytes, [req.buf.subarray(r.offset, r.offset + r.recordBytes)], r.lsn));
          prevCrc = r.crc;
          lsn++;
        }
        placed.push({
          pending: p,
          crc: 0,
          records: fresh,
          skipped: req.records.length - fresh.length,
          firstLsn: fresh[0]?.lsn ?? 0,
          offsets,
        });
        continue;
      }
      const payload = req.kind === "write" ? req.data : undefined;
      const recordBytes = RECORD_HEADER_BYTES + (payload?.length ?? 0);
      if (offset + need(offset, recordBytes) - s.tailOffset > limit) break;
      this.dequeue();
      const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
      const type = req.kind === "write" ? RecordType.WRITE : RecordType.TRIM;
      prevCrc = sealHeader(
        encodeHeader(header, 0, type, lsn, s.epoch, req.lba, req.blockCount, recordBytes, prevCrc ?? 0),
        payload,
      );
      const at = place(recordBytes, payload ? [header, payload] : [header], lsn);
      placed.push({ pending: p, crc: prevCrc, records: [], skipped: 0, firstLsn: lsn, offsets: [at] });
      lsn++;
    }
    if (placed.length === 0) return undefined;
    assert(offset - s.tailOffset <= W, "WAL over-reserved");
    s.reservedOffset = offset;
    s.nextLsn = lsn;
    s.lastCrc = prevCrc;
    return { placed, segments, startOffset, startLsn, startCrc };
  }

  private checkRaw(
    records: RecordView[],
    nextLsn: number,
    prevCrc: number | undefined,
  ): StorageError | undefined {
    const s = this.state;
    const fresh = records.filter((r) => r.lsn >= nextLsn);
    if (fresh.length > 0 && fresh[0]!.lsn !== nextLsn) {
      return new StorageError("lsn_gap", `record LSN ${fresh[0]!.lsn} does not follow head ${nextLsn - 1}`);
    }
    if (fresh.length > 0 && prevCrc !== undefined && fresh[0]!.prevCrc !== prevCrc) {
      return new StorageError(
        "log_mismatch",
        `record LSN ${fresh[0]!.lsn} does not continue this log (CRC chain)`,
      );
    }
    // Records may carry older epochs (history written before a failover, shipped by the new
    // primary); never a newer epoch than this copy's, and never decreasing along the log. Across
    // batches the CRC chain already proves the records continue this copy's log.
    let previousEpoch = 0;
    for (const r of fresh) {
      if (r.epoch > s.epoch || r.epoch < previousEpoch) {
        return new StorageError(
          "epoch_mismatch",
          `record LSN ${r.lsn} has epoch ${r.epoch} (volume epoch ${s.epoch}, previous record ${previousEpoch})`,
        );
      }
      previousEpoch = r.epoch;
      if (r.type === RecordType.WRITE || r.type === RecordType.TRIM) {
        if (r.lba + r.blockCount > s.volumeBlocks) {
          return new StorageError("out_of_range", `record LSN ${r.lsn} addresses blocks past the volume end`);
        }
      }
    }
    return undefined;
  }

  private async issue(batch: Batch): Promise<void> {
    const s = this.state;
    this.counters.batches++;
    const bytes = s.reservedOffset - batch.startOffset;
    // Replicated records (raw) are made durable by the barrier that follows them (one group sync
    // per barrier); writing each shipped batch O_DSYNC would put a disk round trip on every batch
    // of the replica's receive loop.
    const durable =
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
          this.applyRecord(r.lsn, r.type, r.lba, r.blockCount, pl.offsets[i]!, r.crc);
        });
        pl.pending.resolve({
          headLsn: pl.records.length > 0 ? pl.records[pl.records.length - 1]!.lsn : s.appendedLsn,
          appended: pl.records.length,
          skipped: pl.skipped,
        });
      } else {
        const type = req.kind === "write" ? RecordType.WRITE : RecordType.TRIM;
        this.applyRecord(pl.firstLsn, type, req.lba, req.blockCount, pl.offsets[0]!, pl.crc);
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
  ): void {
    const s = this.state;
    assert(lsn === s.appendedLsn + 1, `append completion out of order: ${lsn} after ${s.appendedLsn}`);
    for (let i = 0; i < blockCount; i++) {
      s.dirty.put(lba + i, { lsn, recordOffset: offset, blockInRecord: type === RecordType.TRIM ? -1 : i });
    }
    s.index.push(lsn, offset, crc);
    s.appendedLsn = lsn;
  }
}
