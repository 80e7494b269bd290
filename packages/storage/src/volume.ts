import { EventEmitter } from "node:events";
import type { Appender, RawAppendResult } from "./appender";
import type { ChangedBlocks, ChangeTracker, ChangeTrackingStatus } from "./change-tracker";
import type { CreateOptions, ResolvedTuning, VolumeTuning } from "./config";
import type { BlockDevice } from "./device";
import { StorageError } from "./errors";
import type { Flusher } from "./flusher";
import { formatDevice, readSuperblock } from "./format";
import type { Gate } from "./gate";
import type { GroupCommit } from "./group-commit";
import type { Generation } from "./history";
import type { StagingStore } from "./install";
import type { InstallResumePoint } from "./install-resume";
import type { StagedTailSummary } from "./install-tail";
import type { Installer } from "./installer";
import { type RecordBatch, readRecordRange } from "./record-reader";
import { type InstallBaseRecord, type RecordRef, recordRefAt } from "./record-ref";
import type { RecoveryReport } from "./recovery";
import type { Resync, ResyncCommit, ResyncState } from "./resync";
import type { NeedsRebuildEvent, Retention } from "./retention";
import type { VolumeState } from "./state";
import type { DurabilityMode, Superblock } from "./superblock";
import type { SuperblockWriter } from "./superblock-writer";
import { submitRecords, submitTrim, submitWrite } from "./volume-append";
import { checkRange, MAX_READ_BYTES } from "./volume-input";
import type { VolumeOps } from "./volume-ops";
import { recoverParts, wireVolumeParts } from "./volume-parts";
import { volumeStats, walPressure } from "./volume-stats";
import type { OpenOptions, PressureState, VolumeEvents, VolumeStats } from "./volume-types";
import type { WriteTracker } from "./write-tracker";

export { MAX_TRIM_RECORD_BLOCKS } from "./volume-append";
export type { OpenOptions, PressureState, VolumeEvents, VolumeStats };

/**
 * One volume on one device: `superblock (4 KiB) | WAL ring | extent`. See README.md for the layout,
 * the record format and the crash-safety argument. The facade over the parts wired in volume-parts.ts.
 */
