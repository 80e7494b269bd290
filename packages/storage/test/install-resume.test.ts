// The install resume point: where a restarted rebuild may continue its staged image. It survives a
// crash or a restart with the staging content it describes, and goes whenever that content goes.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { type CrashChooser, createVolumeFile, openVolumeFile, Volume } from "../src/index";
import { decodeResumePoint, encodeResumePoint } from "../src/install-resume";
import { BS, block, expectReason, simVolume, tmpDir } from "./helpers";

const dropAll: CrashChooser = { fate: () => "drop", tornRanges: () => [] };
const VOL_BYTES = 64 * BS;
const point = { epoch: 3, baseLsn: 40, imageBytes: 32 * BS, sourceId: "primary-a" };

describe("install resume point", () => {
  it("survives a crash with the staged image it describes (its bytes synced first)", async () => {
    const { vol, dev, opts, staging } = await simVolume();
    await vol.beginInstall();
    await vol.writeInstallChunk(0, Buffer.alloc(32 * BS, 7));
    await vol.saveInstallResumePoint(point);
    await vol.writeInstallChunk(32 * BS, Buffer.alloc(16 * BS, 8)); // after the point: may be lost
    staging.crash(dropAll); // unsynced staging writes are lost
    const after = await Volume.open(dev.crash(dropAll), opts);
    await after.beginInstall({ resume: true });
    expect(await after.installResumePoint()).toEqual(point);
    // Every byte the point names is there although the crash dropped everything unsynced.
    const image = await staging.device!.snapshot();
    const kept = Buffer.alloc(32 * BS);
    await image.read(kept, 0);
    expect(kept.equals(Buffer.alloc(32 * BS, 7))).toBe(true);
    await after.writeInstallChunk(32 * BS, Buffer.alloc(32 * BS, 9));
    await after.commitInstall(point.baseLsn, point.epoch);
    expect(staging.resumeRecord).toBeUndefined(); // a commit ends it
    const want = Buffer.concat([Buffer.alloc(32 * BS, 7), Buffer.alloc(32 * BS, 9)]);
    expect((await after.read(0, VOL_BYTES)).equals(want)).toBe(true);
    await after.close();
  });

  it("goes with the staged image: a fresh begin and an abort drop it; none without an install", async () => {
    const { vol, staging } = await simVolume();
    await expectReason(vol.installResumePoint(), "install_state");
    await expectReason(vol.saveInstallResumePoint(point), "install_state");
    await vol.beginInstall();
    await vol.writeInstallChunk(0, Buffer.alloc(32 * BS, 7));
    await vol.saveInstallResumePoint(point);
    await vol.abortInstall();
    expect(staging.resumeRecord).toBeUndefined();
    await vol.beginInstall();
    await vol.saveInstallResumePoint(point);
    await vol.abortInstall().catch(() => undefined);
    await vol.beginInstall({ resume: false });
    expect(await vol.installResumePoint()).toBeUndefined();
    await vol.close();
  });

  it("refuses points that name more than the image or partial blocks", async () => {
    const { vol } = await simVolume();
    await vol.beginInstall();
    await expectReason(
      vol.saveInstallResumePoint({ ...point, imageBytes: VOL_BYTES + BS }),
      "invalid_argument",
    );
    await expectReason(vol.saveInstallResumePoint({ ...point, imageBytes: BS + 1 }), "invalid_argument");
    await expectReason(vol.saveInstallResumePoint({ ...point, baseLsn: -1 }), "invalid_argument");
    await vol.close();
  });

  it("a torn, foreign or impossible record reads as none (the install starts from 0)", () => {
    const good = encodeResumePoint(point);
    expect(decodeResumePoint(good, VOL_BYTES, BS)).toEqual(point);
    for (const bad of [
      good.slice(0, good.length / 2),
      "",
      "{}",
      JSON.stringify({ ...JSON.parse(good), format: "other/1" }),
      JSON.stringify({ ...JSON.parse(good), imageBytes: VOL_BYTES * 2 }),
      JSON.stringify({ ...JSON.parse(good), epoch: "3" }),
    ]) {
      expect(decodeResumePoint(bad, VOL_BYTES, BS)).toBeUndefined();
    }
  });

  it("file volumes (swap staging): kept across a restart; dropped when the staging file is not a pure image", async () => {
    const { dir, cleanup } = tmpDir("blockship-resume-");
    try {
      const file = path.join(dir, "v.img");
      const created = await createVolumeFile(file, {
        volumeSizeBytes: VOL_BYTES,
        walSizeBytes: 16 * 1024,
        blockSize: BS,
      });
      await created.write(0, block(0, 1));
      await created.flush();
      await created.beginInstall();
      await created.writeInstallChunk(0, Buffer.alloc(32 * BS, 7));
      await created.saveInstallResumePoint(point);
      await created.close(); // a restart mid-transfer
      expect(fs.existsSync(`${file}.install-resume`)).toBe(true);

      const again = await openVolumeFile(file);
      await again.beginInstall({ resume: true });
      expect(await again.installResumePoint()).toEqual(point);
      await again.close();

      // A staging file whose superblock region was written (a build had started) is not kept.
      const fd = fs.openSync(`${file}.install`, "r+");
      fs.writeSync(fd, Buffer.from("not an image"), 0, 12, 0);
      fs.closeSync(fd);
      const third = await openVolumeFile(file);
      await third.beginInstall({ resume: true });
      expect(await third.installResumePoint()).toBeUndefined();
      expect(fs.existsSync(`${file}.install-resume`)).toBe(false);
      await third.abortInstall();
      await third.close();
    } finally {
      cleanup();
    }
  });
});
