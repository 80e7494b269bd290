import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type BlockDevice,
  createVolumeFile,
  FileDevice,
  fileStaging,
  openVolumeFile,
  type SwapStagingHooks,
  swapStaging,
  Volume,
} from "../src/index";
import { StagingWriteback } from "../src/install-writeback";
import { BS, block, expectReason, tmpDir } from "./helpers";
import {
  type BuiltTail,
  buildTail,
  imageOf,
  nextRecord,
  type TailOp,
  VOL_BLOCKS,
  VOL_BYTES,
} from "./install-support";

const WAL_BYTES = 16 * 1024;
const EXTENT_OFFSET = 4096 + WAL_BYTES;

const w = (lba: number, tag: number, blocks = 1): TailOp => ({ trim: false, lba, blocks, tag, epochStep: 0 });

/** 60 records of up to 4 blocks: more than the WAL budget, so the older ones go to the extent. */
function longTail(baseLsn: number, epoch: number, image: Buffer): BuiltTail {
  const ops = Array.from({ length: 60 }, (_, i) => w((i * 7) % VOL_BLOCKS, 100 + i, 1 + (i % 4)));
  return buildTail(baseLsn, epoch, ops, image);
}

let dir: string;
let cleanup: () => void;
let file: string;

beforeEach(() => {
  ({ dir, cleanup } = tmpDir("blockship-swap-"));
  file = path.join(dir, "v.img");
});
afterEach(() => cleanup());

/** A file volume (epoch 1) with some history of its own: blocks 0..9 tagged 900, flushed. */
async function oldVolume(
  hooks?: SwapStagingHooks,
): Promise<{ vol: Volume; oldImage: Buffer; oldHead: number }> {
  const created = await createVolumeFile(file, {
    volumeSizeBytes: VOL_BYTES,
    walSizeBytes: WAL_BYTES,
    blockSize: BS,
    epoch: 1,
  });
  for (let i = 0; i < 10; i++) await created.write(i, block(i, 900));
  await created.flush();
  await created.close();
  const vol = await openVolumeFile(file, hooks ? { staging: swapStaging(file, hooks) } : {});
  return { vol, oldImage: await vol.read(0, VOL_BYTES), oldHead: vol.headLsn };
}

/** Stages image (in 16-block chunks) and tail; does not commit. */
async function stage(vol: Volume, image: Buffer, tail: BuiltTail): Promise<void> {
  await vol.beginInstall();
  for (let off = 0; off < VOL_BYTES; off += 16 * BS)
    await vol.writeInstallChunk(off, image.subarray(off, off + 16 * BS));
  await vol.stageInstallTail(Buffer.concat(tail.records));
}

function stagingFiles(): boolean[] {
  return [fs.existsSync(`${file}.install`), fs.existsSync(`${file}.install-tail`)];
}

