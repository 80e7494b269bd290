import { describe, expect, it } from "vitest";
import { ChangeBitmap } from "../src/change-bitmap";
import { changeGeometry, decodeSlotHeader, defaultGrainBytes, encodeSlotHeader } from "../src/change-region";
import { crc32 } from "../src/crc";
import { type BlockRange, deviceBytesFor, SimDevice, Volume } from "../src/index";
import { BS, block, expectReason, simVolume } from "./helpers";

function blocksOf(ranges: Iterable<BlockRange>): number[] {
  const out: number[] = [];
  for (const r of ranges) for (let b = r.lba; b < r.lba + r.blocks; b++) out.push(b);
  return out;
}

describe("ChangeBitmap", () => {
  it("marks the grains a block range touches and lists them as merged, clipped ranges", () => {
    const bm = new ChangeBitmap(10, 4); // 10 grains of 4 blocks, volume of 38 blocks
    bm.markBlocks(5, 1);
    bm.markBlocks(7, 2); // grains 1 and 2
    bm.markBlocks(37, 1); // last grain, clipped to 38 blocks
    expect(bm.count).toBe(3);
    expect([...bm.ranges(38)]).toEqual([
      { lba: 4, blocks: 8 },
      { lba: 36, blocks: 2 },
    ]);
  });

  it("fills whole bytes for long ranges, counts bits once, and tracks dirty pages", () => {
    const bits = 8 * 4096 * 3 + 5; // three full pages and a bit
    const bm = new ChangeBitmap(bits, 1);
    bm.setChunks(3, bits);
    expect(bm.count).toBe(bits - 3);
    bm.setChunks(0, bits);
    expect(bm.count).toBe(bits);
    expect(bm.takeDirtyPages()).toEqual([0, 1, 2, 3]);
    expect(bm.takeDirtyPages()).toEqual([]);
    bm.markBlocks(8 * 4096 + 1, 1); // already set: no page becomes dirty
    expect(bm.takeDirtyPages()).toEqual([]);
    expect([...bm.ranges(bits)]).toEqual([{ lba: 0, blocks: bits }]);
  });

  it("a bitmap read back ignores padding bits past its end", () => {
    const raw = Buffer.from([0xff, 0xff]);
    const bm = new ChangeBitmap(10, 1, raw);
    expect(bm.count).toBe(10);
  });
});

describe("tracking region and slot header", () => {
  it("defaults to 4 KiB grains up to 128 GiB and keeps the bitmap at most 4 MiB above", () => {
    expect(defaultGrainBytes(2 ** 30, 4096)).toBe(4096);
    expect(defaultGrainBytes(128 * 2 ** 30, 4096)).toBe(4096);
    expect(defaultGrainBytes(2 ** 40, 4096)).toBe(32 * 1024);
    expect(changeGeometry(2 ** 40, 32 * 1024).slotBytes).toBe(4096 + 4 * 1024 * 1024);
  });

  it("a slot header decodes only for its own volume, tag and geometry, and detects corruption", () => {
    const h = {
      uuid: "12345678-1234-1234-1234-123456789abc",
      tag: 7,
      grainBytes: 4096,
      bits: 100,
      generation: 3,
      baseLsn: 42,
    };
    const buf = encodeSlotHeader(h);
    const expect1 = { uuid: h.uuid, tag: 7, grainBytes: 4096, bits: 100 };
    expect(decodeSlotHeader(buf, expect1)).toEqual(h);
    expect(decodeSlotHeader(buf, { ...expect1, tag: 8 })).toBeUndefined();
    expect(
      decodeSlotHeader(buf, { ...expect1, uuid: "12345678-1234-1234-1234-123456789abd" }),
    ).toBeUndefined();
    expect(decodeSlotHeader(buf, { ...expect1, bits: 101 })).toBeUndefined();
    for (const at of [0, 20, 44, 50]) {
      const bad = Buffer.from(buf);
      bad[at]! ^= 1;
      expect(decodeSlotHeader(bad, expect1)).toBeUndefined();
    }
  });
});

