import * as fs from "node:fs";
import { type BlockDevice, FileDevice } from "./device";
import { assert, StorageError, wrapIoError } from "./errors";
import { readSuperblock } from "./format";
import type { Generation } from "./history";
import { fileStaging, type StagingStore } from "./install";
import { replayStagedTail } from "./install-replay";
import type { TailFile } from "./install-tail";
import { recoverState } from "./recovery";
import type { VolumeState } from "./state";
import {
  encodeSuperblock,
  SUPERBLOCK_REGION_BYTES,
  type Superblock,
  superblockCopyOffset,
} from "./superblock";

/** Fault injection for tests: a throw stands for a crash at that point of the swap commit. */
export interface SwapStagingHooks {
  /** Runs once the new volume is complete and synced in the staging file, right before the rename. */
  beforeRename?(): Promise<void>;
  /** Runs right after the rename, before the directory sync and the in-process descriptor swap. */
  afterRename?(): Promise<void>;
}

/**
 * Swap staging (volumes on regular files): `<volume path>.install` has the volume file's size and
 * layout, chunks land at `extentOffsetBytes + offset`, and the commit builds the complete new volume
 * in it (staged tail replayed into its WAL, superblock, fsync) before renaming it over the volume
 * file. Every image byte is written once, and no redo is ever pending: before the rename the old
 * file is untouched, after it the path names a complete, synced volume. Opening a volume never looks
 * at the staging file; only `beginInstall` decides whether to keep it.
 */
export interface SwapStaging extends StagingStore {
  readonly layout: "swap";
  /** The volume file this staging file replaces (the volume's FileDevice must have this path). */
  readonly volumePath: string;
  /**
   * The commit point: rename the staging file over the volume file, then sync the directory.
   * `renaming` is called right before the rename is issued (from then on it may have happened).
   */
  replaceVolume(renaming: () => void): Promise<void>;
}

export function isSwapStaging(s: StagingStore | undefined): s is SwapStaging {
  return s?.layout === "swap";
}

/**
 * Written into the staging superblock region (and synced with the image) before the tail replay may
 * write the staging extent: from then on the file is no longer a pure image, and a resumed install
 * must not keep it. Never a valid superblock (different magic).
 */
const BUILD_MARKER = Buffer.from("blockship swap install: build started\n", "ascii");

export function swapStaging(volumePath: string, hooks: SwapStagingHooks = {}): SwapStaging {
  const path = `${volumePath}.install`;
  // The tail sidecar, directory sync and removal are those of the copy layout at the same path;
  // openExisting serves only a pending redo that a copy-layout install left behind (its image is
  // exactly volumeSizeBytes long, which a swap staging file never is).
  // An existing staging file is kept only while it holds nothing but image chunks.
  const files = fileStaging(path, regionIsZero);
  return {
    ...files,
    layout: "swap",
    volumePath,
    async replaceVolume(renaming) {
      await hooks.beforeRename?.();
      renaming();
      await fs.promises.rename(path, volumePath);
      await hooks.afterRename?.();
      await files.syncEntries();
    },
  };
}

/**
 * beginInstall's check that `staging` may replace `device`'s file: same path, and that path is a
 * regular file (not a symlink: the rename would replace the link, not its target) naming the very
 * file the device has open.
 */
export async function checkSwapTarget(device: BlockDevice, staging: SwapStaging): Promise<void> {
  const refuse = (why: string): StorageError =>
    new StorageError("install_state", `swap staging for ${staging.volumePath}: ${why}`);
  if (!(device instanceof FileDevice) || device.path !== staging.volumePath)
    throw refuse("the volume is not that file");
  const st = await fs.promises.lstat(staging.volumePath);
  if (!st.isFile()) throw refuse("not a regular file (pass an explicit copy-layout staging)");
  if (`${st.dev}:${st.ino}` !== (await device.identity())) throw refuse("the path names another file");
}

/** True while the staging file holds nothing but image chunks (superblock region never written). */
async function regionIsZero(dev: BlockDevice): Promise<boolean> {
  const region = Buffer.alloc(SUPERBLOCK_REGION_BYTES);
  await dev.read(region, 0);
  return region.every((b) => b === 0);
}