describe("swap staging (file volumes): the staged file is renamed over the volume", () => {
  it("installs image + tail end to end; appends continue; reopen shows the same state", async () => {
    const { vol } = await oldVolume();
    const inode = fs.statSync(file).ino;
    const image = imageOf(7);
    const tail = longTail(40, 2, image);
    await stage(vol, image, tail);
    // The staging file is laid out like the volume file: the image sits at the extent offset.
    expect(fs.statSync(`${file}.install`).size).toBe(fs.statSync(file).size);
    const head = Buffer.alloc(BS);
    const fd = fs.openSync(`${file}.install`, "r");
    fs.readSync(fd, head, 0, BS, EXTENT_OFFSET + 3 * BS);
    fs.closeSync(fd);
    expect(head.equals(image.subarray(3 * BS, 4 * BS))).toBe(true);

    await vol.commitInstall(40, 3, { imageHighLsn: 45 });
    expect(stagingFiles()).toEqual([false, false]);
    expect(fs.statSync(file).ino).not.toBe(inode); // the staging file is the volume now
    expect([vol.headLsn, vol.durableLsn, vol.epoch]).toEqual([tail.lastLsn, tail.lastLsn, 3]);
    expect(vol.checkpointLsn).toBeGreaterThan(40); // the older records were applied to the extent
    expect(vol.extentHighLsn).toBeGreaterThanOrEqual(45);
    expect((await vol.read(0, VOL_BYTES)).equals(tail.expected)).toBe(true);
    // Tracking restarts on the swapped-in file at its tail (its region was never written before).
    const tracking = vol.changeTracking();
    expect(tracking).toMatchObject({ persistent: true, baseLsn: vol.tailLsn });

    // Live shipping continues the installed CRC chain, local writes continue the LSNs.
    const want = Buffer.from(tail.expected);
    await vol.appendRecords(nextRecord(tail, 5, 4242));
    block(5, 4242).copy(want, 5 * BS);
    expect(await vol.write(6, block(6, 4343))).toBe(tail.lastLsn + 2);
    block(6, 4343).copy(want, 6 * BS);
    await vol.flush();
    await vol.checkpoint();
    await vol.write(7, block(7, 4444));
    block(7, 4444).copy(want, 7 * BS);
    await vol.flush();
    expect((await vol.read(0, VOL_BYTES)).equals(want)).toBe(true);
    const stats = { head: vol.headLsn, epoch: vol.epoch, uuid: vol.uuid };
    await vol.close();

    const again = await openVolumeFile(file);
    expect({ head: again.headLsn, epoch: again.epoch, uuid: again.uuid }).toEqual(stats);
    expect((await again.read(0, VOL_BYTES)).equals(want)).toBe(true);
    // The writes after the install are still marked after the reopen, from the bitmap.
    expect(again.changeTracking().baseLsn).toBe(tracking.baseLsn);
    const marked = [...again.changedBlocks().ranges()].map((r) => [r.lba, r.blocks]);
    for (const lba of [5, 6, 7]) expect(marked.some(([a, n]) => lba >= a! && lba < a! + n!)).toBe(true);
    await again.close();
  });

  it("a tail that fits in the WAL stays shippable after the swap; an empty tail installs the image alone", async () => {
    const { vol } = await oldVolume();
    const image = imageOf(8);
    const tail = buildTail(12, 1, [w(1, 1), w(60, 2, 4), w(1, 3)], image);
    await stage(vol, image, tail);
    await vol.commitInstall(12, 1);
    expect([vol.checkpointLsn, vol.tailLsn, vol.headLsn]).toEqual([12, 12, 15]);
    expect((await vol.readRecords(13, 1 << 20)).bytes.equals(Buffer.concat(tail.records))).toBe(true);

    await vol.beginInstall();
    await vol.writeInstallChunk(0, imageOf(9));
    await vol.commitInstall(70, 4);
    expect([vol.headLsn, vol.checkpointLsn, vol.epoch]).toEqual([70, 70, 4]);
    expect((await vol.read(0, VOL_BYTES)).equals(imageOf(9))).toBe(true);
    await vol.close();
    const again = await openVolumeFile(file);
    expect([again.headLsn, again.epoch]).toEqual([70, 4]);
    expect((await again.read(0, VOL_BYTES)).equals(imageOf(9))).toBe(true);
    await again.close();
  });

  it("a failure before the rename leaves the old volume untouched and usable", async () => {
    const { vol, oldImage, oldHead } = await oldVolume({
      beforeRename: () => Promise.reject(new Error("EIO (injected before rename)")),
    });
    const image = imageOf(3);
    const tail = longTail(40, 1, image);
    await stage(vol, image, tail);
    await expectReason(vol.commitInstall(40, 2), "io_error");
    expect(vol.failed).toBeUndefined();
    expect([vol.headLsn, vol.epoch]).toEqual([oldHead, 1]);
    expect((await vol.read(0, VOL_BYTES)).equals(oldImage)).toBe(true);
    expect(stagingFiles()).toEqual([false, false]); // the install ended: the caller starts over
    expect(await vol.write(20, block(20, 1))).toBe(oldHead + 1);
    await vol.flush();
    await vol.close();
    const again = await openVolumeFile(file);
    expect([again.headLsn, again.epoch]).toEqual([oldHead + 1, 1]);
    block(20, 1).copy(oldImage, 20 * BS);
    expect((await again.read(0, VOL_BYTES)).equals(oldImage)).toBe(true);
    await again.close();
  });

  it("a crash before the rename: open ignores the leftover staging file, beginInstall discards it", async () => {
    const snapshot = path.join(dir, "crashed.install");
    const { vol, oldImage, oldHead } = await oldVolume({
      // What a crash right before the rename leaves on disk: a complete, synced staging volume.
      beforeRename: async () => {
        fs.copyFileSync(`${file}.install`, snapshot);
        throw new Error("crash (injected)");
      },
    });
    const image = imageOf(3);
    const tail = longTail(40, 1, image);
    await stage(vol, image, tail);
    await expectReason(vol.commitInstall(40, 2), "io_error");
    await vol.close();
    fs.renameSync(snapshot, `${file}.install`);

    const after = await openVolumeFile(file);
    expect([after.headLsn, after.epoch]).toEqual([oldHead, 1]);
    expect((await after.read(0, VOL_BYTES)).equals(oldImage)).toBe(true);
    // Its extent holds replayed tail blocks, not a pure image: a resumed install must not keep it.
    await after.beginInstall({ resume: true });
    const region = Buffer.alloc(4096);
    const fd = fs.openSync(`${file}.install`, "r");
    fs.readSync(fd, region, 0, region.length, 0);
    fs.closeSync(fd);
    expect(region.every((b) => b === 0)).toBe(true);
    await after.writeInstallChunk(0, image.subarray(0, 8 * BS));
    await after.commitInstall(90, 2);
    const want = Buffer.alloc(VOL_BYTES);
    image.copy(want, 0, 0, 8 * BS);
    expect((await after.read(0, VOL_BYTES)).equals(want)).toBe(true);
    await after.close();
  });

  it("a crash right after the rename: reopening the path gives the complete installed volume", async () => {
    const { vol } = await oldVolume({
      afterRename: () => Promise.reject(new Error("crash (injected after rename)")),
    });
    const image = imageOf(5);
    const tail = longTail(40, 2, image);
    await stage(vol, image, tail);
    await expectReason(vol.commitInstall(40, 2, { imageHighLsn: 50 }), "io_error");
    expect(vol.failed?.reason).toBe("volume_failed");
    await expectReason(vol.write(0, block(0, 1)), "volume_failed");
    await vol.close();
    expect(fs.existsSync(`${file}.install`)).toBe(false);

    const after = await openVolumeFile(file);
    expect([after.headLsn, after.durableLsn, after.epoch]).toEqual([tail.lastLsn, tail.lastLsn, 2]);
    expect(after.extentHighLsn).toBeGreaterThanOrEqual(50);
    expect((await after.read(0, VOL_BYTES)).equals(tail.expected)).toBe(true);
    await after.appendRecords(nextRecord(tail, 9, 77));
    await after.flush();
    await after.close();
    const third = await openVolumeFile(file);
    expect(third.headLsn).toBe(tail.lastLsn + 1);
    expect((await third.read(9, BS)).equals(block(9, 77))).toBe(true);
    await third.close();
  });

  it("resume keeps the chunks already staged; a fresh begin discards them", async () => {
    const { vol } = await oldVolume();
    await vol.beginInstall();
    await vol.writeInstallChunk(0, Buffer.alloc(32 * BS, 7));
    await vol.close(); // a process restart mid-transfer: the staging file stays

    const resumed = await openVolumeFile(file);
    await resumed.beginInstall({ resume: true });
    await resumed.writeInstallChunk(32 * BS, Buffer.alloc(32 * BS, 8));
    await resumed.commitInstall(30, 1);
    const want = Buffer.concat([Buffer.alloc(32 * BS, 7), Buffer.alloc(32 * BS, 8)]);
    expect((await resumed.read(0, VOL_BYTES)).equals(want)).toBe(true);

    await resumed.beginInstall();
    await resumed.writeInstallChunk(0, Buffer.alloc(16 * BS, 9));
    await resumed.close();
    const fresh = await openVolumeFile(file);
    await fresh.beginInstall({ resume: false });
    await fresh.writeInstallChunk(16 * BS, Buffer.alloc(16 * BS, 6));
    await fresh.commitInstall(31, 1);
    const got = await fresh.read(0, VOL_BYTES);
    expect(got.subarray(0, 16 * BS).every((b) => b === 0)).toBe(true);
    expect(got.subarray(16 * BS, 32 * BS).equals(Buffer.alloc(16 * BS, 6))).toBe(true);
    expect(fresh.headLsn).toBe(31);
    await fresh.close();
  });

  it("superblock updates racing a commit land in the installed file", async () => {
    const { vol } = await oldVolume();
    const image = imageOf(2);
    const tail = longTail(40, 2, image);
    await stage(vol, image, tail);
    await Promise.all([vol.commitInstall(40, 2), vol.setDurabilityMode("sync_all")]);
    await vol.setEpoch(6);
    expect([vol.durabilityMode, vol.epoch]).toEqual(["sync_all", 6]);
    await vol.close();
    const again = await openVolumeFile(file);
    expect([again.durabilityMode, again.epoch, again.headLsn]).toEqual(["sync_all", 6, tail.lastLsn]);
    await again.close();
  });

  it("refuses a swap staging that targets another file or a symlink", async () => {
    const { vol } = await oldVolume();
    await vol.close();
    const other = await openVolumeFile(file, { staging: swapStaging(path.join(dir, "other.img")) });
    await expectReason(other.beginInstall(), "install_state");
    await other.close();
    // The rename would replace the link, not the volume file behind it.
    const link = path.join(dir, "link.img");
    fs.symlinkSync(file, link);
    const viaLink = await openVolumeFile(link);
    await expectReason(viaLink.beginInstall(), "install_state");
    await viaLink.close();
  });
});