describe("Volume changed-block tracking", () => {
  it("answers exactly from the WAL, then from the bitmap once the records are recycled, across reopen", async () => {
    const { vol, dev, opts } = await simVolume({ changeGrainBytes: 2 * BS });
    expect(vol.changeTracking()).toMatchObject({ persistent: true, baseLsn: 0, grainBytes: 2 * BS });
    await vol.write(5, block(5, 1));
    await vol.trim(20, 3 * BS);
    const exact = vol.changedBlocks();
    expect(exact.exact).toBe(true);
    expect(blocksOf(exact.ranges())).toEqual([5, 20, 21, 22]);
    await vol.flush();
    await vol.checkpoint();
    expect(vol.tailLsn).toBe(2);
    const grains = vol.changedBlocks(0);
    expect(grains.exact).toBe(false);
    expect(blocksOf(grains.ranges())).toEqual([4, 5, 20, 21, 22, 23]);
    // Since LSN 1: record 2 only — the WAL no longer holds it, so the bitmap answers (a superset).
    expect(blocksOf(vol.changedBlocks(1).ranges())).toContain(20);
    await vol.close();
    const again = await Volume.open(dev.snapshot(), opts);
    expect(blocksOf(again.changedBlocks(0).ranges())).toEqual([4, 5, 20, 21, 22, 23]);
    await again.close();
  });

  it("advanceChangeBase clears exactly while the WAL holds the records after the new base", async () => {
    const { vol, dev, opts } = await simVolume({ changeGrainBytes: BS });
    const a = await vol.write(1, block(1, 1));
    await vol.write(9, block(9, 1));
    expect(await vol.advanceChangeBase(a)).toBe(a);
    expect(vol.changeTracking().baseLsn).toBe(a);
    expect(blocksOf(vol.changedBlocks().ranges())).toEqual([9]);
    // Below the base the WAL still answers while it holds the records...
    expect(blocksOf(vol.changedBlocks(0).ranges())).toEqual([1, 9]);
    await vol.checkpoint(); // ...but once the tail passes them, only the bitmap is left
    expect(blocksOf(vol.changedBlocks().ranges())).toEqual([9]);
    await expectReason(() => vol.changedBlocks(a - 1), "out_of_range");
    await vol.close();
    const again = await Volume.open(dev.snapshot(), opts);
    expect(again.changeTracking().baseLsn).toBe(a);
    expect(blocksOf(again.changedBlocks().ranges())).toEqual([9]);
    await expectReason(() => again.changedBlocks(0), "out_of_range");
    await expectReason(again.advanceChangeBase(again.headLsn + 1), "invalid_argument");
    await again.close();
  });

  it("behind the WAL tail a clear goes back to the last candidate (the head at the previous clear)", async () => {
    const { vol } = await simVolume({ changeGrainBytes: BS });
    await vol.write(1, block(1, 1));
    const c = await vol.write(2, block(2, 1));
    expect(await vol.advanceChangeBase(c)).toBe(c); // candidate is now c
    const d = await vol.write(3, block(3, 1));
    await vol.write(4, block(4, 1));
    await vol.checkpoint(); // tail = head: records after d are gone from the WAL
    expect(await vol.advanceChangeBase(d)).toBe(c);
    expect(blocksOf(vol.changedBlocks().ranges())).toEqual([3, 4]);
    // A clear below the candidate cannot drop anything: the base stays.
    expect(await vol.advanceChangeBase(c)).toBe(c);
    await vol.close();
  });

  it("a replica marks the records it appends (shipped raw records), like local writes", async () => {
    const primary = (await simVolume()).vol;
    const replica = (await simVolume({ changeGrainBytes: BS })).vol;
    await primary.write(7, block(7, 1, 2));
    await primary.trim(30, BS);
    const batch = await primary.readRecords(1, 1 << 20);
    await replica.appendRecords(batch.bytes);
    await replica.flush();
    await replica.checkpoint();
    expect(blocksOf(replica.changedBlocks(0).ranges())).toEqual([7, 8, 30]);
    await primary.close();
    await replica.close();
  });

  it("a device without room for the region tracks only as far back as its WAL (base follows the tail)", async () => {
    const opts = {
      volumeSizeBytes: 64 * BS,
      walSizeBytes: 16 * 1024,
      blockSize: BS,
      flushIntervalMs: 60_000,
    };
    const dev = new SimDevice(4096 + opts.walSizeBytes + opts.volumeSizeBytes);
    expect(deviceBytesFor(opts)).toBeGreaterThan(dev.sizeBytes);
    const vol = await Volume.create(dev, opts);
    await vol.write(3, block(3, 1));
    expect(vol.changeTracking()).toMatchObject({ persistent: false, baseLsn: 0 });
    expect(blocksOf(vol.changedBlocks(0).ranges())).toEqual([3]);
    await vol.checkpoint();
    expect(vol.changeTracking().baseLsn).toBe(1);
    await expectReason(() => vol.changedBlocks(0), "out_of_range");
    await vol.close();
  });

  it("a version-1 volume opens with tracking limited to its WAL and is rewritten as version 2", async () => {
    const opts = {
      volumeSizeBytes: 64 * BS,
      walSizeBytes: 16 * 1024,
      blockSize: BS,
      flushIntervalMs: 60_000,
    };
    const dev = new SimDevice(deviceBytesFor(opts));
    const v = await Volume.create(dev, opts);
    await v.write(3, block(3, 1));
    await v.close();
    // Turn both superblock copies into what version 1 wrote: version 1, zeros from byte 200.
    const img = dev.snapshot();
    const region = Buffer.alloc(4096);
    await img.read(region, 0);
    for (const at of [0, 2048]) {
      const copy = region.subarray(at, at + 2048);
      copy.writeUInt16LE(1, 8);
      copy.fill(0, 200, 2044);
      copy.writeUInt32LE(crc32(copy.subarray(0, 2044)), 2044);
    }
    await img.writev([region], 0);
    await img.sync();
    const old = await Volume.open(img, opts);
    expect(old.changeTracking()).toMatchObject({ persistent: false, baseLsn: old.tailLsn });
    expect(old.history()).toEqual([]);
    await old.write(4, block(4, 2));
    await old.checkpoint();
    const sb = Buffer.alloc(4096);
    await img.read(sb, 0);
    await old.close();
    expect([sb.readUInt16LE(8), sb.readUInt16LE(2048 + 8)]).toContain(2);
  });
});
