import { describe, expect, it } from "vitest";
import { Volume } from "../src/index";
import { BS, block, expectReason, SMALL, simVolume } from "./helpers";

describe("bad input gets a typed error and changes nothing", () => {
  it("rejects bad writes, trims and reads", async () => {
    const { vol } = await simVolume();
    await vol.write(0, block(0, 1));
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => vol.write(64, block(64, 1)), "out_of_range"],
      [() => vol.write(63, block(63, 1, 2)), "out_of_range"],
      [() => vol.write(-1, block(0, 1)), "out_of_range"],
      [() => vol.write(1.5, block(0, 1)), "out_of_range"],
      [() => vol.write(Number.NaN, block(0, 1)), "out_of_range"],
      [() => vol.write(0, Buffer.alloc(BS + 1)), "invalid_argument"],
      [() => vol.write(0, Buffer.alloc(0)), "invalid_argument"],
      [() => vol.write(0, Buffer.alloc(8 * BS)), "invalid_argument"], // over maxWriteBytes (3584)
      [() => vol.write(0, "abc" as unknown as Buffer), "invalid_argument"],
      [() => vol.trim(0, 0), "invalid_argument"],
      [() => vol.trim(0, 100), "invalid_argument"],
      [() => vol.trim(60, 8 * BS), "out_of_range"],
      [() => vol.read(0, 0), "invalid_argument"],
      [() => vol.read(64, BS), "out_of_range"],
      [() => vol.read(0, 3), "invalid_argument"],
      [() => vol.setEpoch(-1), "invalid_argument"],
      [() => vol.truncateToLsn(-1), "invalid_argument"],
      [() => vol.readRecords(1, 0), "invalid_argument"],
      [() => vol.appendRecords(Buffer.from("not records at all, clearly")), "corrupt"],
    ];
    for (const [call, reason] of cases) await expectReason(call(), reason as "invalid_argument");
    expect(vol.headLsn).toBe(1);
    expect((await vol.read(0, BS)).equals(block(0, 1))).toBe(true);
    await vol.close();
  });

  it("rejects bad create options", async () => {
    const { SimDevice } = await import("../src/index");
    const dev = new SimDevice(1 << 20);
    await expectReason(Volume.create(dev, { ...SMALL, blockSize: 1000 }), "invalid_argument");
    await expectReason(Volume.create(dev, { ...SMALL, volumeSizeBytes: 1000 }), "invalid_argument");
    await expectReason(Volume.create(dev, { ...SMALL, walSizeBytes: 5000 }), "invalid_argument");
    await expectReason(Volume.create(dev, { ...SMALL, softWatermark: 0.95 }), "invalid_argument");
    await expectReason(Volume.create(dev, { ...SMALL, maxWriteBytes: 8 * 1024 }), "invalid_argument");
    await expectReason(
      Volume.create(dev, { ...SMALL, retentionMaxHeldBytes: 16 * 1024 }),
      "invalid_argument",
    );
    await expectReason(Volume.create(dev, { ...SMALL, epoch: -3 }), "invalid_argument");
    expect(dev.writeCount).toBe(0); // validation happens before touching the device
  });
});

describe("I/O failures fail loudly and never burn an LSN", () => {
  it("a failed WAL append rejects, fails the volume, and leaves no LSN hole", async () => {
    const { vol, dev, opts } = await simVolume();
    await vol.write(0, block(0, 1));
    await vol.flush();
    dev.failWrite = () => new Error("EIO (injected)");
    await expectReason(vol.write(1, block(1, 1)), "io_error");
    dev.failWrite = undefined;
    await expectReason(vol.write(2, block(2, 1)), "volume_failed");
    await expectReason(vol.flush(), "volume_failed");
    expect(vol.headLsn).toBe(1);
    const again = await Volume.open(dev.snapshot(), opts);
    expect(await again.write(3, block(3, 1))).toBe(2);
    await again.close();
  });

  it("a failed fdatasync fails the flush (never a lying ack) and the volume", async () => {
    const { vol, dev } = await simVolume();
    await vol.write(0, block(0, 1));
    dev.failSync = () => new Error("EIO on fsync (injected)");
    await expectReason(vol.flush(), "io_error");
    dev.failSync = undefined;
    await expectReason(vol.flush(), "volume_failed");
    expect(vol.durableLsn).toBe(0);
    const events: unknown[] = [];
    vol.on("failed", (e) => events.push(e));
    await vol.close();
  });

  it("a failed superblock write is an error: setEpoch rejects and the epoch stays", async () => {
    const { vol, dev, opts } = await simVolume({ epoch: 1 });
    dev.failWrite = (off) => (off < 4096 ? new Error("EIO (injected)") : undefined);
    await expectReason(vol.setEpoch(2), "io_error");
    expect(vol.epoch).toBe(1);
    dev.failWrite = undefined;
    const again = await Volume.open(dev.snapshot(), opts);
    expect(again.epoch).toBe(1);
    await again.close();
  });

  it("a torn superblock write falls back to the other copy", async () => {
    const { vol, dev, opts } = await simVolume({ epoch: 1 });
    await vol.setEpoch(2);
    // Tear the next superblock write (epoch 3) completely: the previous generation must still open.
    dev.failSync = () => new Error("power loss");
    await expectReason(vol.setEpoch(3), "io_error");
    const image = dev.crash({ fate: () => "tear", tornRanges: (n) => [[0, Math.floor(n / 3)]] });
    const again = await Volume.open(image, opts);
    expect(again.epoch).toBe(2);
    await again.close();
  });
});
