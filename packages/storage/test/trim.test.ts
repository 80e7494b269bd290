import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DirtyMap } from "../src/dirty-map";
import {
  allocatedBytes,
  createVolumeFile,
  deviceBytesFor,
  discardBackend,
  MAX_TRIM_RECORD_BLOCKS,
  openVolumeFile,
  randomCrashChooser,
  Volume,
} from "../src/index";
import { BS, block, simVolume, tmpDir } from "./helpers";

const keepAll = { fate: () => "keep" as const, tornRanges: () => [] as Array<[number, number]> };

describe("dirty map trim ranges", () => {
  it("a trim is one range whatever its length; newer versions win in both directions", () => {
    const m = new DirtyMap();
    m.put(5, { lsn: 1, recordOffset: 0, blockInRecord: 0 });
    m.putTrim(0, 2 ** 40, 2, 100); // far more blocks than could ever be entries
    expect(m.trimRanges).toBe(1);
    expect(m.get(5)?.blockInRecord).toBe(-1); // the older write is gone
    m.put(7, { lsn: 3, recordOffset: 200, blockInRecord: 0 });
    expect(m.get(7)?.lsn).toBe(3); // a newer write inside the range wins
    m.put(8, { lsn: 1, recordOffset: 0, blockInRecord: 0 });
    expect(m.get(8)?.lsn).toBe(2); // an older one never does
    expect(m.staleIgnored).toBe(1);
    m.putTrim(10, 10, 4, 300); // splits the first range in three
    expect(m.trimRanges).toBe(3);
    expect(m.trimRangesOf(0, 2 ** 40, 2)).toEqual([
      { start: 0, end: 10 },
      { start: 20, end: 2 ** 40 },
    ]);
    expect(m.writtenIn(0, 2 ** 40)).toEqual([7]);
    m.deleteTrimIfLsn(0, 2 ** 40, 2);
    expect(m.get(0)).toBeUndefined();
    expect(m.get(15)?.lsn).toBe(4);
    expect(m.get(7)?.lsn).toBe(3);
    expect(m.size).toBe(11);
  });
});

describe("volume trims", () => {
  it("reads, checkpoints and recovers trimmed ranges; the extent gets discards, not zero blocks", async () => {
    const { vol, dev, opts } = await simVolume({ epoch: 1 });
    for (let i = 0; i < 16; i++) await vol.write(i, block(i, 1));
    await vol.checkpoint();
    await vol.trim(2, 10 * BS); // blocks 2..11
    await vol.write(5, block(5, 2));
    const check = async (v: Volume): Promise<void> => {
      const all = await v.read(0, 16 * BS);
      for (let i = 0; i < 16; i++) {
        const want = i === 5 ? block(5, 2) : i >= 2 && i < 12 ? Buffer.alloc(BS) : block(i, 1);
        expect(all.subarray(i * BS, (i + 1) * BS).equals(want), `block ${i}`).toBe(true);
      }
    };
    await check(vol);
    await vol.flush();
    // Recovery replays the range from the WAL (nothing checkpointed yet).
    const crashed = await Volume.open(dev.crash(keepAll), opts);
    await check(crashed);
    expect(crashed.stats().dirtyBlocks).toBeGreaterThan(0);
    await crashed.close();
    const writesBefore = dev.writeCount;
    await vol.checkpoint();
    await check(vol);
    expect(dev.discardCount).toBe(2); // [2, 5) and [6, 12): block 5 has a newer write
    expect(dev.writeCount - writesBefore).toBeLessThan(10); // never one zero write per block
    await vol.close();
    const again = await Volume.open(dev.snapshot(), opts);
    await check(again);
    await again.close();
  });

  it("a trim longer than one record's block count is split into a few records", async () => {
    expect(MAX_TRIM_RECORD_BLOCKS).toBe(2 ** 31);
    const { vol } = await simVolume();
    const lsn = await vol.trim(0, 64 * BS);
    expect(lsn).toBe(1);
    await vol.close();
  });

  it("random writes and trims, checkpoints and crashes read like a model", async () => {
    for (let seed = 1; seed <= 8; seed++) {
      let x = seed * 7919;
      const rnd = (n: number): number => {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        return x % n;
      };
      let { vol, dev, opts } = await simVolume({ epoch: 1, flushIntervalMs: 1 });
      const model: Array<Buffer | undefined> = Array.from({ length: 64 }, () => undefined);
      for (let step = 0; step < 120; step++) {
        const lba = rnd(60);
        const op = rnd(10);
        if (op < 5) {
          const n = 1 + rnd(3);
          await vol.write(lba, block(lba, step, n));
          for (let i = 0; i < n; i++) model[lba + i] = block(lba + i, step);
        } else if (op < 8) {
          const n = 1 + rnd(64 - lba);
          await vol.trim(lba, n * BS);
          for (let i = 0; i < n; i++) model[lba + i] = undefined;
        } else if (op === 8) await vol.checkpoint();
        else {
          await vol.flush();
          const image = dev.crash(randomCrashChooser(seed * 1000 + step));
          await vol.close().catch(() => undefined);
          // Everything flushed survives; the crash may keep or drop only what came after.
          vol = await Volume.open(image, opts);
          dev = image;
        }
        if (step % 10 === 9) {
          const all = await vol.read(0, 64 * BS);
          for (let i = 0; i < 64; i++) {
            const want = model[i] ?? Buffer.alloc(BS);
            expect(
              all.subarray(i * BS, (i + 1) * BS).equals(want),
              `seed ${seed} step ${step} block ${i}`,
            ).toBe(true);
          }
        }
      }
      await vol.close();
    }
  });
});

