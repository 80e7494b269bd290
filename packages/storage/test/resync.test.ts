import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { readSuperblock } from "../src/format";
import { createVolumeFile, FileDevice, openVolumeFile, SimDevice, swapStaging, Volume } from "../src/index";
import type { VolumeState } from "../src/state";
import { decodeSuperblock, encodeSuperblock, newSuperblock } from "../src/superblock";
import { BitmapWriteTracker } from "../src/write-tracker";
import { BS, block, expectReason, SMALL, simVolume, tmpDir } from "./helpers";
import { buildTail, imageOf, VOL_BYTES } from "./install-support";
import { lbasOf, resyncOnce, ship } from "./resync-support";

const BLOCKS = SMALL.volumeSizeBytes / BS;

async function expectSame(a: Volume, b: Volume): Promise<void> {
  const x = await a.read(0, BLOCKS * BS);
  const y = await b.read(0, BLOCKS * BS);
  for (let lba = 0; lba < BLOCKS; lba++) {
    const bx = x.subarray(lba * BS, (lba + 1) * BS);
    expect(bx.equals(y.subarray(lba * BS, (lba + 1) * BS)), `block ${lba}`).toBe(true);
  }
}

/** A primary and a replica sharing `common` records, then the replica's own divergent writes. */
async function diverged(common = 6, divergent = 4) {
  const P = await simVolume({ epoch: 2 });
  const R = await simVolume({ epoch: 2 });
  for (let i = 0; i < common; i++) await P.vol.write(i * 3, block(i * 3, 100 + i));
  await ship(P.vol, R.vol);
  await R.vol.flush();
  for (let i = 0; i < divergent; i++) await R.vol.write(40 + i, block(40 + i, 900 + i));
  await R.vol.flush();
  return { P, R, fork: common };
}

