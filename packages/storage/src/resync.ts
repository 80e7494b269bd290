import type { Appender } from "./appender";
import type { ChangedBlocks, ChangeTracker } from "./change-tracker";
import type { BlockDevice } from "./device";
import { assert, isStorageError, StorageError, wrapIoError } from "./errors";
import type { Flusher } from "./flusher";
import type { Gate } from "./gate";
import { type Generation, validGenerations } from "./history";
import { RECORD_HEADER_BYTES } from "./record";
import { checkBaseRecord } from "./record-ref";
import { recoverState } from "./recovery";
import { RESYNC_WRITE_BEHIND_BYTES, ResyncWriteBehind } from "./resync-blocks";
import type { Retention } from "./retention";
import type { VolumeState } from "./state";
import type { SuperblockWriter } from "./superblock-writer";
import { BitmapWriteTracker, type WriteTracker } from "./write-tracker";

export type ResyncState =
  | { pending: false }
  | { pending: true; phase: "transfer"; forkLsn: number }
  | { pending: true; phase: "catchup"; forkLsn: number; baseLsn: number; consistentLsn: number };

export interface ResyncCommit {
  /** The source's head when its last pass started: this copy's log ends there after the commit. */
  baseLsn: number;
  /** The volume's epoch from now on (not below the current one). */
  epoch: number;
  /** The source's record at baseLsn: the anchor the next shipped record must chain to. */
  baseRecord: { crc: number; epoch: number };
  /** The source's generations (those up to baseLsn are kept). */
  history: readonly Generation[];
  /** The source's head after its last block was read: reads are refused until this is durable here. */
  consistentLsn: number;
}

/**
 * Changed-block resync, target side (see README "Changed-block resync"). The marker lives in
 * `state.resync` and rides on every superblock write. Order of the steps, each crash-safe:
 * begin = refuse appends, checkpoint the whole WAL into the extent, persist the marker (phase
 * transfer); blocks = positional extent writes; commit = sync the extent and the marks, then one
 * superblock write that ends the log at baseLsn and sets phase catchup.
 */
export class Resync {
  private readonly blocks: ResyncWriteBehind;

  constructor(
    private readonly s: VolumeState,
    private readonly device: BlockDevice,
    private readonly gate: Gate,
    private readonly sbWriter: SuperblockWriter,
    private readonly appender: Appender,
    private readonly flusher: Flusher,
    private readonly retention: Retention,
    private readonly changes: ChangeTracker,
    private readonly env: { check: () => void; fail: (e: StorageError) => void },
  ) {
    // Small volumes (tests) hold at most a quarter of themselves, so batches are exercised.
    const limit = Math.min(RESYNC_WRITE_BEHIND_BYTES, Math.floor(s.sb.volumeSizeBytes / 4));
    this.blocks = new ResyncWriteBehind(
      device,
      s.extentOffsetBytes,
      () => changes.persistMarks(),
      limit,
      () => gate.tryShared(),
    );
  }

  state(): ResyncState {
    this.settle();
    const m = this.s.resync;
    if (!m) return { pending: false };
    if (m.phase === "transfer") return { pending: true, phase: "transfer", forkLsn: m.forkLsn };
    const { forkLsn, baseLsn, consistentLsn } = m;
    return { pending: true, phase: "catchup", forkLsn, baseLsn, consistentLsn };
  }

  /** Local writes, trims and shipped records: refused while blocks go straight into the extent. */
  checkAppend(): void {
    if (this.s.resync?.phase === "transfer") {
      throw new StorageError("resync_in_progress", "a resync transfer is in progress: appends are refused");
    }
  }

  /** Reads of the image: refused until the image is consistent again. */
  checkRead(): void {
    if (this.s.resync === undefined) return;
    this.settle();
    const m = this.s.resync;
    if (!m) return;
    const why =
      m.phase === "transfer"
        ? "a resync transfer is in progress"
        : `resync catch-up: durable LSN ${this.s.durableLsn} is below ${m.consistentLsn}`;
    throw new StorageError("resync_in_progress", `${why}: reads are refused`);
  }

  /** Clears a catch-up marker once the log is durable up to its consistent LSN (persisted lazily). */
  settle(): void {
    const m = this.s.resync;
    if (m?.phase === "catchup" && this.s.durableLsn >= m.consistentLsn) this.s.resync = undefined;
  }

