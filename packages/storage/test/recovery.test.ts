import { describe, expect, it } from "vitest";
import { type CrashChooser, RECORD_HEADER_BYTES, Volume } from "../src/index";
import { BS, block, expectReason, simVolume } from "./helpers";

const dropAll: CrashChooser = { fate: () => "drop", tornRanges: () => [] };
const keepAll: CrashChooser = { fate: () => "keep", tornRanges: () => [] };

describe("crash recovery", () => {
  it("keeps flushed writes and loses unflushed ones when the disk drops them", async () => {
    const { vol, dev, opts } = await simVolume();
    await vol.write(1, block(1, 1));
    await vol.write(2, block(2, 1));
    await vol.flush();
    await vol.write(3, block(3, 1));
    await vol.write(1, block(1, 2));
    const after = await Volume.open(dev.crash(dropAll), opts);
    expect(after.headLsn).toBe(2);
    expect(
      (await after.read(1, 3 * BS)).equals(Buffer.concat([block(1, 1), block(2, 1), Buffer.alloc(BS)])),
    ).toBe(true);
    expect(after.recovery.replayed).toBe(2);
    await after.close();
  });

  it("replays unflushed writes that did reach the disk, in LSN order", async () => {
    const { vol, dev, opts } = await simVolume();
    for (let i = 0; i < 5; i++) await vol.write(7, block(7, i));
    await vol.trim(8, 2 * BS);
    await vol.write(9, block(9, 9));
    const after = await Volume.open(dev.crash(keepAll), opts);
    expect(after.headLsn).toBe(7);
    expect(
      (await after.read(7, 3 * BS)).equals(Buffer.concat([block(7, 4), Buffer.alloc(BS), block(9, 9)])),
    ).toBe(true);
    await after.close();
  });

  it("stops at the first corrupt record: head = byte end of the last valid one", async () => {
    const { vol, dev, opts } = await simVolume();
    for (let i = 0; i < 6; i++) await vol.write(i, block(i, 1));
    await vol.flush();
    const image = dev.crashImage(keepAll);
    // Flip one payload byte of record 4 (records are 48 + 512 bytes, WAL starts at 4096).
    const rec4 = 4096 + 3 * (RECORD_HEADER_BYTES + BS);
    image[rec4 + RECORD_HEADER_BYTES + 10]! ^= 0x01;
    const { SimDevice } = await import("../src/index");
    const after = await Volume.open(new SimDevice(image.length, image), opts);
    expect(after.headLsn).toBe(3);
    expect(after.recovery.stopReason).toMatch(/CRC/);
    expect((await after.read(3, BS)).equals(Buffer.alloc(BS))).toBe(true);
    // The next append lands right after LSN 3 and gets LSN 4: no hole, nothing recovered is overwritten.
    expect(await after.write(20, block(20, 5))).toBe(4);
    expect((await after.read(0, 3 * BS)).equals(Buffer.concat([block(0, 1), block(1, 1), block(2, 1)]))).toBe(
      true,
    );
    await after.close();
  });

  it("recovery twice gives the same state and never overwrites recovered records", async () => {
    const { vol, dev, opts } = await simVolume();
    for (let i = 0; i < 4; i++) await vol.write(i, block(i, 1));
    await vol.flush(); // durable in the WAL only: no checkpoint yet (superblock head/tail still 0)
    const crashed = dev.crash(dropAll);
    const first = await Volume.open(crashed, opts);
    const s1 = { head: first.headLsn, data: await first.read(0, 8 * BS) };
    // Crash again right away (nothing new written): same state.
    const second = await Volume.open(crashed.crash(dropAll), opts);
    expect({ head: second.headLsn, data: await second.read(0, 8 * BS) }).toEqual(s1);
    await first.close();
    await second.close();
    expect(s1.head).toBe(4);
  });

  it("appends after recovery never clobber recovered-but-unflushed records", async () => {
    const { vol, dev, opts } = await simVolume();
    for (let i = 0; i < 3; i++) await vol.write(i, block(i, 1));
    await vol.flush();
    const d1 = dev.crash(dropAll);
    const v1 = await Volume.open(d1, opts);
    await v1.write(10, block(10, 2));
    await v1.flush();
    const d2 = d1.crash(dropAll);
    const v2 = await Volume.open(d2, opts);
    expect(v2.headLsn).toBe(4);
    expect((await v2.read(0, 3 * BS)).equals(Buffer.concat([block(0, 1), block(1, 1), block(2, 1)]))).toBe(
      true,
    );
    expect((await v2.read(10, BS)).equals(block(10, 2))).toBe(true);
    await v2.close();
  });

  it("wraps the ring with padding many times and stays correct across reopen", async () => {
    const { vol, dev, opts } = await simVolume({ flushIntervalMs: 1 });
    const expected = new Map<number, Buffer>();
    for (let i = 0; i < 300; i++) {
      const lba = (i * 7) % 60;
      const n = 1 + (i % 3);
      const data = block(lba, i, n);
      await vol.write(lba, data);
      for (let k = 0; k < n; k++) expected.set(lba + k, data.subarray(k * BS, (k + 1) * BS));
      if (i % 10 === 0) await vol.flush();
    }
    await vol.flush();
    const image = dev.crash(dropAll);
    for (const [lba, data] of expected)
      expect((await vol.read(lba, BS)).equals(data), `lba ${lba}`).toBe(true);
    expect(vol.stats().flusherCycles).toBeGreaterThan(3);
    const after = await Volume.open(image, opts);
    for (const [lba, data] of expected)
      expect((await after.read(lba, BS)).equals(data), `lba ${lba} after crash`).toBe(true);
    expect(after.headLsn).toBe(300);
    await after.close();
    await vol.close();
  });

  it("refuses a foreign device and a device smaller than its superblock says", async () => {
    const { vol, dev, opts } = await simVolume();
    await vol.close();
    const { SimDevice } = await import("../src/index");
    await expectReason(Volume.open(new SimDevice(dev.sizeBytes), opts), "foreign_device");
    const image = dev.crashImage(keepAll);
    await expectReason(Volume.open(new SimDevice(image.length - BS, image), opts), "too_small");
    const corrupt = Buffer.from(image);
    corrupt[50]! ^= 1;
    corrupt[2048 + 50]! ^= 1;
    await expectReason(Volume.open(new SimDevice(corrupt.length, corrupt), opts), "corrupt");
  });
});