describe("resync target (Volume.beginResync / writeResyncBlocks / commitResync)", () => {
  it("begins: checkpoints the WAL, persists phase transfer, returns its own changes since the fork", async () => {
    const { P, R, fork } = await diverged();
    expect(R.vol.resyncState()).toEqual({ pending: false });
    const { ranges } = await R.vol.beginResync({ forkLsn: fork });
    expect(lbasOf(ranges.ranges())).toEqual(expect.arrayContaining([40, 41, 42, 43]));
    expect(R.vol.resyncState()).toEqual({ pending: true, phase: "transfer", forkLsn: fork });
    expect(R.vol.checkpointLsn).toBe(R.vol.headLsn);
    // Refusals while blocks go straight into the extent.
    await expectReason(R.vol.write(0, block(0, 1)), "resync_in_progress");
    await expectReason(R.vol.trim(0, BS), "resync_in_progress");
    await expectReason(R.vol.read(0, BS), "resync_in_progress");
    await expectReason(R.vol.readExtent(0, BS), "resync_in_progress");
    await expectReason(R.vol.appendRecords((await P.vol.readRecords(1, 4096)).bytes), "resync_in_progress");
    await expectReason(R.vol.truncateToLsn(1), "resync_in_progress");
    await expectReason(R.vol.advanceChangeBase(R.vol.headLsn), "resync_in_progress");
    expect(await R.vol.flush()).toBe(R.vol.headLsn);
    await Promise.all([P.vol.close(), R.vol.close()]);
  });

  it("ends with the primary's content, log at baseLsn naming its record, and catches up by shipping", async () => {
    const { P, R, fork } = await diverged();
    for (let i = 0; i < 5; i++) await P.vol.write(10 + i, block(10 + i, 500 + i));
    await P.vol.trim(0, BS);
    const { baseLsn, consistentLsn } = await resyncOnce(P.vol, R.vol, fork);
    expect(consistentLsn).toBe(baseLsn);
    // Nothing was written meanwhile: consistent at once.
    expect(R.vol.resyncState()).toEqual({ pending: false });
    expect(R.vol.headLsn).toBe(baseLsn);
    expect(R.vol.durableLsn).toBe(baseLsn);
    expect(R.vol.checkpointLsn).toBe(baseLsn);
    expect(R.vol.tailLsn).toBe(baseLsn);
    expect(R.vol.recordAt(baseLsn)).toEqual(P.vol.recordAt(baseLsn));
    expect(R.vol.history()).toEqual(P.vol.history());
    await expectSame(P.vol, R.vol);
    // The shipper continues from baseLsn + 1 (the chain anchors on the primary's record).
    for (let i = 0; i < 3; i++) await P.vol.write(50 + i, block(50 + i, 700 + i));
    await ship(P.vol, R.vol);
    await R.vol.flush();
    await expectSame(P.vol, R.vol);
    expect(R.vol.recordAt(R.vol.headLsn)).toEqual(P.vol.recordAt(P.vol.headLsn));
    await Promise.all([P.vol.close(), R.vol.close()]);
  });

  it("phase catchup: appends allowed, reads refused until durable >= consistentLsn", async () => {
    const { P, R, fork } = await diverged();
    for (let i = 0; i < 3; i++) await P.vol.write(10 + i, block(10 + i, 500 + i));
    const res = await resyncOnce(P.vol, R.vol, fork, {
      afterBlock: async (n) => {
        if (n === 1) for (let i = 0; i < 3; i++) await P.vol.write(20 + i, block(20 + i, 600 + i));
      },
    });
    expect(res.consistentLsn).toBe(res.baseLsn + 3);
    expect(R.vol.resyncState()).toEqual({
      pending: true,
      phase: "catchup",
      forkLsn: fork,
      baseLsn: res.baseLsn,
      consistentLsn: res.consistentLsn,
    });
    await expectReason(R.vol.read(0, BS), "resync_in_progress");
    // A retried commit with the same session facts is a no-op; blocks are refused now.
    await R.vol.commitResync({
      baseLsn: res.baseLsn,
      epoch: P.vol.epoch,
      baseRecord: { crc: P.vol.recordAt(res.baseLsn)!.crc, epoch: 2 },
      history: P.vol.history(),
      consistentLsn: res.consistentLsn,
    });
    await expectReason(R.vol.writeResyncBlocks(0, block(0, 1)), "resync_state");
    await ship(P.vol, R.vol);
    await R.vol.flush();
    expect(R.vol.resyncState()).toEqual({ pending: false });
    await expectSame(P.vol, R.vol);
    await Promise.all([P.vol.close(), R.vol.close()]);
  });

  it("survives reopen in both phases; a resumed begin keeps the lower fork", async () => {
    const { P, R, fork } = await diverged();
    await R.vol.beginResync({ forkLsn: fork });
    await R.vol.writeResyncBlocks(3 * BS, block(3, 1));
    await R.vol.close();
    let dev = R.dev.snapshot();
    let r = await Volume.open(dev, R.opts);
    expect(r.resyncState()).toEqual({ pending: true, phase: "transfer", forkLsn: fork });
    await expectReason(r.read(0, BS), "resync_in_progress");
    await r.beginResync({ forkLsn: fork });
    expect(r.resyncState()).toEqual({ pending: true, phase: "transfer", forkLsn: fork });
    await r.beginResync({ forkLsn: fork - 1 });
    expect(r.resyncState()).toEqual({ pending: true, phase: "transfer", forkLsn: fork - 1 });
    await r.close();
    dev = dev.snapshot();
    r = await Volume.open(dev, R.opts);
    // Resume the whole session: it starts over (blocks are idempotent).
    await P.vol.write(30, block(30, 1));
    const res = await resyncOnce(P.vol, r, fork - 1, {
      afterBlock: async (n) => {
        if (n === 1) await P.vol.write(31, block(31, 2));
      },
    });
    const st = r.resyncState();
    expect(st).toMatchObject({ pending: true, phase: "catchup", baseLsn: res.baseLsn, forkLsn: fork - 1 });
    await r.close();
    dev = dev.snapshot();
    r = await Volume.open(dev, R.opts);
    expect(r.resyncState()).toEqual(st);
    expect(r.headLsn).toBe(res.baseLsn);
    await expectReason(r.read(0, BS), "resync_in_progress");
    await ship(P.vol, r);
    await r.flush();
    await r.close();
    const done = await Volume.open(dev.snapshot(), R.opts);
    expect(done.resyncState()).toEqual({ pending: false });
    await expectSame(P.vol, done);
    await Promise.all([P.vol.close(), done.close()]);
  });

  it("a block a crashed session wrote to the device is in the ranges of the resumed one", async () => {
    const { P, R, fork } = await diverged();
    await R.vol.beginResync({ forkLsn: fork });
    // Blocks neither copy changed since the fork (say, the failed source's own divergent writes),
    // more than the write-behind holds, so some reach the device.
    for (let lba = 44; lba < 64; lba++) await R.vol.writeResyncBlocks(lba * BS, block(lba, 4242));
    const keepAll = { fate: () => "keep" as const, tornRanges: () => [] };
    const extentAt = 4096 + SMALL.walSizeBytes!;
    const check = async (image: Buffer): Promise<number> => {
      const r = await Volume.open(new SimDevice(image.length, image), R.opts);
      const marked = lbasOf((await r.beginResync({ forkLsn: fork })).ranges.ranges());
      await r.close();
      let onDisk = 0;
      for (let lba = 44; lba < 64; lba++) {
        const got = image.subarray(extentAt + lba * BS, extentAt + (lba + 1) * BS);
        if (!got.equals(block(lba, 4242))) continue;
        onDisk++;
        expect(marked, `block ${lba}`).toContain(lba);
      }
      return onDisk;
    };
    await check(R.dev.crashImage(keepAll));
    // A resumed begin in the same process writes what is still queued first.
    await R.vol.beginResync({ forkLsn: fork });
    expect(await check(R.dev.crashImage(keepAll))).toBe(20);
    await Promise.all([P.vol.close(), R.vol.close()]);
  });

  it("refuses what it cannot do: untracked copies, bad blocks, bad commits", async () => {
    const { P, R, fork } = await diverged();
    // A tracking base above the fork: the changes since the fork are not known here.
    await R.vol.advanceChangeBase(R.vol.headLsn);
    await expectReason(R.vol.beginResync({ forkLsn: fork }), "resync_untracked");
    expect(R.vol.resyncState()).toEqual({ pending: false });
    await expectReason(R.vol.beginResync({ forkLsn: -1 }), "invalid_argument");
    await expectReason(R.vol.beginResync({ forkLsn: R.vol.headLsn + 1 }), "invalid_argument");
    await expectReason(R.vol.writeResyncBlocks(0, block(0, 1)), "resync_state");
    await expectReason(
      R.vol.commitResync({
        baseLsn: 1,
        epoch: 2,
        baseRecord: { crc: 0, epoch: 2 },
        history: [],
        consistentLsn: 1,
      }),
      "resync_state",
    );
    await R.vol.beginResync({ forkLsn: R.vol.headLsn });
    await expectReason(R.vol.writeResyncBlocks(1, block(0, 1)), "invalid_argument");
    await expectReason(R.vol.writeResyncBlocks(0, Buffer.alloc(BS + 1)), "invalid_argument");
    await expectReason(R.vol.writeResyncBlocks(BLOCKS * BS, block(0, 1)), "out_of_range");
    const ok = {
      baseLsn: R.vol.headLsn,
      epoch: 2,
      baseRecord: { crc: 1, epoch: 2 },
      history: [],
      consistentLsn: R.vol.headLsn,
    };
    await expectReason(R.vol.commitResync({ ...ok, baseLsn: 0 }), "invalid_argument");
    await expectReason(R.vol.commitResync({ ...ok, consistentLsn: ok.baseLsn - 1 }), "invalid_argument");
    await expectReason(R.vol.commitResync({ ...ok, epoch: 1 }), "epoch_regression");
    await expectReason(R.vol.commitResync({ ...ok, baseRecord: { crc: 1, epoch: 3 } }), "invalid_argument");
    await expectReason(
      R.vol.commitResync({
        ...ok,
        history: [
          { epoch: 2, firstLsn: 5, prevCrc: 0 },
          { epoch: 1, firstLsn: 6, prevCrc: 0 },
        ],
      }),
      "invalid_argument",
    );
    expect(R.vol.resyncState()).toMatchObject({ pending: true, phase: "transfer" });
    await Promise.all([P.vol.close(), R.vol.close()]);
  });

  it("a copy without persistent tracking answers resync_untracked", async () => {
    const opts = { ...SMALL, flushIntervalMs: 60_000 };
    const dev = new SimDevice(4096 + SMALL.walSizeBytes! + SMALL.volumeSizeBytes);
    const vol = await Volume.create(dev, opts);
    await vol.write(0, block(0, 1));
    expect(vol.changeTracking().persistent).toBe(false);
    await expectReason(vol.beginResync({ forkLsn: 0 }), "resync_untracked");
    expect(vol.resyncState()).toEqual({ pending: false });
    await vol.close();
  });

  it("an install (rebuild commit) clears the marker", async () => {
    const { P, R, fork } = await diverged();
    await R.vol.beginResync({ forkLsn: fork });
    const base = P.vol.pinBaseImage("rebuild");
    await R.vol.beginInstall();
    await R.vol.writeInstallChunk(0, await P.vol.readExtent(0, SMALL.volumeSizeBytes));
    const tail = await P.vol.readRecords(base.baseLsn + 1, 1 << 20).catch(() => undefined);
    if (tail && P.vol.headLsn > base.baseLsn) await R.vol.stageInstallTail(tail.bytes);
    const rec = P.vol.recordAt(base.baseLsn)!;
    await R.vol.commitInstall(base.baseLsn, P.vol.epoch, { baseRecord: rec, history: P.vol.history() });
    expect(R.vol.resyncState()).toEqual({ pending: false });
    expect((await readSuperblock(R.dev.snapshot())).resync).toBeUndefined();
    await expectSame(P.vol, R.vol);
    await R.vol.close();
    const again = await Volume.open(R.dev.snapshot(), R.opts);
    expect(again.resyncState()).toEqual({ pending: false });
    await Promise.all([P.vol.close(), again.close()]);
  });
});