  async begin(forkLsn: number): Promise<{ ranges: ChangedBlocks }> {
    this.env.check();
    const s = this.s;
    if (!Number.isSafeInteger(forkLsn) || forkLsn < 0)
      throw new StorageError("invalid_argument", `bad fork LSN ${forkLsn}`);
    // A resumed or restarted session: whatever either fork needs resent, the lower one covers.
    const fork = Math.min(forkLsn, s.resync?.forkLsn ?? forkLsn);
    if (fork > s.appendedLsn)
      throw new StorageError("invalid_argument", `fork LSN ${fork} is above the head ${s.appendedLsn}`);
    this.checkTracked(fork);
    // Blocks an earlier begin's session left queued are valid content of this transfer.
    await this.gate.withShared(() => this.flushBlocks());
    const release = await this.gate.exclusive();
    try {
      this.env.check();
      s.resync = { phase: "transfer", forkLsn: fork, baseLsn: 0, consistentLsn: 0 };
      this.appender.refuseQueued(
        new StorageError("resync_in_progress", "a resync transfer started: appends are refused"),
      );
    } finally {
      release();
    }
    // This copy is no source for anyone while its image is mixed: its pins go, so the tail follows
    // the checkpoint and the WAL is empty when the commit starts a new log in it.
    this.retention.clear();
    // No record may reach the extent after a resync block: everything goes there now, durably,
    // and recovery replays nothing above the persisted checkpoint.
    await this.flusher.checkpointAll();
    if (s.sb.checkpointLsn !== s.appendedLsn || s.tailOffset !== s.reservedOffset) {
      throw new StorageError(
        "io_error",
        `checkpoint stopped at ${s.sb.checkpointLsn} below ${s.appendedLsn}`,
      );
    }
    await this.sbWriter.persist({});
    try {
      return { ranges: this.changes.changedBlocks(fork) };
    } catch (err) {
      if (isStorageError(err, "out_of_range")) throw new StorageError("resync_untracked", err.message);
      throw err;
    }
  }

  /** Idempotent positional write of whole blocks into the extent, only in phase transfer. */
  async writeBlocks(offsetBytes: number, data: Buffer): Promise<void> {
    this.env.check();
    const s = this.s;
    if (s.resync?.phase !== "transfer")
      throw new StorageError("resync_state", "no resync transfer in progress");
    const bs = s.geo.blockSize;
    if (!Buffer.isBuffer(data) || data.length === 0 || data.length % bs !== 0) {
      throw new StorageError("invalid_argument", `block data length must be a positive multiple of ${bs}`);
    }
    if (!Number.isSafeInteger(offsetBytes) || offsetBytes < 0 || offsetBytes % bs !== 0) {
      throw new StorageError("invalid_argument", `block offset ${offsetBytes} must be block aligned`);
    }
    if (offsetBytes + data.length > s.sb.volumeSizeBytes) {
      throw new StorageError("out_of_range", "blocks end past the volume");
    }
    const release = await this.gate.shared();
    try {
      this.env.check();
      if (s.resync?.phase !== "transfer") throw new StorageError("resync_state", "the resync transfer ended");
      // Marked now, written once the mark is durable (see ResyncWriteBehind): a session resumed
      // after a crash, perhaps from another source, must resend every block an earlier one may
      // have changed, and learns them only from this copy's marks.
      this.changes.mark(offsetBytes / bs, data.length / bs);
      await this.blocks
        .add(offsetBytes, data)
        .catch((err: unknown) => this.failed(err, "resync block write"));
    } finally {
      release();
    }
  }

  async commit(c: ResyncCommit): Promise<void> {
    this.env.check();
    const m = this.s.resync;
    if (m?.phase === "catchup" && m.baseLsn === c.baseLsn && m.consistentLsn === c.consistentLsn) return;
    if (m?.phase !== "transfer") throw new StorageError("resync_state", "no resync transfer in progress");
    this.checkCommit(c, m.forkLsn);
    const release = await this.gate.exclusive();
    try {
      this.env.check();
      const s = this.s;
      if (s.resync?.phase !== "transfer") throw new StorageError("resync_state", "the transfer ended");
      if (s.tailOffset !== s.reservedOffset)
        throw new StorageError("resync_state", "the WAL is not empty: begin the resync again");
      await this.flushBlocks();
      try {
        // The blocks and their marks are durable before the log stops naming the old content.
        await this.changes.persistMarks();
        await this.device.sync();
      } catch (err) {
        throw wrapIoError(err, "resync sync");
      }
      await this.endLogAt(c, m.forkLsn);
    } finally {
      release();
      this.appender.schedule();
    }
  }

  /** Close: waits for a batch of resync blocks being written (queued ones are resent on resume). */
  async idle(): Promise<void> {
    await this.blocks.idle();
  }

  /** An install replaced the content: blocks still queued belong to the replaced one. */
  discardBlocks(): void {
    this.blocks.discard();
  }