export class Volume extends EventEmitter<VolumeEvents> {
  readonly state: VolumeState;
  readonly tuning: ResolvedTuning;
  readonly recovery: RecoveryReport;
  private readonly gate: Gate;
  private readonly appender: Appender;
  private readonly groupCommit: GroupCommit;
  private readonly flusher: Flusher;
  private readonly retention: Retention;
  private readonly sbWriter: SuperblockWriter;
  private readonly ops: VolumeOps;
  private readonly installer: Installer;
  private readonly changes: ChangeTracker;
  private readonly resync: Resync;
  private failure: StorageError | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly device: BlockDevice,
    sb: Superblock,
    tuning: VolumeTuning,
    readonly staging: StagingStore | undefined,
  ) {
    super();
    const parts = wireVolumeParts(device, sb, tuning, staging, {
      failure: () => this.failure,
      fail: (err) => this.fail(err),
      checkUsable: () => this.checkUsable(),
      onAppended: (head) => {
        if (this.listenerCount("appended") > 0) this.emit("appended", head);
      },
      onNeedsRebuild: (ev) => this.emit("needsRebuild", ev),
    });
    this.state = parts.state;
    this.tuning = parts.tuning;
    this.gate = parts.gate;
    this.appender = parts.appender;
    this.groupCommit = parts.groupCommit;
    this.flusher = parts.flusher;
    this.retention = parts.retention;
    this.sbWriter = parts.sbWriter;
    this.ops = parts.ops;
    this.installer = parts.installer;
    this.changes = parts.changes;
    this.resync = parts.resync;
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
    const { state, installer, changes, resync } = vol;
    Object.assign(vol.recovery, await recoverParts(device, { state, installer, changes, resync }));
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
      this.checkAppendable();
      return submitWrite(this.state, this.appender, this.tuning.maxWriteBytes, lba, data);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Appends TRIM records: the blocks read as zeros. Any range inside the volume is one record (a
   * range in the dirty map, a hole in the extent), or a few (MAX_TRIM_RECORD_BLOCKS each).
   */
  trim(lba: number, lengthBytes: number): Promise<number> {
    try {
      this.checkAppendable();
      return submitTrim(this.state, this.appender, lba, lengthBytes);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Reads blocks; every write that resolved before the call is visible (read-your-writes). */
  async read(lba: number, lengthBytes: number): Promise<Buffer> {
    this.checkOpen();
    this.resync.checkRead();
    checkRange(this.state, lba, lengthBytes, MAX_READ_BYTES);
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
      this.checkAppendable();
      return submitRecords(this.state, this.appender, this.tuning.maxQueuedBytes, bytes);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Epoch and CRC of record `lsn` (0: the empty history), if this copy can still name it. */
  recordAt(lsn: number): RecordRef | undefined {
    return recordRefAt(this.state, lsn);
  }

  /**
   * A performance hint from the replication layer: true while the volume has replicas and its
   * flushes wait for their barriers (sync_all / sync_quorum). Small appends are then written plain
   * rather than O_DSYNC: a write is acknowledged (and shipped) without waiting for the disk, and
   * the flush's local sync overlaps the replicas' barriers instead of preceding them. Durability
   * rules do not change: a flush still syncs everything it reports.
   */
  setReplicatedFlushHint(replicated: boolean): void {
    this.appender.setPlainOnly(replicated);
  }

  /** Keeps records with LSN >= fromLsn in the WAL for `owner` until unpinned or over budget. */
  pinWal(owner: string, fromLsn: number): void {
    this.checkOpen();
    this.retention.pin(owner, fromLsn);
  }

  /**
   * A live pin (its owner connected and streaming, counted for durability) is not released by the
   * byte budget: the WAL fills, admission slows writers (soft watermark) and then blocks them (hard
   * watermark, `wal_full` after walFullTimeoutMs) instead; only the age budget (no progress) releases
   * it. Returns false when `owner` holds no pin.
   */
  setPinLive(owner: string, live: boolean): boolean {
    return this.retention.setLive(owner, live);
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
    // Superblock updates run shared: an install commit (exclusive) never races one.
    return this.gate.withShared(() => this.ops.setEpoch(epoch));
  }

  setDurabilityMode(mode: DurabilityMode): Promise<void> {
    return this.gate.withShared(() => this.ops.setDurabilityMode(mode));
  }

  get durabilityMode(): DurabilityMode {
    return this.state.sb.durabilityMode;
  }

  /** Drops WAL records above `lsn` (replica ahead of the new primary); refused when unsafe. */
  async truncateToLsn(lsn: number): Promise<void> {
    this.resync.checkAppend();
    return this.ops.truncateToLsn(lsn);
  }

  /** Starts staging a base image; `resume` keeps the staged image chunks (the staged tail is always discarded). */
  beginInstall(opts: { resume?: boolean } = {}): Promise<void> {
    return this.installer.begin(opts.resume ?? false);
  }

  /**
   * After `beginInstall({resume: true})`: where the kept staged image may be continued from (saved by
   * saveInstallResumePoint before a crash or restart), or undefined.
   */
  installResumePoint(): Promise<InstallResumePoint | undefined> {
    return this.installer.resumePoint();
  }

  /** Syncs the staged image, then records `point` (its first `imageBytes` bytes are the image). */
  saveInstallResumePoint(point: InstallResumePoint): Promise<void> {
    return this.installer.saveResumePoint(point);
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

  /**
   * Atomically replaces the volume by the staged image + tail; resolves once all of it is durable.
   * `baseRecord`: the source's record at baseLsn, which anchors the installed log's CRC chain.
   */
  commitInstall(
    baseLsn: number,
    epoch: number,
    opts: { imageHighLsn?: number; baseRecord?: InstallBaseRecord; history?: readonly Generation[] } = {},
  ): Promise<void> {
    return this.installer.commit(baseLsn, epoch, opts.imageHighLsn ?? baseLsn, opts.baseRecord, opts.history);
  }

  abortInstall(): Promise<void> {
    return this.installer.abort();
  }

  /** Rebuild source: raw extent bytes (block aligned). Pin the WAL at checkpoint+1 first (pinBaseImage). */
  async readExtent(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    this.checkOpen();
    this.resync.checkRead();
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

  // ---- changed-block tracking and history -------------------------------------------------------

  /**
   * Blocks written by records after `sinceLsn` (default: the tracking base), up to the head at the
   * call. Exact block ranges while the WAL still holds every such record, else whole tracking
   * grains from the bitmap. `out_of_range` when `sinceLsn` is below the base: those changes are
   * not known (a peer that forked there needs a full rebuild).
   */
  changedBlocks(sinceLsn?: number): ChangedBlocks {
    this.checkOpen();
    return this.changes.changedBlocks(sinceLsn);
  }

  /**
   * Every peer confirmed durability at `lsn` or above: marks of writes at or below it may be
   * cleared (crash-safe: the old marks stay live until the new ones are durable). Resolves with the
   * base in force afterwards (at most `lsn`; unchanged when nothing could be cleared).
   */
  advanceChangeBase(lsn: number): Promise<number> {
    try {
      // In transfer, marks of blocks no record names (resync writes) must stay.
      this.checkAppendable();
    } catch (err) {
      return Promise.reject(err);
    }
    // Shared with appends, exclusive against an install: a clear never writes a slot of the
    // replaced content under the tag of the installed one.
    return this.gate.withShared(() => this.changes.advanceBase(lsn));
  }

  changeTracking(): ChangeTrackingStatus {
    return this.changes.status();
  }

  /** This copy's generations, oldest first (at most MAX_GENERATIONS; see history.ts). */
  history(): Generation[] {
    return this.state.history.snapshot();
  }

  // ---- changed-block resync (target side, see resync.ts) ----------------------------------------

  resyncState(): ResyncState {
    return this.resync.state();
  }

  /**
   * Starts (or resumes) a resync from `forkLsn`: the WAL goes into the extent, the marker is
   * persisted, appends and reads are refused; returns this copy's own changes since the fork.
   * `resync_untracked` when they are not known here (a full rebuild is needed).
   */
  beginResync(opts: { forkLsn: number }): Promise<{ ranges: ChangedBlocks }> {
    return this.resync.begin(opts?.forkLsn);
  }

  /** Direct, idempotent, block-aligned extent write; only in phase transfer. */
  writeResyncBlocks(offsetBytes: number, data: Buffer): Promise<void> {
    return this.resync.writeBlocks(offsetBytes, data);
  }

  /** Ends the log at baseLsn naming the source's record; reads stay refused until consistentLsn is durable. */
  commitResync(opts: ResyncCommit): Promise<void> {
    return this.resync.commit(opts);
  }

  /** The blocks written from now on, in memory (a resync source's next pass). */
  trackWrites(): WriteTracker {
    return this.resync.trackWrites();
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
    return walPressure(this.state, this.tuning, this.appender.blocked);
  }

  stats(): VolumeStats {
    const { state, appender, groupCommit, flusher, sbWriter } = this;
    return volumeStats({ state, appender, groupCommit, flusher, sbWriter }, this.pressure);
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
    await this.resync.idle();
    await this.changes.idle();
    await this.device.close();
    if (finalError) throw finalError;
  }

  // ---- internals ---------------------------------------------------------------------------------

  fail(err: StorageError): void {
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

  private checkAppendable(): void {
    this.checkUsable();
    this.resync.checkAppend();
  }
}