describe("trims of a file-backed volume", () => {
  let tmp: ReturnType<typeof tmpDir>;
  beforeEach(() => {
    tmp = tmpDir();
  });
  afterEach(() => tmp.cleanup());

  it("a 1 TiB sparse volume: a whole-volume trim is one record, punches holes and keeps the file sparse", async () => {
    const file = path.join(tmp.dir, "big.vol");
    const TiB = 2 ** 40;
    const bs = 4096;
    const vol = await createVolumeFile(file, {
      volumeSizeBytes: TiB,
      walSizeBytes: 64 * 1024 * 1024,
      blockSize: bs,
      flushIntervalMs: 50,
    });
    const data = Buffer.alloc(1024 * 1024, 0xab);
    for (const lba of [0, 1 << 20, TiB / bs - 256]) await vol.write(lba, data);
    await vol.flush();
    await vol.checkpoint();
    const allocated = allocatedBytes(file);
    const heapBefore = process.memoryUsage().heapUsed;
    const lsn = await vol.trim(0, TiB);
    expect(lsn).toBe(4);
    await vol.flush();
    await vol.checkpoint();
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    for (const lba of [0, 1 << 20, TiB / bs - 256]) {
      expect((await vol.read(lba, data.length)).equals(Buffer.alloc(data.length)), `lba ${lba}`).toBe(true);
    }
    const { backend } = discardBackend();
    if (backend === "native") expect(allocatedBytes(file)).toBeLessThan(allocated);
    // superblock + WAL + extent + the changed-block tracking region after it
    expect(fs.statSync(file).size).toBe(
      deviceBytesFor({ volumeSizeBytes: TiB, walSizeBytes: 64 * 1024 * 1024 }),
    );
    expect(vol.changedBlocks(0).blockCount).toBe(TiB / bs);
    await vol.close();
    const again = await openVolumeFile(file, {});
    expect((await again.read(1 << 20, data.length)).equals(Buffer.alloc(data.length))).toBe(true);
    await again.close();
  }, 120_000);
});

describe("the zero-write fallback", () => {
  it("writes zeros only where the range does not read as zeros already", async () => {
    const { writeZerosWhereNonZero } = await import("../src/discard");
    const { SimDevice } = await import("../src/index");
    const dev = new SimDevice(8 * 1024 * 1024);
    await dev.writev([Buffer.alloc(4096, 7)], 3 * 1024 * 1024 + 1000);
    const writes = dev.writeCount;
    await writeZerosWhereNonZero(
      (b, o) => dev.read(b, o),
      (b, o) => dev.writev(b, o),
      512,
      8 * 1024 * 1024 - 512,
    );
    expect(dev.writeCount - writes).toBe(1); // only the one non-zero MiB
    const all = Buffer.alloc(8 * 1024 * 1024);
    await dev.read(all, 0);
    expect(all.equals(Buffer.alloc(all.length))).toBe(true);
  });
});
