import type { Appender } from "./appender";
import { type BlockDevice, FileDevice } from "./device";
import { StorageError, wrapIoError } from "./errors";
import { newChangeTag } from "./format";
import type { Gate } from "./gate";
import { type Generation, validGenerations } from "./history";
import { copyStagedImage, type StagingStore } from "./install";
import { replayStagedTail } from "./install-replay";
import { type InstallResumePoint, ResumeRecords } from "./install-resume";
import {
  adoptSwappedVolume,
  buildSwapVolume,
  checkSwapTarget,
  isSwapStaging,
  markBuildStarted,
} from "./install-swap";
import { type StagedTailSummary, type TailFile, TailStager } from "./install-tail";
import { StagingWriteback } from "./install-writeback";
import { checkBaseRecord, type InstallBaseRecord } from "./record-ref";
import { recoverState } from "./recovery";
import type { Retention } from "./retention";
import type { VolumeState } from "./state";
import type { SuperblockWriter } from "./superblock-writer";

/** Background writeback of the staging image: a sync per 64 MiB received, writers wait beyond 256 MiB. */
const WRITEBACK_EVERY_BYTES = 64 * 1024 * 1024;
const WRITEBACK_MAX_LAG_BYTES = 256 * 1024 * 1024;

interface CommitPlan {
  baseLsn: number;
  epoch: number;
  imageHighLsn: number;
  /** Last staged LSN (baseLsn when the tail is empty). */
  lastLsn: number;
  /** CRC and epoch of the source's record baseLsn: the anchor of the installed log. */
  baseCrc: number | undefined;
  baseEpoch: number | undefined;
  /** The installed copy's persisted history (the source's, up to lastLsn) and its new tracking tag. */
  generations: Generation[];
  changeTag: number;
}

/**
 * Base-image install (rebuild target): stage the image and the WAL tail that follows its base LSN,
 * then commit both at once. Two staging layouts:
 * - copy (block devices, simulated staging): the commit point is one superblock generation carrying
 *   `installPending` plus the new WAL state; before it the live volume is untouched, after it the
 *   redo (copy image, replay tail, sync, clear the flag) runs until it completes, from open() too.
 * - swap (regular files, see install-swap.ts): the new volume is built inside the staging file and
 *   renamed over the volume file (the commit point); the live volume then switches descriptors.
 */
