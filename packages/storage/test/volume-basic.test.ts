import { afterEach, describe, expect, it } from "vitest";
import { createVolumeFile, openVolumeFile, SimDevice, Volume } from "../src/index";
import { BS, block, expectReason, simVolume, tmpDir, waitFor } from "./helpers";

describe("volume basics", () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it("reads zeros from a fresh volume and reads its own writes", async () => {
    const { vol } = await simVolume();
    expect((await vol.read(0, 4 * BS)).equals(Buffer.alloc(4 * BS))).toBe(true);
    const lsn1 = await vol.write(3, block(3, 1, 2));
    const lsn2 = await vol.write(10, block(10, 2));
    expect([lsn1, lsn2]).toEqual([1, 2]);
    expect((await vol.read(3, 2 * BS)).equals(block(3, 1, 2))).toBe(true);
    expect((await vol.read(2, 3 * BS)).equals(Buffer.concat([Buffer.alloc(BS), block(3, 1, 2)]))).toBe(true);
    await vol.trim(4, BS);
    expect((await vol.read(3, 2 * BS)).equals(Buffer.concat([block(3, 1), Buffer.alloc(BS)]))).toBe(true);
    expect(vol.headLsn).toBe(3);
    await vol.close();
  });

  it("flush resolves with the durable LSN and data survives close + reopen", async () => {
    const { vol, dev, opts } = await simVolume();
    await vol.write(1, block(1, 7));
    await vol.write(2, block(2, 7));
    expect(await vol.flush()).toBe(2);
    expect(vol.durableLsn).toBe(2);
    await vol.close();
    const again = await Volume.open(dev.snapshot(), opts);
    expect((await again.read(1, 2 * BS)).equals(block(1, 7, 2))).toBe(true);
    expect(again.headLsn).toBe(2);
    expect(again.checkpointLsn).toBe(2); // close checkpoints
    await again.close();
  });

  it("newest LSN wins for one LBA, also after checkpoint and reopen", async () => {
    const { vol, dev, opts } = await simVolume();
    const writes = Array.from({ length: 20 }, (_, i) => vol.write(5, block(5, i)));
    const lsns = await Promise.all(writes);
    expect(lsns).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await vol.read(5, BS)).equals(block(5, 19))).toBe(true);
    await vol.checkpoint();
    expect(vol.checkpointLsn).toBe(20);
    expect((await vol.read(5, BS)).equals(block(5, 19))).toBe(true);
    await vol.close();
    const again = await Volume.open(dev.snapshot(), opts);
    expect((await again.read(5, BS)).equals(block(5, 19))).toBe(true);
    await again.close();
  });

  it("works on a real file with fdatasync, and reopens", async () => {
    const { dir, cleanup } = tmpDir();
    cleanups.push(cleanup);
    const file = `${dir}/vol.img`;
    const vol = await createVolumeFile(file, {
      volumeSizeBytes: 1024 * 1024,
      walSizeBytes: 256 * 1024,
      flushIntervalMs: 10,
    });
    const data = block(100, 42, 8, 4096);
    await vol.write(100, data);
    await vol.flush();
    await vol.close();
    const again = await openVolumeFile(file);
    expect((await again.read(100, 8 * 4096)).equals(data)).toBe(true);
    expect(again.blockSize).toBe(4096);
    await again.close();
    await expect(createVolumeFile(file, { volumeSizeBytes: 4096 })).rejects.toThrow(/EEXIST/);
  });

  it("refuses I/O after close with volume_closed", async () => {
    const { vol } = await simVolume();
    await vol.close();
    await expectReason(vol.write(0, block(0, 1)), "volume_closed");
    await expectReason(vol.read(0, BS), "volume_closed");
    await expectReason(vol.flush(), "volume_closed");
    await expectReason(vol.trim(0, BS), "volume_closed");
    await vol.close(); // second close is harmless
  });

  it("group commit: concurrent flushes share one fdatasync", async () => {
    const { vol, dev } = await simVolume();
    await Promise.all(Array.from({ length: 10 }, (_, i) => vol.write(i, block(i, 1))));
    const before = dev.syncCount;
    const results = await Promise.all(Array.from({ length: 16 }, () => vol.flush()));
    expect(results.every((r) => r === 10)).toBe(true);
    expect(dev.syncCount - before).toBe(1);
    // Nothing new appended: flush answers without another sync.
    expect(await vol.flush()).toBe(10);
    expect(dev.syncCount - before).toBe(1);
    await vol.close();
  });

  it("small append batches are written O_DSYNC: flush needs no fdatasync and survives a crash", async () => {
    const { vol, dev, opts } = await simVolume({ durableAppendMaxBytes: 4096 });
    await Promise.all(Array.from({ length: 3 }, (_, i) => vol.write(i, block(i, 1))));
    const before = dev.syncCount;
    expect(await vol.flush()).toBe(3);
    expect(dev.syncCount).toBe(before);
    expect(vol.stats().admission.durableBatches).toBeGreaterThan(0);
    const after = await Volume.open(dev.crash({ fate: () => "drop", tornRanges: () => [] }), opts);
    expect(after.headLsn).toBe(3);
    expect((await after.read(0, 3 * BS)).equals(Buffer.concat([0, 1, 2].map((i) => block(i, 1))))).toBe(true);
    await after.close();
  });

  it("with the replicated-flush hint small batches are plain: durable only through the flush's sync", async () => {
    const { vol, dev, opts } = await simVolume({ durableAppendMaxBytes: 4096 });
    vol.setReplicatedFlushHint(true);
    await vol.write(0, block(0, 1));
    expect(vol.durableLsn).toBe(0);
    expect(vol.stats().admission.durableBatches).toBe(0);
    // A crash before the flush may lose the (unflushed) write; after the flush it may not.
    const before = dev.syncCount;
    expect(await vol.flush()).toBe(1);
    expect(dev.syncCount - before).toBe(1);
    vol.setReplicatedFlushHint(false);
    await vol.write(1, block(1, 1));
    expect(vol.durableLsn).toBe(2);
    const after = await Volume.open(dev.crash({ fate: () => "drop", tornRanges: () => [] }), opts);
    expect(after.headLsn).toBe(2);
    await after.close();
  });

  it("an O_DSYNC batch after an unsynced plain batch does not make the plain one durable", async () => {
    const { vol, dev } = await simVolume({ durableAppendMaxBytes: 1024 });
    await vol.write(0, block(0, 1, 4)); // 2 KiB + header: plain
    await vol.write(8, block(8, 2)); // small: O_DSYNC
    expect(vol.durableLsn).toBe(0);
    const before = dev.syncCount;
    expect(await vol.flush()).toBe(2);
    expect(dev.syncCount).toBe(before + 1);
    await vol.write(9, block(9, 3)); // O_DSYNC with nothing unsynced below it
    expect(vol.durableLsn).toBe(3);
    // Without the flush the crash may drop the plain record; recovery then stops before it.
    const { vol: v2, dev: d2, opts: o2 } = await simVolume({ durableAppendMaxBytes: 1024 });
    await v2.write(0, block(0, 1, 4));
    await v2.write(8, block(8, 2));
    const lost = await Volume.open(d2.crash({ fate: () => "drop", tornRanges: () => [] }), o2);
    expect(lost.headLsn).toBe(0);
    expect((await lost.read(8, BS)).equals(Buffer.alloc(BS))).toBe(true);
    await Promise.all([vol.close(), v2.close(), lost.close()]);
  });

  it("SimDevice: an O_DSYNC write is durable at once and supersedes older unsynced writes to its range", async () => {
    const dev = new SimDevice(4096);
    await dev.writev([Buffer.alloc(1024, 1)], 0); // unsynced
    await dev.writevDurable([Buffer.alloc(512, 2)], 256);
    const keepAll = dev.crashImage({ fate: () => "keep", tornRanges: () => [] });
    const dropAll = dev.crashImage({ fate: () => "drop", tornRanges: () => [] });
    const want = Buffer.concat([Buffer.alloc(256, 1), Buffer.alloc(512, 2), Buffer.alloc(256, 1)]);
    expect(keepAll.subarray(0, 1024).equals(want)).toBe(true);
    expect(
      dropAll
        .subarray(0, 1024)
        .equals(Buffer.concat([Buffer.alloc(256), Buffer.alloc(512, 2), Buffer.alloc(256)])),
    ).toBe(true);
  });

  it("group commit: flushes arriving during a sync share the next one", async () => {
    const { vol, dev } = await simVolume();
    await vol.write(0, block(0, 1));
    const before = dev.syncCount;
    const first = vol.flush();
    await vol.write(1, block(1, 1));
    const second = Promise.all([vol.flush(), vol.flush(), vol.flush()]);
    expect(await first).toBeGreaterThanOrEqual(1);
    expect(await second).toEqual([2, 2, 2]);
    expect(dev.syncCount - before).toBe(2);
    await vol.close();
  });

  it("concurrent writes are coalesced into few device writes", async () => {
    const { vol, dev } = await simVolume();
    const before = dev.writeCount;
    await Promise.all(Array.from({ length: 12 }, (_, i) => vol.write(i, block(i, 3))));
    expect(dev.writeCount - before).toBeLessThanOrEqual(2);
    expect(vol.stats().admission.batches).toBeLessThanOrEqual(2);
    await vol.close();
  });

  it("create refuses a device that is too small", async () => {
    await expectReason(
      Volume.create(new SimDevice(8192), { volumeSizeBytes: 64 * BS, walSizeBytes: 16384, blockSize: BS }),
      "too_small",
    );
  });
});