  private flushBlocks(): Promise<void> {
    return this.blocks.flush().catch((err: unknown) => this.failed(err, "resync block write"));
  }

  /** An extent write of resync blocks failed: what reached the device is unknown, reopen. */
  private failed(err: unknown, what: string): never {
    const e = err instanceof StorageError ? err : wrapIoError(err, what);
    this.env.fail(e);
    throw e;
  }

  trackWrites(): WriteTracker {
    this.env.check();
    const t = new BitmapWriteTracker(this.s, (x) => this.changes.removeTap(x));
    this.changes.addTap(t);
    return t;
  }

  private checkTracked(fork: number): void {
    const st = this.changes.status();
    if (!st.persistent || st.baseLsn > fork) {
      throw new StorageError(
        "resync_untracked",
        st.persistent
          ? `changes are tracked only after LSN ${st.baseLsn}, not since the fork ${fork}`
          : "this copy has no persistent change tracking",
      );
    }
  }

  private checkCommit(c: ResyncCommit, forkLsn: number): void {
    for (const [name, v] of [
      ["baseLsn", c.baseLsn],
      ["epoch", c.epoch],
      ["consistentLsn", c.consistentLsn],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new StorageError("invalid_argument", `bad ${name} ${v}`);
    }
    if (c.baseLsn < forkLsn)
      throw new StorageError("invalid_argument", `base LSN ${c.baseLsn} is below the fork ${forkLsn}`);
    if (c.consistentLsn < c.baseLsn)
      throw new StorageError("invalid_argument", "consistentLsn must be >= baseLsn");
    if (c.epoch < this.s.epoch)
      throw new StorageError("epoch_regression", `resync epoch ${c.epoch} is below ${this.s.epoch}`);
    if (!c.baseRecord || c.baseRecord.epoch === undefined)
      throw new StorageError("invalid_argument", "the base record must name its CRC and epoch");
    checkBaseRecord(c.baseRecord, c.epoch);
    if (!Array.isArray(c.history) || !validGenerations(c.history))
      throw new StorageError("invalid_argument", "bad resync history");
  }

  /**
   * The commit point: one superblock write makes the log end at baseLsn (naming the source's
   * record) in phase catchup. Then the in-memory state is derived again from disk, as an install
   * does, so appends continue at baseLsn + 1 chained to baseRecord.
   */
  private async endLogAt(c: ResyncCommit, forkLsn: number): Promise<void> {
    const s = this.s;
    const start = s.reservedOffset;
    // Whatever old record lies where the new log starts must not read as its continuation.
    await this.voidWalAt(start);
    s.resync =
      c.consistentLsn > c.baseLsn
        ? { phase: "catchup", forkLsn, baseLsn: c.baseLsn, consistentLsn: c.consistentLsn }
        : undefined;
    await this.sbWriter.persist({
      epoch: c.epoch,
      checkpointLsn: c.baseLsn,
      extentHighLsn: c.baseLsn,
      walTailOffset: start,
      walTailLsn: c.baseLsn,
      walTailCrc: c.baseRecord.crc,
      walTailEpoch: c.baseRecord.epoch,
      walHeadOffset: start,
      walHeadLsn: c.baseLsn,
      generations: c.history.filter((g) => g.firstLsn <= c.baseLsn && g.epoch <= c.epoch),
    });
    try {
      await recoverState(this.device, s);
      assert(s.appendedLsn === c.baseLsn, `resync commit recovered head ${s.appendedLsn}, not ${c.baseLsn}`);
      s.durableLsn = c.baseLsn;
      this.retention.clear();
      await this.changes.load();
    } catch (err) {
      const e = err instanceof StorageError ? err : wrapIoError(err, "resync commit");
      this.env.fail(e);
      throw e;
    }
  }

  /**
   * Zeroes (durably) the first record header a scan from logical offset `at` would read. The WAL
   * holds no live record then (tail = reserved offset), so only stale bytes are overwritten.
   */
  private async voidWalAt(at: number): Promise<void> {
    const W = this.s.geo.walSizeBytes;
    let phys = at % W;
    if (W - phys < RECORD_HEADER_BYTES) phys = 0;
    const len = Math.min(W - phys, Math.max(RECORD_HEADER_BYTES, this.s.geo.blockSize));
    try {
      await this.device.writev([Buffer.alloc(len)], this.s.geo.walOffsetBytes + phys);
      await this.device.sync();
    } catch (err) {
      const e = wrapIoError(err, "resync WAL reset");
      this.env.fail(e);
      throw e;
    }
  }
}
