import { EventEmitter } from "node:events";
import { Appender, type RawAppendResult } from "./appender";
import { type CreateOptions, type ResolvedTuning, resolveTuning, type VolumeTuning } from "./config";
import type { BlockDevice } from "./device";
import { assert, StorageError, wrapIoError } from "./errors";
import { Flusher } from "./flusher";
import { formatDevice, readSuperblock } from "./format";
import { Gate } from "./gate";
import { GroupCommit } from "./group-commit";
import type { StagingStore } from "./install";
import { parseRecords, RECORD_HEADER_BYTES } from "./record";
import { type RecordBatch, readRecordRange } from "./record-reader";
import { type RecoveryReport, recoverState } from "./recovery";
import { type NeedsRebuildEvent, Retention } from "./retention";
import { newVolumeState, type VolumeState } from "./state";
import type { DurabilityMode, Superblock } from "./superblock";
import { SuperblockWriter } from "./superblock-writer";
import { SharedSyncDevice } from "./sync-service";
import type { OpenOptions, PressureState, VolumeEvents, VolumeStats } from "./volume-types";

export type { OpenOptions, PressureState, VolumeEvents, VolumeStats };

import type { StagedTailSummary } from "./install-tail";
import { Installer } from "./installer";
import { VolumeOps } from "./volume-ops";

const MAX_READ_BYTES = 64 * 1024 * 1024;

/**
 * One volume on one device: `superblock (4 KiB) | WAL ring | extent`. See README.md for the layout,
 * the record format and the crash-safety argument.
 */