describe("a copy-layout install pending on a file volume (left by a block-device style staging)", () => {
  /** Opens the file volume with copy staging on a device whose extent writes fail: the redo dies after its commit point. */
  async function pendingCopyInstall(image: Buffer): Promise<void> {
    await (await oldVolume()).vol.close();
    const inner = await FileDevice.open(file);
    const failing: BlockDevice = {
      sizeBytes: inner.sizeBytes,
      read: (buf, off) => inner.read(buf, off),
      writev: (bufs, off) =>
        off >= EXTENT_OFFSET ? Promise.reject(new Error("EIO (injected)")) : inner.writev(bufs, off),
      sync: () => inner.sync(),
      close: () => inner.close(),
    };
    const vol = await Volume.open(failing, { staging: fileStaging(`${file}.install`) });
    await vol.beginInstall();
    await vol.writeInstallChunk(0, image);
    await expectReason(vol.commitInstall(60, 2), "io_error");
    expect(vol.failed?.reason).toBe("volume_failed");
    await vol.close();
    expect(fs.statSync(`${file}.install`).size).toBe(VOL_BYTES);
  }

  it("open() with swap staging finishes its redo from the copy-layout image", async () => {
    const image = imageOf(11);
    await pendingCopyInstall(image);
    const after = await openVolumeFile(file);
    expect([after.headLsn, after.epoch]).toEqual([60, 2]);
    expect((await after.read(0, VOL_BYTES)).equals(image)).toBe(true);
    expect(stagingFiles()).toEqual([false, false]);
    await after.close();
  });

  it("a swap-layout staging file is never taken for a pending copy image", async () => {
    await pendingCopyInstall(imageOf(12));
    fs.copyFileSync(file, `${file}.install`); // the size of a swap staging file
    await expectReason(openVolumeFile(file), "corrupt");
  });
});

