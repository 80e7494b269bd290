import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  type CrashChooser,
  createVolumeFile,
  encodeRecord,
  openVolumeFile,
  RecordType,
  SimTailFile,
  Volume,
} from "../src/index";
import { BS, block, expectReason, simVolume, tmpDir } from "./helpers";
import { batches, buildTail, imageOf, nextRecord, type TailOp, VOL_BYTES } from "./install-support";

const dropAll: CrashChooser = { fate: () => "drop", tornRanges: () => [] };

const w = (lba: number, tag: number, blocks = 1, epochStep = 0): TailOp => ({
  trim: false,
  lba,
  blocks,
  tag,
  epochStep,
});

describe("staged WAL tail of a base-image install", () => {
  it("commits image and tail together; a tail that fits stays in the WAL (checkpoint = baseLsn)", async () => {
    const { vol, dev, opts, staging } = await simVolume({ epoch: 2 });
    await vol.write(3, block(3, 1));
    await vol.flush();
    const image = imageOf(7);
    const tail = buildTail(50, 2, [w(1, 8), { ...w(2, 0, 2), trim: true }, w(1, 9, 1, 1)], image);
    await vol.beginInstall();
    await vol.writeInstallChunk(0, image);
    expect(await vol.stageInstallTail(Buffer.concat(tail.records.slice(0, 2)))).toEqual({
      firstLsn: 51,
      lastLsn: 52,
      count: 2,
    });
    expect(await vol.stageInstallTail(tail.records[2]!)).toEqual({ firstLsn: 51, lastLsn: 53, count: 3 });
    expect(await vol.stageInstallTail(Buffer.alloc(0))).toEqual({ firstLsn: 51, lastLsn: 53, count: 3 });
    // Nothing is visible before the commit.
    expect(vol.headLsn).toBe(1);
    expect((await vol.read(3, BS)).equals(block(3, 1))).toBe(true);
    await vol.commitInstall(50, 3, { imageHighLsn: 52 });
    expect([
      vol.headLsn,
      vol.durableLsn,
      vol.checkpointLsn,
      vol.tailLsn,
      vol.extentHighLsn,
      vol.epoch,
    ]).toEqual([53, 53, 50, 50, 52, 3]);
    expect((await vol.read(0, VOL_BYTES)).equals(tail.expected)).toBe(true);
    expect(staging.tail).toBeUndefined();
    // The tail records are retained and shippable, and live appends continue their CRC chain.
    expect((await vol.readRecords(51, 1 << 20)).bytes.equals(Buffer.concat(tail.records))).toBe(true);
    expect((await vol.appendRecords(nextRecord(tail, 5, 4))).headLsn).toBe(54);
    await vol.flush();
    const after = await Volume.open(dev.crash(dropAll), opts);
    expect(after.headLsn).toBe(54);
    expect((await after.read(0, 4 * BS)).equals(tail.expected.subarray(0, 4 * BS))).toBe(true);
    await after.close();
  });

  it("rejects bad tail batches with typed errors and changes nothing", async () => {
    const { vol, staging } = await simVolume({ epoch: 5 });
    const tail = buildTail(10, 3, [w(1, 1), w(2, 2, 2), w(3, 3), w(4, 4)], Buffer.alloc(VOL_BYTES));
    const [r11, r12, r13, r14] = tail.records as [Buffer, Buffer, Buffer, Buffer];
    await expectReason(vol.stageInstallTail(r11), "install_state");
    await vol.beginInstall();
    await expectReason(vol.stageInstallTail("x" as unknown as Buffer), "invalid_argument");
    for (let bit = 0; bit < r11.length * 8; bit += 97) {
      const flipped = Buffer.from(r11);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      await expectReason(vol.stageInstallTail(flipped), "corrupt");
    }
    await expectReason(vol.stageInstallTail(r11.subarray(0, r11.length - 1)), "corrupt");
    const padding = encodeRecord({
      type: RecordType.PADDING,
      lsn: 11,
      epoch: 3,
      lba: 0,
      blockCount: 0,
      blockSize: BS,
    });
    await expectReason(vol.stageInstallTail(padding), "corrupt");
    await expectReason(vol.stageInstallTail(Buffer.concat([r11, r13])), "corrupt"); // LSN hole inside a batch
    const beyond = encodeRecord({
      type: RecordType.TRIM,
      lsn: 11,
      epoch: 3,
      lba: 64,
      blockCount: 1,
      blockSize: BS,
    });
    await expectReason(vol.stageInstallTail(beyond), "out_of_range");
    const down = buildTail(10, 3, [w(1, 1), w(2, 2, 1, -1)], imageOf(0));
    await expectReason(vol.stageInstallTail(Buffer.concat(down.records)), "epoch_mismatch");
    expect(await vol.stageInstallTail(r11)).toEqual({ firstLsn: 11, lastLsn: 11, count: 1 });
    await expectReason(vol.stageInstallTail(r13), "lsn_gap");
    await expectReason(vol.stageInstallTail(r11), "lsn_gap"); // no silent duplicates
    const other = buildTail(11, 3, [w(9, 9)], imageOf(0)); // LSN 12 of another log
    await expectReason(vol.stageInstallTail(other.records[0]!), "log_mismatch");
    const lowered = encodeRecord({
      type: RecordType.WRITE,
      lsn: 12,
      epoch: 2,
      lba: 2,
      blockCount: 2,
      blockSize: BS,
      data: block(2, 2, 2),
      prevCrc: r11.readUInt32LE(0),
    });
    await expectReason(vol.stageInstallTail(lowered), "epoch_mismatch");
    expect(await vol.stageInstallTail(Buffer.concat([r12, r13]))).toEqual({
      firstLsn: 11,
      lastLsn: 13,
      count: 3,
    });
    // Commit checks: tail must start at baseLsn + 1, fit the install epoch, and reach imageHighLsn.
    const restage = async (): Promise<void> => {
      await vol.beginInstall();
      await vol.stageInstallTail(Buffer.concat([r11, r12, r13]));
    };
    await expectReason(vol.commitInstall(9, 5), "lsn_gap");
    await restage();
    await expectReason(vol.commitInstall(10, 5, { imageHighLsn: 14 }), "lsn_gap");
    await restage();
    const rejectedEpoch = encodeRecord({
      type: RecordType.WRITE,
      lsn: 14,
      epoch: 6,
      lba: 5,
      blockCount: 1,
      blockSize: BS,
      data: block(5, 5),
      prevCrc: r13.readUInt32LE(0),
    });
    await vol.stageInstallTail(rejectedEpoch);
    await expectReason(vol.commitInstall(10, 5), "epoch_mismatch");
    // A rejected commit ends the install (staging discarded); the old state is untouched.
    expect([staging.device, staging.tail, vol.headLsn]).toEqual([undefined, undefined, 0]);
    await expectReason(vol.stageInstallTail(r11), "install_state");
    await vol.beginInstall();
    expect(await vol.stageInstallTail(Buffer.concat(tail.records))).toEqual({
      firstLsn: 11,
      lastLsn: 14,
      count: 4,
    });
    await vol.commitInstall(10, 5, { imageHighLsn: 14 });
    expect([vol.headLsn, vol.checkpointLsn]).toEqual([14, 10]);
    expect((await vol.read(1, 5 * BS)).equals(tail.expected.subarray(BS, 6 * BS))).toBe(true);
    await expectReason(vol.stageInstallTail(r14), "install_state"); // install finished
    await vol.close();
    await expectReason(vol.stageInstallTail(r11), "volume_closed");
  });

  it("reset discards the staged tail; resume keeps image chunks but not the tail; abort drops both", async () => {
    const { vol, staging } = await simVolume();
    const image = imageOf(3);
    const tail = buildTail(20, 0, [w(0, 1), w(1, 2), w(2, 3)], image);
    await vol.beginInstall();
    await vol.writeInstallChunk(0, image);
    await vol.stageInstallTail(Buffer.concat(tail.records.slice(0, 2)));
    expect(await vol.stageInstallTail(tail.records[0]!, { reset: true })).toEqual({
      firstLsn: 21,
      lastLsn: 21,
      count: 1,
    });
    expect(await staging.tail?.sizeBytes()).toBe(tail.records[0]!.length);
    await vol.abortInstall();
    expect([staging.device, staging.tail]).toEqual([undefined, undefined]);
    await vol.beginInstall();
    await vol.writeInstallChunk(0, image);
    await vol.stageInstallTail(tail.records[0]!);
    await vol.close(); // like a process exit: the next begin resumes
    const { vol: again } = await simVolume({ staging });
    await again.beginInstall({ resume: true });
    expect(await staging.tail?.sizeBytes()).toBe(0);
    expect(await again.stageInstallTail(Buffer.concat(tail.records))).toEqual({
      firstLsn: 21,
      lastLsn: 23,
      count: 3,
    });
    await again.commitInstall(20, 0);
    expect((await again.read(0, VOL_BYTES)).equals(tail.expected)).toBe(true);
    await again.close();
  });

  it("a tail several times the WAL size goes through (older records straight to the extent)", async () => {
    const { vol, dev, opts } = await simVolume({ epoch: 1 });
    const image = imageOf(2);
    const ops = Array.from({ length: 120 }, (_, i) => w((i * 7) % 61, 100 + i, 1 + (i % 4)));
    const tail = buildTail(1000, 1, ops, image);
    const tailBytes = tail.records.reduce((n, r) => n + r.length, 0);
    expect(tailBytes).toBeGreaterThan(8 * 16 * 1024);
    await vol.beginInstall();
    await vol.writeInstallChunk(0, image);
    for (const b of batches(tail.records, [5, 17, 1, 30])) await vol.stageInstallTail(b);
    await vol.commitInstall(1000, 1, { imageHighLsn: 1060 });
    expect(vol.headLsn).toBe(1120);
    expect(vol.checkpointLsn).toBeGreaterThan(1000);
    expect(vol.tailLsn).toBe(vol.checkpointLsn);
    expect(vol.extentHighLsn).toBe(Math.max(1060, vol.checkpointLsn));
    expect((await vol.read(0, VOL_BYTES)).equals(tail.expected)).toBe(true);
    // The volume keeps working normally: more appends, a checkpoint, a reopen.
    await vol.appendRecords(nextRecord(tail, 0, 77));
    await vol.checkpoint();
    await vol.flush();
    const after = await Volume.open(dev.crash(dropAll), opts);
    const want = Buffer.from(tail.expected);
    block(0, 77).copy(want, 0);
    expect(after.headLsn).toBe(1121);
    expect((await after.read(0, VOL_BYTES)).equals(want)).toBe(true);
    await after.close();
  });

  it("a pending install whose staged tail is missing or short is refused as corrupt", async () => {
    const { vol, dev, opts, staging } = await simVolume();
    const image = imageOf(1);
    const tail = buildTail(9, 0, [w(1, 1), w(2, 2)], image);
    await vol.beginInstall();
    await vol.writeInstallChunk(0, image);
    await vol.stageInstallTail(Buffer.concat(tail.records));
    // Die right after the commit point: the redo has not started.
    dev.failWrite = (off) => (off >= 4096 ? new Error("EIO (injected)") : undefined);
    await expectReason(vol.commitInstall(9, 0), "io_error");
    const crashed = dev.crash(dropAll);
    const full = staging.tail!;
    staging.tail = new SimTailFile(Buffer.alloc(10));
    await expectReason(Volume.open(crashed.snapshot(), opts), "corrupt");
    staging.tail = undefined;
    await expectReason(Volume.open(crashed.snapshot(), opts), "corrupt");
    staging.tail = full;
    const after = await Volume.open(crashed, opts);
    expect(after.headLsn).toBe(11);
    expect((await after.read(0, VOL_BYTES)).equals(tail.expected)).toBe(true);
    await after.close();
  });

  it("real files: the tail sidecar sits next to the image staging and is removed after commit", async () => {
    const { dir, cleanup } = tmpDir();
    try {
      const file = path.join(dir, "v.img");
      const vol = await createVolumeFile(file, {
        volumeSizeBytes: VOL_BYTES,
        walSizeBytes: 16 * 1024,
        blockSize: BS,
      });
      const image = imageOf(4);
      const tail = buildTail(5, 0, [w(1, 1), w(60, 2, 4), w(1, 3)], image);
      await vol.beginInstall();
      await vol.writeInstallChunk(0, image);
      await vol.stageInstallTail(Buffer.concat(tail.records));
      expect(fs.statSync(`${file}.install-tail`).size).toBe(tail.records.reduce((n, r) => n + r.length, 0));
      await vol.commitInstall(5, 0);
      expect(fs.existsSync(`${file}.install`) || fs.existsSync(`${file}.install-tail`)).toBe(false);
      await vol.close();
      const reopened = await openVolumeFile(file);
      expect(reopened.headLsn).toBe(8);
      expect((await reopened.read(0, VOL_BYTES)).equals(tail.expected)).toBe(true);
      await reopened.close();
    } finally {
      cleanup();
    }
  });
});
