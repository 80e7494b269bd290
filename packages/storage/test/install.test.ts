import { describe, expect, it } from "vitest";
import { type CrashChooser, Volume } from "../src/index";
import { BS, block, expectReason, simVolume } from "./helpers";

const dropAll: CrashChooser = { fate: () => "drop", tornRanges: () => [] };
const VOL_BYTES = 64 * BS;

async function streamImage(
  src: Volume,
  dst: Volume,
  chunkBytes: number,
  during?: (i: number) => Promise<void>,
): Promise<void> {
  for (let off = 0, i = 0; off < VOL_BYTES; off += chunkBytes, i++) {
    await dst.writeInstallChunk(off, await src.readExtent(off, chunkBytes));
    await during?.(i);
  }
}

describe("base image install (rebuild target) and rebuild source", () => {
  it("installs a fuzzy base image, then the WAL tail makes the replica identical", async () => {
    const { vol: p } = await simVolume({ epoch: 3 });
    const { vol: r } = await simVolume({ epoch: 1 });
    for (let i = 0; i < 40; i++) await r.write(i % 64, block(i, 99)); // old, diverged history
    await r.flush();
    for (let i = 0; i < 20; i++) await p.write(i, block(i, 1, 2));
    await p.checkpoint();
    const { baseLsn } = p.pinBaseImage("vol/r");
    expect(baseLsn).toBe(20);
    await r.beginInstall();
    await streamImage(p, r, 4 * BS, async (i) => {
      // The primary keeps writing and checkpointing while the image streams.
      await p.write(i % 64, block(i % 64, 2));
      if (i % 4 === 0) await p.checkpoint();
    });
    const imageHighLsn = p.extentHighLsn;
    // The tail is staged before the commit: the commit point covers image and tail together.
    let staged = { firstLsn: 0, lastLsn: baseLsn, count: 0 };
    while (staged.lastLsn < p.headLsn) {
      staged = await r.stageInstallTail((await p.readRecords(staged.lastLsn + 1, 4000)).bytes);
    }
    expect(r.headLsn).toBe(40); // nothing visible before the commit
    await r.commitInstall(baseLsn, 3, { imageHighLsn });
    expect([r.headLsn, r.durableLsn, r.epoch]).toEqual([p.headLsn, p.headLsn, 3]);
    // This tail is larger than the replica's WAL budget: its older records went straight to the extent.
    expect(r.checkpointLsn).toBeGreaterThan(baseLsn);
    expect(r.extentHighLsn).toBeGreaterThanOrEqual(Math.max(imageHighLsn, r.checkpointLsn));
    expect((await r.read(0, VOL_BYTES)).equals(await p.read(0, VOL_BYTES))).toBe(true);
    // Live shipping continues the CRC chain of the installed tail.
    await p.write(5, block(5, 9));
    await r.appendRecords((await p.readRecords(r.headLsn + 1, 4000)).bytes);
    expect((await r.read(0, VOL_BYTES)).equals(await p.read(0, VOL_BYTES))).toBe(true);
    // The image may hold effects up to imageHighLsn: truncating below it is refused.
    if (imageHighLsn > baseLsn) await expectReason(r.truncateToLsn(baseLsn), "truncation_unsafe");
    await Promise.all([p.close(), r.close()]);
  });

  it("an aborted install leaves the old state intact", async () => {
    const { vol, staging } = await simVolume();
    await vol.write(1, block(1, 1));
    await vol.beginInstall();
    await vol.writeInstallChunk(0, Buffer.alloc(8 * BS, 7));
    await vol.abortInstall();
    expect(staging.device).toBeUndefined();
    expect((await vol.read(0, 2 * BS)).equals(Buffer.concat([Buffer.alloc(BS), block(1, 1)]))).toBe(true);
    expect(vol.headLsn).toBe(1);
    await vol.close();
  });

  it("a crash before the commit point leaves the old state; a resumed install keeps staged chunks", async () => {
    const { vol, dev, opts, staging } = await simVolume();
    await vol.write(1, block(1, 1));
    await vol.flush();
    await vol.beginInstall();
    await vol.writeInstallChunk(0, Buffer.alloc(32 * BS, 7));
    const after = await Volume.open(dev.crash(dropAll), opts);
    expect((await after.read(1, BS)).equals(block(1, 1))).toBe(true);
    await after.beginInstall({ resume: true });
    await after.writeInstallChunk(32 * BS, Buffer.alloc(32 * BS, 8));
    await after.writeInstallChunk(0, Buffer.alloc(32 * BS, 7)); // re-sent chunk: idempotent
    await after.commitInstall(50, 0);
    expect(
      (await after.read(0, VOL_BYTES)).equals(
        Buffer.concat([Buffer.alloc(32 * BS, 7), Buffer.alloc(32 * BS, 8)]),
      ),
    ).toBe(true);
    expect(after.headLsn).toBe(50);
    expect(await after.write(0, block(0, 3))).toBe(51);
    expect(staging.device).toBeUndefined();
    await after.close();
  });

  it("a crash after the commit point is finished by open()", async () => {
    const { vol, dev, opts } = await simVolume({ epoch: 2 });
    for (let i = 0; i < 10; i++) await vol.write(i, block(i, 1));
    await vol.flush();
    await vol.beginInstall();
    await vol.writeInstallChunk(0, Buffer.alloc(VOL_BYTES, 5));
    const extentStart = 4096 + 16 * 1024;
    dev.failWrite = (off) => (off >= extentStart ? new Error("EIO (injected)") : undefined);
    await expectReason(vol.commitInstall(100, 4), "io_error");
    expect(vol.failed?.reason).toBe("volume_failed");
    const rebooted = dev.crash(dropAll);
    const after = await Volume.open(rebooted, opts);
    expect([after.headLsn, after.checkpointLsn, after.epoch]).toEqual([100, 100, 4]);
    expect((await after.read(0, VOL_BYTES)).equals(Buffer.alloc(VOL_BYTES, 5))).toBe(true);
    // Recovery of the finished install is stable.
    await after.close();
    const third = await Volume.open(rebooted.crash(dropAll), opts);
    expect(third.headLsn).toBe(100);
    await third.close();
  });

  it("a pending install with its staging image gone is refused as corrupt", async () => {
    const { vol, dev, opts, staging } = await simVolume();
    await vol.beginInstall();
    dev.failWrite = (off) => (off >= 4096 + 16 * 1024 ? new Error("EIO") : undefined);
    await expectReason(vol.commitInstall(5, 0), "io_error");
    await staging.remove();
    await expectReason(Volume.open(dev.crash(dropAll), opts), "corrupt");
  });

  it("rejects bad install calls with typed errors", async () => {
    const { vol } = await simVolume({ epoch: 5 });
    await expectReason(vol.writeInstallChunk(0, Buffer.alloc(BS)), "install_state");
    await expectReason(vol.commitInstall(1, 5), "install_state");
    await vol.beginInstall();
    await expectReason(vol.beginInstall(), "install_state");
    await expectReason(vol.writeInstallChunk(1, Buffer.alloc(BS)), "invalid_argument");
    await expectReason(vol.writeInstallChunk(0, Buffer.alloc(BS + 1)), "invalid_argument");
    await expectReason(vol.writeInstallChunk(0, Buffer.alloc(0)), "invalid_argument");
    await expectReason(vol.writeInstallChunk(VOL_BYTES, Buffer.alloc(BS)), "out_of_range");
    await expectReason(vol.commitInstall(1, 4), "epoch_regression");
    await expectReason(vol.commitInstall(5, 5, { imageHighLsn: 4 }), "invalid_argument");
    await expectReason(vol.readExtent(1, BS), "invalid_argument");
    await expectReason(vol.readExtent(0, VOL_BYTES + BS), "out_of_range");
    await vol.abortInstall();
    await vol.close();
    const { vol: noStaging } = await simVolume({ staging: undefined });
    await expectReason(noStaging.beginInstall(), "install_state");
    await noStaging.close();
  });
});