export class Installer {
  private image: BlockDevice | undefined;
  private tail: TailStager | undefined;
  private writeback: StagingWriteback | undefined;
  private committing = false;
  /** Resume points of the staging store (see saveResumePoint). */
  private resumeRecords: ResumeRecords | undefined;

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
      staging: StagingStore | undefined;
      /** Most WAL bytes the replayed tail may occupy after the install (older records go to the extent). */
      walBudgetBytes: number;
      /** The new content is live (still under the exclusive gate): restart change tracking. */
      onInstalled: () => Promise<void>;
    },
  ) {}

  /** Opens the staging image (kept when resuming) and an empty tail: a resumed transfer re-sends the tail. */
  async begin(resume: boolean): Promise<void> {
    this.env.check();
    const staging = this.env.staging;
    if (!staging) throw new StorageError("install_state", "no staging store configured for installs");
    if (this.image) throw new StorageError("install_state", "an install is already in progress");
    const swap = isSwapStaging(staging);
    if (swap) await checkSwapTarget(this.device, staging);
    // A swap staging file is a whole volume file; a copy-layout image is just the extent.
    const image = await staging.open(swap ? this.device.sizeBytes : this.s.sb.volumeSizeBytes, !resume);
    let tail: TailFile;
    try {
      tail = await staging.openTail();
    } catch (err) {
      await image.close().catch(() => undefined);
      throw wrapIoError(err, "install tail open");
    }
    this.image = image;
    this.tail = new TailStager(tail, this.s.geo);
    this.writeback = new StagingWriteback(image, WRITEBACK_EVERY_BYTES, WRITEBACK_MAX_LAG_BYTES);
    this.resumeRecords ??= new ResumeRecords(staging, this.s.sb.volumeSizeBytes, this.s.geo.blockSize);
  }

  /** The resume point saved for the staged image this install kept (`begin(true)`), if any. */
  async resumePoint(): Promise<InstallResumePoint | undefined> {
    if (!this.image || this.committing) throw new StorageError("install_state", "no install in progress");
    return this.resumeRecords!.read();
  }

  /** Records where a restarted transfer may continue (the image bytes it names are synced first). */
  async saveResumePoint(p: InstallResumePoint): Promise<void> {
    this.env.check();
    const image = this.image;
    if (!image || this.committing) throw new StorageError("install_state", "no install in progress");
    const writeback = this.writeback;
    await this.resumeRecords!.save(
      p,
      async () => {
        await writeback?.idle();
        await image.sync();
      },
      () => this.image === image,
    );
  }

  /** Idempotent positional write into the staging image (a resumed rebuild may re-send chunks). */
  async writeChunk(offsetBytes: number, data: Buffer): Promise<void> {
    this.env.check();
    const dev = this.image;
    if (!dev || this.committing) throw new StorageError("install_state", "no install in progress");
    const bs = this.s.geo.blockSize;
    if (!Buffer.isBuffer(data) || data.length === 0 || data.length % bs !== 0) {
      throw new StorageError("invalid_argument", `chunk length must be a positive multiple of ${bs}`);
    }
    if (!Number.isSafeInteger(offsetBytes) || offsetBytes < 0 || offsetBytes % bs !== 0) {
      throw new StorageError("invalid_argument", `chunk offset ${offsetBytes} must be block aligned`);
    }
    if (offsetBytes + data.length > this.s.sb.volumeSizeBytes) {
      throw new StorageError("out_of_range", "chunk ends past the volume");
    }
    const base = isSwapStaging(this.env.staging) ? this.s.extentOffsetBytes : 0;
    try {
      await dev.writev([data], base + offsetBytes);
      await this.writeback?.wrote(data.length);
    } catch (err) {
      throw wrapIoError(err, "install chunk write");
    }
  }

  /** Validates and appends whole encoded records (baseLsn+1 onwards) to the staged tail. */
  stageTail(bytes: Buffer, reset: boolean): Promise<StagedTailSummary> {
    this.env.check();
    if (!this.tail || this.committing) throw new StorageError("install_state", "no install in progress");
    return this.tail.stage(bytes, reset);
  }

  /**
   * Commits image + staged tail atomically (the commit point depends on the staging layout, see the
   * class comment). Resolves once both are durable in the volume.
   */
  async commit(
    baseLsn: number,
    epoch: number,
    imageHighLsn: number,
    baseRecord?: InstallBaseRecord,
    history: readonly Generation[] = [],
  ): Promise<void> {
    this.env.check();
    if (!validGenerations(history)) throw new StorageError("invalid_argument", "bad install history");
    const image = this.image;
    const tail = this.tail;
    if (!image || !tail || this.committing) throw new StorageError("install_state", "no install in progress");
    for (const [name, v] of [
      ["baseLsn", baseLsn],
      ["epoch", epoch],
      ["imageHighLsn", imageHighLsn],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new StorageError("invalid_argument", `bad ${name} ${v}`);
    }
    if (epoch < this.s.epoch)
      throw new StorageError("epoch_regression", `install epoch ${epoch} is below ${this.s.epoch}`);
    if (imageHighLsn < baseLsn) throw new StorageError("invalid_argument", "imageHighLsn must be >= baseLsn");
    checkBaseRecord(baseRecord, epoch);
    this.committing = true;
    /** Set once the commit point was issued: from then on the staging must survive. */
    let pointIssued = false;
    const onPoint = (): void => {
      pointIssued = true;
    };
    try {
      await tail.idle();
      const plan: CommitPlan = {
        baseLsn,
        epoch,
        imageHighLsn,
        lastLsn: tail.checkCommit(baseLsn, epoch, imageHighLsn, baseRecord?.crc),
        // LSN 0 is the empty history: its "record" is CRC 0, epoch 0 whoever names it.
        baseCrc: baseRecord?.crc ?? (baseLsn === 0 ? 0 : undefined),
        baseEpoch: baseRecord?.epoch ?? (baseLsn === 0 ? 0 : undefined),
        generations: [],
        // The marks of the replaced content mean nothing for the new one: a new tag voids them.
        changeTag: newChangeTag(),
      };
      plan.generations = history.filter((g) => g.firstLsn <= plan.lastLsn && g.epoch <= epoch);
      await this.writeback?.idle().catch((err: unknown) => {
        throw wrapIoError(err, "staging sync");
      });
      if (isSwapStaging(this.env.staging)) await this.commitSwap(image, tail, plan, onPoint);
      else await this.commitCopy(image, tail, plan, onPoint);
    } catch (err) {
      // A commit that fails before its commit point ends the install (staging discarded, old
      // state untouched): the caller starts over with beginInstall. Once the point was issued it may
      // have happened even if it failed, so the staging stays (copy layout: for open()'s redo; swap
      // layout: beginInstall decides) and the volume has failed.
      if (!pointIssued) await this.closeStaging(true);
      throw err;
    } finally {
      this.committing = false;
    }
  }

  /** Copy layout: commit point = the `installPending` superblock, then the redo. */
  private async commitCopy(
    image: BlockDevice,
    tail: TailStager,
    c: CommitPlan,
    onPoint: () => void,
  ): Promise<void> {
    try {
      await image.sync();
      await tail.file.sync();
      await this.env.staging!.syncEntries();
    } catch (err) {
      throw wrapIoError(err, "staging sync");
    }
    const release = await this.gate.exclusive();
    try {
      this.env.check();
      const s = this.s;
      const start = s.reservedOffset;
      onPoint();
      await this.sbWriter.persist({
        installPending: true,
        installBaseLsn: c.baseLsn,
        installEpoch: c.epoch,
        installImageHighLsn: c.imageHighLsn,
        installTailLastLsn: c.lastLsn,
        installTailBytes: tail.bytes,
        epoch: c.epoch,
        checkpointLsn: c.baseLsn,
        extentHighLsn: c.imageHighLsn,
        walTailOffset: start,
        walTailLsn: c.baseLsn,
        // The chain continues from the source's record baseLsn: its CRC anchors the installed log
        // (the redo checks the staged tail against it; an empty tail leaves it the head record's).
        walTailCrc: c.baseCrc,
        walTailEpoch: c.baseEpoch,
        walHeadOffset: start,
        walHeadLsn: c.baseLsn,
        generations: c.generations,
        changeTag: c.changeTag,
        // The installed image is whole: a pending resync of the replaced content is over.
        resync: undefined,
      });
      s.epoch = c.epoch;
      s.resync = undefined;
      try {
        await this.redo(image, tail.file);
        await this.env.onInstalled();
      } catch (err) {
        // Past the commit point: the staging must survive so open() can finish the redo.
        const e = err instanceof StorageError ? err : wrapIoError(err, "install redo");
        this.env.fail(e);
        throw e;
      }
      this.retention.clear();
      await this.closeStaging(true);
    } finally {
      release();
      this.appender.schedule();
    }
  }

  /**
   * Swap layout: build the new volume in the staging file, then commit point = rename over the
   * volume file (+ directory sync), then switch the live device to it. Only the switch holds the gate
   * for long enough to matter; the image was synced (mostly in the background) before.
   */
  private async commitSwap(
    image: BlockDevice,
    tail: TailStager,
    c: CommitPlan,
    onPoint: () => void,
  ): Promise<void> {
    const staging = this.env.staging;
    const device = this.device;
    if (!isSwapStaging(staging) || !(device instanceof FileDevice) || !(image instanceof FileDevice)) {
      throw new StorageError("install_state", "swap staging needs a file volume and a file staging image");
    }
    try {
      await markBuildStarted(image);
      await image.sync();
    } catch (err) {
      throw wrapIoError(err, "staging sync");
    }
    const release = await this.gate.exclusive();
    try {
      this.env.check();
      const s = this.s;
      const built = await buildSwapVolume(image, s, {
        ...c,
        tail: tail.file,
        tailBytes: tail.bytes,
        walBudgetBytes: this.env.walBudgetBytes,
      });
      let renaming = false;
      try {
        await staging.replaceVolume(() => {
          renaming = true;
          onPoint();
        });
        await adoptSwappedVolume(device, image, s, built);
        await this.env.onInstalled();
      } catch (err) {
        const e = err instanceof StorageError ? err : wrapIoError(err, "install swap");
        // Once the rename was issued, the live descriptor may name a replaced file: refuse
        // everything; a reopen sees whichever complete volume the path names.
        if (renaming) this.env.fail(e);
        throw e;
      }
      this.retention.clear();
      await this.closeStaging(true);
    } finally {
      release();
      this.appender.schedule();
    }
  }

  /** open() path: the commit point was passed before a crash; redo image copy and tail replay. */
  async finishPending(): Promise<void> {
    const sb = this.s.sb;
    const staging = this.env.staging;
    const image = await staging?.openExisting();
    if (!staging || !image) {
      throw new StorageError(
        "corrupt",
        "a committed base-image install is pending but its staging image is missing",
      );
    }
    if (isSwapStaging(staging) && image.sizeBytes !== sb.volumeSizeBytes) {
      // Only a copy-layout install leaves a pending redo; a swap staging file is never its image.
      await image.close();
      throw new StorageError(
        "corrupt",
        `a committed base-image install is pending but ${staging.volumePath}.install is not its image`,
      );
    }
    this.image = image;
    let tail: TailFile | undefined;
    if (sb.installTailBytes > 0) {
      tail = await staging.openExistingTail();
      const size = tail ? await tail.sizeBytes() : 0;
      if (!tail || size < sb.installTailBytes) {
        await tail?.close();
        await this.closeStaging(false);
        throw new StorageError(
          "corrupt",
          `a committed install is pending but its staged tail is missing or short (${size} of ${sb.installTailBytes} bytes)`,
        );
      }
    }
    try {
      await this.redo(image, tail);
    } catch (err) {
      await this.closeStaging(false);
      throw err;
    } finally {
      await tail?.close().catch(() => undefined);
    }
    await this.closeStaging(true);
  }

  /** Idempotent: everything it writes follows from the pending superblock and the staging files. */
  private async redo(image: BlockDevice, tail: TailFile | undefined): Promise<void> {
    const s = this.s;
    const sb = s.sb;
    await copyStagedImage(this.device, image, s);
    const r = await replayStagedTail(this.device, s, {
      tail,
      tailBytes: sb.installTailBytes,
      baseLsn: sb.installBaseLsn,
      lastLsn: sb.installTailLastLsn,
      maxEpoch: sb.installEpoch,
      baseCrc: sb.walTailCrc,
      baseEpoch: sb.walTailEpoch,
      walStartOffset: sb.walTailOffset,
      walBudgetBytes: this.env.walBudgetBytes,
    });
    try {
      await this.device.sync();
    } catch (err) {
      throw wrapIoError(err, "install sync");
    }
    await this.sbWriter.persist({
      installPending: false,
      installTailLastLsn: 0,
      installTailBytes: 0,
      checkpointLsn: r.checkpointLsn,
      extentHighLsn: Math.max(sb.installImageHighLsn, r.checkpointLsn),
      walTailLsn: r.checkpointLsn,
      walTailCrc: r.checkpointCrc,
      walTailEpoch: r.checkpointEpoch,
      walTailOffset: sb.walTailOffset,
      walHeadOffset: r.walEndOffset,
      walHeadLsn: sb.installTailLastLsn,
      // The in-memory history is still the replaced one's until the recovery below.
      generations: sb.generations,
    });
    await recoverState(this.device, s);
    if (s.appendedLsn !== sb.installTailLastLsn) {
      throw new StorageError(
        "corrupt",
        `install redo recovered head ${s.appendedLsn}, expected ${sb.installTailLastLsn}`,
      );
    }
    s.durableLsn = s.appendedLsn;
  }

  async abort(): Promise<void> {
    if (!this.image || this.committing) return;
    await this.closeStaging(true);
  }

  async closeStaging(remove: boolean): Promise<void> {
    const image = this.image;
    this.image = undefined; // a save in flight sees the install gone before it writes its record
    await this.resumeRecords?.settle();
    const tail = this.tail;
    const writeback = this.writeback;
    this.tail = undefined;
    this.writeback = undefined;
    await writeback?.idle().catch(() => undefined);
    if (image) await image.close().catch(() => undefined);
    if (tail) await tail.file.close().catch(() => undefined);
    if (remove && this.env.staging) await this.env.staging.remove();
  }
}