describe("staging writeback", () => {
  function countingDevice(): { syncs: number; release: () => void; device: BlockDevice } {
    const waiters: Array<() => void> = [];
    const dev = {
      syncs: 0,
      release: () => {
        for (const r of waiters.splice(0)) r();
      },
      device: {
        sizeBytes: 0,
        read: async () => undefined,
        writev: async () => undefined,
        close: async () => undefined,
        sync: () => {
          dev.syncs++;
          return new Promise<void>((r) => waiters.push(r));
        },
      },
    };
    return dev;
  }
  const newWb = (device: BlockDevice): StagingWriteback => new StagingWriteback(device, 10, 30);

  it("starts a background sync every 10 bytes and makes writers wait only past the lag bound", async () => {
    const d = countingDevice();
    const wb = newWb(d.device);
    await wb.wrote(9);
    expect(d.syncs).toBe(0);
    await wb.wrote(1);
    expect(d.syncs).toBe(1);
    await wb.wrote(30); // 30 bytes behind the running sync: still within the bound
    expect(d.syncs).toBe(1);
    let waited = true;
    const behind = wb.wrote(1).then(() => {
      waited = false;
    });
    await Promise.resolve();
    expect(waited).toBe(true);
    d.release();
    await behind;
    expect(d.syncs).toBe(2); // the backlog starts the next sync at once
    d.release();
    await wb.idle();
  });

  it("reports a failed background sync to the next writer", async () => {
    const wb = new StagingWriteback(
      {
        sizeBytes: 0,
        read: async () => undefined,
        writev: async () => undefined,
        close: async () => undefined,
        sync: () => Promise.reject(new Error("EIO")),
      },
      10,
      10,
    );
    await wb.wrote(10);
    await expect(wb.idle()).rejects.toThrow("EIO");
    await expect(wb.wrote(1)).rejects.toThrow("EIO");
  });
});