/** First step of a swap commit, before the big image sync (which then covers it too). */
export async function markBuildStarted(image: BlockDevice): Promise<void> {
  const region = Buffer.alloc(SUPERBLOCK_REGION_BYTES);
  BUILD_MARKER.copy(region);
  await image.writev([region], 0);
}

export interface SwapBuild {
  baseLsn: number;
  epoch: number;
  imageHighLsn: number;
  /** Last staged LSN (baseLsn when the tail is empty). */
  lastLsn: number;
  /** CRC and epoch of the source's record baseLsn (undefined: not named by the source). */
  baseCrc: number | undefined;
  baseEpoch: number | undefined;
  tail: TailFile;
  tailBytes: number;
  walBudgetBytes: number;
  generations: Generation[];
  changeTag: number;
}

/**
 * Turns the staging file into the complete installed volume: replays the staged tail into its WAL
 * (older records into its extent), writes both superblock copies describing the state the copy
 * layout's redo would leave, and syncs. `s` is the live volume: its geometry, uuid and settings
 * carry over. Returns the superblock generation now on top.
 */
export async function buildSwapVolume(image: BlockDevice, s: VolumeState, b: SwapBuild): Promise<Superblock> {
  // Continue the live WAL's logical offsets (only their value modulo the WAL size is on disk).
  const start = s.reservedOffset;
  const r = await replayStagedTail(image, s, {
    tail: b.tail,
    tailBytes: b.tailBytes,
    baseLsn: b.baseLsn,
    lastLsn: b.lastLsn,
    maxEpoch: b.epoch,
    baseCrc: b.baseCrc,
    baseEpoch: b.baseEpoch,
    walStartOffset: start,
    walBudgetBytes: b.walBudgetBytes,
  });
  const sb: Superblock = {
    ...s.sb,
    seq: s.sb.seq + 2,
    epoch: b.epoch,
    checkpointLsn: r.checkpointLsn,
    extentHighLsn: Math.max(b.imageHighLsn, r.checkpointLsn),
    walTailOffset: start,
    walTailLsn: r.checkpointLsn,
    walTailCrc: r.checkpointCrc,
    walTailEpoch: r.checkpointEpoch,
    walHeadOffset: r.walEndOffset,
    walHeadLsn: b.lastLsn,
    installPending: false,
    installBaseLsn: b.baseLsn,
    installEpoch: b.epoch,
    installImageHighLsn: b.imageHighLsn,
    installTailLastLsn: 0,
    installTailBytes: 0,
    generations: b.generations,
    changeTag: b.changeTag,
    resync: undefined,
  };
  // Both copies valid (generations seq-1 and seq), so the next superblock write may go to either.
  const region = Buffer.alloc(SUPERBLOCK_REGION_BYTES);
  encodeSuperblock({ ...sb, seq: sb.seq - 1 }).copy(region, superblockCopyOffset(sb.seq - 1));
  encodeSuperblock(sb).copy(region, superblockCopyOffset(sb.seq));
  try {
    await image.writev([region], 0);
    await image.sync();
  } catch (err) {
    throw wrapIoError(err, "install build");
  }
  return sb;
}

/**
 * After the rename: the live device switches to the file now at its path (which must be the staging
 * file we built) and the volume state is re-derived from it, as open() would. Runs under the
 * exclusive gate with no superblock write in flight.
 */
export async function adoptSwappedVolume(
  device: FileDevice,
  image: FileDevice,
  s: VolumeState,
  built: Superblock,
): Promise<void> {
  const want = await image.identity();
  const got = await device.reopenPath();
  if (got !== want) {
    throw new StorageError("corrupt", `${device.path} is not the staged install after the rename (${got})`);
  }
  const sb = await readSuperblock(device);
  assert(sb.uuid === built.uuid && sb.seq === built.seq, "the swapped-in file carries the built superblock");
  s.sb = sb;
  await recoverState(device, s);
  if (s.appendedLsn !== built.walHeadLsn) {
    throw new StorageError(
      "corrupt",
      `swapped-in volume recovered head ${s.appendedLsn}, expected ${built.walHeadLsn}`,
    );
  }
  s.durableLsn = s.appendedLsn;
}