export class Volume extends EventEmitter<VolumeEvents> {
  readonly state: VolumeState;
  readonly tuning: ResolvedTuning;
  readonly recovery: RecoveryReport;
  private readonly gate = new Gate();
  private readonly appender: Appender;
  private readonly groupCommit: GroupCommit;
  private readonly flusher: Flusher;
  private readonly retention: Retention;
  private readonly sbWriter: SuperblockWriter;
  private readonly ops: VolumeOps;
  private readonly installer: Installer;
  private failure: StorageError | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly device: BlockDevice,
    sb: Superblock,
    tuning: VolumeTuning,
    readonly staging: StagingStore | undefined,
  ) {
    super();
    this.tuning = resolveTuning(tuning, sb.walSizeBytes, sb.blockSize);
    const t = this.tuning;
    this.state = newVolumeState(sb, t.maxWriteBytes + RECORD_HEADER_BYTES);
    // Every sync of the open volume goes through one service: never two fdatasyncs at once.
    const shared = new SharedSyncDevice(device);
    const fail = (e: StorageError): void => this.fail(e);
    const failure = (): StorageError | undefined => this.failure;
    this.sbWriter = new SuperblockWriter(this.state, shared, fail, (lsn) =>
      this.groupCommit.noteDurable(lsn),
    );
    this.appender = new Appender(this.state, device, this.gate, t, {
      wakeFlusher: () => this.flusher.wake(),
      onAppended: (head) => this.onAppended(head),
      failure,
      fail,
      now: () => performance.now(), // admission deadlines use real time; only retention takes the injectable clock
      noteDurable: (lsn) => this.groupCommit.noteDurable(lsn),
    });
    this.groupCommit = new GroupCommit(this.state, shared, this.appender, this.gate, { failure, fail });
    this.retention = new Retention(
      this.state,
      {
        maxAgeMs: t.retentionMaxAgeMs,
        maxHeldBytes: t.retentionMaxHeldBytes,
        checkIntervalMs: t.retentionCheckIntervalMs,
      },
      t.clock,
      (ev) => {
        this.emit("needsRebuild", ev);
        this.flusher.wake();
      },
    );
    this.flusher = new Flusher(
      this.state,
      shared,
      this.gate,
      this.sbWriter,
      this.retention,
      {
        failure,
        fail,
        noteDurable: (lsn) => this.groupCommit.noteDurable(lsn),
        onTailAdvanced: () => this.appender.schedule(),
      },
      t,
    );
    this.ops = new VolumeOps(this.state, device, this.gate, this.sbWriter, this.appender, this.retention, {
      fail,
      check: () => this.checkUsable(),
    });
    this.installer = new Installer(
      this.state,
      device,
      this.gate,
      this.sbWriter,
      this.appender,
      this.retention,
      {
        fail,
        check: () => this.checkUsable(),
        staging,
        // The replayed tail may fill the WAL up to where the flusher would start anyway.
        walBudgetBytes: Math.floor(Math.min(t.flusherWatermark, t.softWatermark) * sb.walSizeBytes),
      },
    );
    this.recovery = { replayed: 0, retained: 0, stopReason: undefined };
  }

  /** Formats `device` as a new volume (WAL zeroed unless known zero) and opens it. */
  static async create(device: BlockDevice, opts: CreateOptions & OpenOptions): Promise<Volume> {
    await formatDevice(device, opts);
    return Volume.open(device, opts);
  }

  /** Opens an existing volume: validate the superblock, finish an interrupted install, recover the WAL. */
  static async open(device: BlockDevice, opts: OpenOptions = {}): Promise<Volume> {
    const sb = await readSuperblock(device);
    const vol = new Volume(device, sb, opts, opts.staging);
    if (sb.installPending) await vol.installer.finishPending();
    const report = await recoverState(device, vol.state);
    Object.assign(vol.recovery, report);
    try {
      // Everything recovery found may so far only be in the page cache: make it durable before
      // reporting it as such (and before anyone builds on it).
      await device.sync();
    } catch (err) {
      throw wrapIoError(err, "sync after recovery");
    }
    vol.state.durableLsn = vol.state.appendedLsn;
    vol.flusher.start();
    vol.retention.start();
    // No immediate cycle: recovered records stay WAL-only until the first timer tick (or WAL pressure),
    // which leaves a replica that turns out to be ahead a window to truncate them safely.
    return vol;
  }

  // ---- block I/O ----------------------------------------------------------------------------------

  get blockSize(): number {
    return this.state.geo.blockSize;
  }

  get volumeSizeBytes(): number {
    return this.state.sb.volumeSizeBytes;
  }

  /** Appends a WRITE record; resolves with its LSN once it is in the WAL (durable after flush()). */
  write(lba: number, data: Buffer): Promise<number> {
    try {
      this.checkUsable();
      if (!Buffer.isBuffer(data)) throw new StorageError("invalid_argument", "data must be a Buffer");
      const blocks = this.checkRange(lba, data.length);
      return this.appender.submit(
        { kind: "write", lba, blockCount: blocks, data },
        data.length + RECORD_HEADER_BYTES,
      ) as Promise<number>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Appends a TRIM record: the blocks read as zeros. */
  trim(lba: number, lengthBytes: number): Promise<number> {
    try {
      this.checkUsable();
      const blocks = this.checkRange(lba, lengthBytes, this.state.sb.volumeSizeBytes);
      return this.appender.submit(
        { kind: "trim", lba, blockCount: blocks },
        RECORD_HEADER_BYTES,
      ) as Promise<number>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Reads blocks; every write that resolved before the call is visible (read-your-writes). */
  async read(lba: number, lengthBytes: number): Promise<Buffer> {
    this.checkOpen();
    this.checkRange(lba, lengthBytes, MAX_READ_BYTES);
    return this.ops.read(lba, lengthBytes);
  }

  /** Group commit: resolves with the durable LSN once every write appended before the call is synced. */
  flush(): Promise<number> {
    try {
      this.checkUsable();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.groupCommit.flush();
  }

  /** Runs flusher cycles until everything appended so far is in the extent (tail as pins allow). */
  async checkpoint(): Promise<number> {
    this.checkUsable();
    await this.flusher.checkpointAll();
    return this.state.checkpointLsn;
  }

  // ---- replication primitives --------------------------------------------------------------------

  /**
   * Raw bytes of retained records from `fromLsn` (at least one record if any, then up to maxBytes).
   * With `headroomBytes`, that much of the batch's own memory precedes `bytes` for the caller's use
   * (the shipper encodes its message header there).
   */
  async readRecords(fromLsn: number, maxBytes: number, headroomBytes = 0): Promise<RecordBatch> {
    this.checkOpen();
    return readRecordRange(this.device, this.state, this.gate, fromLsn, maxBytes, headroomBytes);
  }

  /**
   * Replica append of already-encoded records (the bytes readRecords returned on the primary):
   * CRC + chain verified, epoch must equal this volume's epoch, LSNs must continue the head
   * (duplicates at or below the head are skipped and counted, a gap is rejected).
   */
  appendRecords(bytes: Buffer): Promise<RawAppendResult> {
    try {
      this.checkUsable();
      if (!Buffer.isBuffer(bytes)) throw new StorageError("invalid_argument", "records must be a Buffer");
      const parsed = parseRecords(bytes, this.blockSize, this.state.geo.maxRecordBytes);
      if (!parsed.ok) {
        throw new StorageError(
          "corrupt",
          `record batch invalid at byte ${parsed.atOffset}: ${parsed.problem}`,
        );
      }
      if (parsed.records.length === 0) {
        return Promise.resolve({ headLsn: this.state.nextLsn - 1, appended: 0, skipped: 0 });
      }
      // The batch crosses the ring end at most once: one padding, at most one record long.
      const largest = parsed.records.reduce((m, r) => Math.max(m, r.recordBytes), 0);
      if (bytes.length + largest > this.appender.hardLimitBytes) {
        throw new StorageError(
          "invalid_argument",
          `record batch of ${bytes.length} bytes cannot fit under this WAL's hard watermark (${this.appender.hardLimitBytes} bytes)`,
        );
      }
      return this.appender.submit(
        { kind: "raw", buf: bytes, records: parsed.records },
        bytes.length,
      ) as Promise<RawAppendResult>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Keeps records with LSN >= fromLsn in the WAL for `owner` until unpinned or over budget. */
  pinWal(owner: string, fromLsn: number): void {
    this.checkOpen();
    this.retention.pin(owner, fromLsn);
  }

  unpinWal(owner: string): boolean {
    const removed = this.retention.unpin(owner);
    if (removed) this.flusher.wake();
    return removed;
  }

  pinnedLsn(owner: string): number | undefined {
    return this.retention.pinnedLsn(owner);
  }

  /** Evaluates retention budgets now (also runs on its own timer). */
  evaluateRetention(): NeedsRebuildEvent[] {
    return this.retention.evaluate();
  }

  setEpoch(epoch: number): Promise<void> {
    return this.shared(() => this.ops.setEpoch(epoch));
  }

  setDurabilityMode(mode: DurabilityMode): Promise<void> {
    return this.shared(() => this.ops.setDurabilityMode(mode));
  }

  /** Superblock updates run shared: an install commit (exclusive) never races one (swap replaces the file). */
  private async shared<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.gate.shared();
    try {
      return await fn();
    } finally {
      release();
    }
  }

  get durabilityMode(): DurabilityMode {
    return this.state.sb.durabilityMode;
  }

  /** Drops WAL records above `lsn` (replica ahead of the new primary); refused when unsafe. */
  truncateToLsn(lsn: number): Promise<void> {
    return this.ops.truncateToLsn(lsn);
  }

  /** Starts staging a base image; `resume` keeps the staged image chunks (the staged tail is always discarded). */
  beginInstall(opts: { resume?: boolean } = {}): Promise<void> {
    return this.installer.begin(opts.resume ?? false);
  }

  writeInstallChunk(offsetBytes: number, data: Buffer): Promise<void> {
    return this.installer.writeChunk(offsetBytes, data);
  }

  /**
   * Stages whole encoded WAL records (as readRecords returns them) that follow the image's base LSN;
   * they become part of the volume atomically with the image at commitInstall. `reset` discards the
   * staged tail first. Resolves with what is staged in total.
   */
  stageInstallTail(bytes: Buffer, opts: { reset?: boolean } = {}): Promise<StagedTailSummary> {
    try {
      return this.installer.stageTail(bytes, opts.reset ?? false);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Atomically replaces the volume by the staged image + tail; resolves once all of it is durable. */
  commitInstall(baseLsn: number, epoch: number, opts: { imageHighLsn?: number } = {}): Promise<void> {
    return this.installer.commit(baseLsn, epoch, opts.imageHighLsn ?? baseLsn);
  }

  abortInstall(): Promise<void> {
    return this.installer.abort();
  }

  /** Rebuild source: raw extent bytes (block aligned). Pin the WAL at checkpoint+1 first (pinBaseImage). */
  readExtent(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    this.checkOpen();
    return this.ops.readExtent(offsetBytes, lengthBytes);
  }

  /**
   * Rebuild source: pins the WAL for `owner` from checkpoint+1 and returns the base LSN. Stream the
   * extent, then send `extentHighLsn` (read after streaming) as the image's high LSN, then the WAL from
   * baseLsn+1: replaying it repairs blocks the flusher changed during the copy.
   */
  pinBaseImage(owner: string): { baseLsn: number; volumeSizeBytes: number; blockSize: number } {
    this.checkUsable();
    const baseLsn = this.state.checkpointLsn;
    this.retention.pin(owner, baseLsn + 1);
    return { baseLsn, volumeSizeBytes: this.volumeSizeBytes, blockSize: this.blockSize };
  }

  // ---- observers ---------------------------------------------------------------------------------

  get headLsn(): number {
    return this.state.appendedLsn;
  }
  get durableLsn(): number {
    return this.state.durableLsn;
  }
  get checkpointLsn(): number {
    return this.state.checkpointLsn;
  }
  get tailLsn(): number {
    return this.state.tailLsn;
  }
  get extentHighLsn(): number {
    return this.state.extentHighLsn;
  }
  get epoch(): number {
    return this.state.epoch;
  }
  get uuid(): string {
    return this.state.sb.uuid;
  }
  get failed(): StorageError | undefined {
    return this.failure;
  }

  get pressure(): PressureState {
    const f = (this.state.reservedOffset - this.state.tailOffset) / this.state.geo.walSizeBytes;
    if (this.appender.blocked || f >= this.tuning.hardWatermark) return "hard";
    return f >= this.tuning.softWatermark ? "soft" : "normal";
  }

  stats(): VolumeStats {
    const s = this.state;
    const used = s.reservedOffset - s.tailOffset;
    return {
      headLsn: s.appendedLsn,
      durableLsn: s.durableLsn,
      checkpointLsn: s.checkpointLsn,
      tailLsn: s.tailLsn,
      extentHighLsn: s.extentHighLsn,
      epoch: s.epoch,
      walSizeBytes: s.geo.walSizeBytes,
      walUsedBytes: used,
      walUsedFraction: used / s.geo.walSizeBytes,
      pressure: this.pressure,
      queuedWrites: this.appender.queuedWrites,
      dirtyBlocks: s.dirty.size,
      syncs: this.groupCommit.syncs,
      flusherCycles: this.flusher.cycles,
      superblockWrites: this.sbWriter.writes,
      admission: { ...this.appender.counters },
    };
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  /** Stops admission (queued writers get volume_closed), drains appends, final checkpoint, closes the device. */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.retention.stop();
    this.flusher.stop();
    this.appender.shutdown(new StorageError("volume_closed", "volume is closed"));
    await this.appender.drain();
    await this.flusher.idle();
    let finalError: unknown;
    if (!this.failure) {
      try {
        await this.flusher.checkpointAll();
      } catch (err) {
        finalError = err;
      }
    }
    await this.installer.closeStaging(false);
    await this.device.close();
    if (finalError) throw finalError;
  }

  // ---- internals ---------------------------------------------------------------------------------

  private onAppended(head: number): void {
    const s = this.state;
    if ((s.reservedOffset - s.tailOffset) / s.geo.walSizeBytes >= this.tuning.flusherWatermark)
      this.flusher.wake();
    if (this.listenerCount("appended") > 0) this.emit("appended", head);
  }

  private fail(err: StorageError): void {
    if (this.failure) return;
    this.failure = new StorageError(
      "volume_failed",
      `volume failed after an I/O error (${err.message}); reopen it`,
      { cause: err },
    );
    this.flusher.stop();
    if (this.listenerCount("failed") > 0) this.emit("failed", err);
  }

  private checkOpen(): void {
    if (this.closing) throw new StorageError("volume_closed", "volume is closed");
  }

  private checkUsable(): void {
    this.checkOpen();
    if (this.failure) throw this.failure;
  }

  /** Validates an LBA range; returns its block count. */
  private checkRange(lba: number, lengthBytes: number, maxBytes = this.tuning.maxWriteBytes): number {
    const bs = this.state.geo.blockSize;
    if (!Number.isSafeInteger(lengthBytes) || lengthBytes <= 0) {
      throw new StorageError("invalid_argument", `length ${lengthBytes} must be a positive integer`);
    }
    if (lengthBytes % bs !== 0)
      throw new StorageError("invalid_argument", `length ${lengthBytes} is not a multiple of ${bs}`);
    if (lengthBytes > maxBytes) {
      throw new StorageError("invalid_argument", `length ${lengthBytes} exceeds the maximum ${maxBytes}`);
    }
    const blocks = lengthBytes / bs;
    if (!Number.isSafeInteger(lba) || lba < 0 || lba + blocks > this.state.volumeBlocks) {
      throw new StorageError(
        "out_of_range",
        `blocks [${lba}, ${lba + blocks}) outside the volume (${this.state.volumeBlocks} blocks)`,
      );
    }
    assert(blocks > 0, "blocks > 0");
    return blocks;
  }
}