describe("resync marker on disk", () => {
  const sb = newSuperblock({
    blockSize: 4096,
    volumeSizeBytes: 1 << 20,
    walSizeBytes: 1 << 16,
    durabilityMode: "sync_all",
    epoch: 7,
    nowMs: 1,
  });

  it("round-trips in both phases as version 3; without it the superblock is version 2 and not pending", () => {
    for (const resync of [
      { phase: "transfer", forkLsn: 9, baseLsn: 0, consistentLsn: 0 },
      { phase: "catchup", forkLsn: 9, baseLsn: 12, consistentLsn: 20 },
    ] as const) {
      const buf = encodeSuperblock({ ...sb, seq: 3, resync });
      expect(buf.readUInt16LE(8)).toBe(3);
      const r = decodeSuperblock(buf);
      expect(r.ok && r.sb.resync).toEqual(resync);
    }
    const plain = encodeSuperblock({ ...sb, seq: 4 });
    expect(plain.readUInt16LE(8)).toBe(2);
    const r = decodeSuperblock(plain);
    expect(r.ok && r.sb.resync).toBeUndefined();
  });

  it("refuses a marker that cannot be one", () => {
    const bad = encodeSuperblock({
      ...sb,
      resync: { phase: "catchup", forkLsn: 9, baseLsn: 5, consistentLsn: 20 },
    });
    expect(decodeSuperblock(bad)).toMatchObject({ ok: false, reason: "corrupt" });
  });
});