describe("reads racing the ring", () => {
  it("a WAL read whose slot was reused meanwhile is retried and returns the right block", async () => {
    const { vol, dev } = await simVolume();
    const a = block(5, 0xaaaa);
    await vol.write(5, a); // LSN 1 at WAL offset 0: payload at device offset 4096 + 48
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let blocked = false;
    dev.beforeRead = (off, len) => {
      if (off === 4096 + 48 && len === BS && !blocked) {
        blocked = true;
        return gate;
      }
      return undefined;
    };
    const read = vol.read(5, BS);
    await waitFor(() => blocked, "the read to reach the device");
    // Flush LBA 5 to the extent, then lap the ring so the slot holds other data.
    await vol.checkpoint();
    for (let i = 0; i < 40; i++) await vol.write(10 + (i % 20), block(10, i));
    expect(vol.stats().walUsedBytes).toBeLessThan(16 * 1024);
    expect(vol.headLsn).toBeGreaterThan(30);
    release();
    expect((await read).equals(a)).toBe(true);
    await vol.close();
  });

  it("emits appended so a shipper can wake without polling", async () => {
    const { vol } = await simVolume();
    const heads: number[] = [];
    vol.on("appended", (h) => heads.push(h));
    await Promise.all([vol.write(0, block(0, 1)), vol.write(1, block(1, 1))]);
    await vol.write(2, block(2, 1));
    expect(heads[heads.length - 1]).toBe(3);
    expect(heads.length).toBeLessThanOrEqual(3);
    await vol.close();
  });
});

describe("sync service", () => {
  it("runs one fdatasync at a time; requests during a sync share the next one", async () => {
    const { SyncService } = await import("../src/sync-service");
    const { SimDevice } = await import("../src/index");
    const dev = new SimDevice(8192);
    const svc = new SyncService(dev);
    const first = svc.sync();
    const waiting = [svc.sync(), svc.sync(), svc.sync()];
    await Promise.all([first, ...waiting]);
    expect(dev.syncCount).toBe(2);
    dev.failSync = () => new Error("EIO");
    await expect(svc.sync()).rejects.toThrow("EIO");
  });
});