describe("resync marker and swap installs (file volumes)", () => {
  it("a swap install clears the marker; the reopened file is not pending", async () => {
    const { dir, cleanup } = tmpDir("blockship-resync-");
    try {
      const file = path.join(dir, "v.img");
      const opts = { volumeSizeBytes: VOL_BYTES, walSizeBytes: 16 * 1024, blockSize: BS, epoch: 1 };
      const created = await createVolumeFile(file, opts);
      for (let i = 0; i < 5; i++) await created.write(i, block(i, 900));
      await created.flush();
      await created.close();
      const vol = await openVolumeFile(file, { staging: swapStaging(file) });
      await vol.beginResync({ forkLsn: 2 });
      await vol.close();
      const again = await openVolumeFile(file, { staging: swapStaging(file) });
      expect(again.resyncState()).toEqual({ pending: true, phase: "transfer", forkLsn: 2 });
      const image = imageOf(3);
      const tail = buildTail(40, 2, [{ trim: false, lba: 1, blocks: 2, tag: 77, epochStep: 0 }], image);
      await again.beginInstall();
      await again.writeInstallChunk(0, image);
      await again.stageInstallTail(Buffer.concat(tail.records));
      await again.commitInstall(40, 2);
      expect(again.resyncState()).toEqual({ pending: false });
      // On disk at once (the swapped-in superblock), not only with a later superblock write.
      const dev = await FileDevice.open(file);
      expect((await readSuperblock(dev)).resync).toBeUndefined();
      await dev.close();
      expect((await again.read(0, VOL_BYTES)).equals(tail.expected)).toBe(true);
      await again.write(0, block(0, 1));
      await again.close();
      const reopened = await openVolumeFile(file);
      expect(reopened.resyncState()).toEqual({ pending: false });
      await reopened.close();
    } finally {
      cleanup();
    }
  });
});

describe("trackWrites", () => {
  it("drains what was written since the last drain, through the head; closed trackers see nothing", async () => {
    const { vol } = await simVolume();
    await vol.write(1, block(1, 1));
    const t = vol.trackWrites();
    const t2 = vol.trackWrites();
    await vol.write(5, block(5, 1, 2));
    await vol.trim(20, 3 * BS);
    const d1 = t.drain();
    expect(d1.throughLsn).toBe(vol.headLsn);
    // Whole 4 KiB grains (8 blocks of 512 bytes) for this small volume.
    expect(lbasOf(d1.ranges())).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
    expect(d1.blockCount).toBe(16);
    const d2 = t.drain();
    expect(d2.blockCount).toBe(0);
    expect([...d2.ranges()]).toEqual([]);
    t2.close();
    t2.close();
    expect(() => t2.drain()).toThrow(/closed/);
    await vol.write(9, block(9, 1));
    expect(lbasOf(t.drain().ranges())).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
    t.close();
    await vol.close();
  });

  it("stays bounded: the grain grows so the bitmap is at most 4 MiB, whatever the volume size", () => {
    for (const [sizeBytes, blockSize] of [
      [64 * BS, BS],
      [2 ** 37, 4096], // 128 GiB: 4 KiB grains, exactly 4 MiB
      [2 ** 40, 4096], // 1 TiB
      [2 ** 50 + 4096, 4096], // 1 PiB and a block: not a power of two
    ] as const) {
      const volumeBlocks = sizeBytes / blockSize;
      const state = {
        sb: { volumeSizeBytes: sizeBytes, blockSize },
        geo: { blockSize },
        volumeBlocks,
        appendedLsn: 7,
      } as unknown as VolumeState;
      const t = new BitmapWriteTracker(state, () => undefined);
      expect(t.bitmapBytes).toBeLessThanOrEqual(4 * 1024 * 1024);
      expect(Math.ceil(sizeBytes / t.grainBytes)).toBeLessThanOrEqual(32 * 1024 * 1024);
      // The last block of the volume is tracked, clipped to the volume's end.
      t.mark(volumeBlocks - 1, 1);
      const d = t.drain();
      expect(d.throughLsn).toBe(7);
      const ranges = [...d.ranges()];
      expect(ranges).toHaveLength(1);
      expect(ranges[0]!.lba + ranges[0]!.blocks).toBe(volumeBlocks);
      expect(d.blockCount).toBe(ranges[0]!.blocks);
      t.close();
      expect(t.bitmapBytes).toBe(0);
    }
  });
});
