// The CRC anchor of a copy: a rebuild that commits with an empty tail persists the base record's
// CRC and epoch, so the next shipped record must continue the source's chain (a record from another
// history is refused), before and after a reopen; a fully checkpointed copy still names its head
// record after a restart. Both staging layouts: copy (simulated device) and swap (volume file).
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createVolumeFile, encodeRecord, openVolumeFile, RecordType, Volume } from "../src/index";
import { BS, block, expectReason, SMALL, simVolume, tmpDir } from "./helpers";

const VOL_BYTES = SMALL.volumeSizeBytes;

/** A record at `lsn` that chains to `prevCrc` (what a primary of another history would ship). */
function foreignRecord(lsn: number, epoch: number, prevCrc: number): Buffer {
  return encodeRecord({
    type: RecordType.WRITE,
    lsn,
    epoch,
    lba: 3,
    blockCount: 1,
    blockSize: BS,
    data: block(3, 0xbad),
    prevCrc,
  });
}

/** Source with 6 records (epochs 1 and 2), fully checkpointed: the base is its head. */
async function source(): Promise<Volume> {
  const { vol } = await simVolume({ epoch: 1 });
  for (let i = 0; i < 3; i++) await vol.write(i, block(i, 1));
  await vol.setEpoch(2);
  for (let i = 3; i < 6; i++) await vol.write(i, block(i, 2));
  await vol.checkpoint();
  return vol;
}

/** Installs `src`'s image with an empty tail into `dst` (base = src's checkpoint = its head). */
async function installEmptyTail(src: Volume, dst: Volume): Promise<number> {
  const { baseLsn } = src.pinBaseImage("test/dst");
  const base = src.recordAt(baseLsn);
  expect(base).toBeDefined();
  await dst.beginInstall();
  for (let off = 0; off < VOL_BYTES; off += 16 * BS) {
    await dst.writeInstallChunk(off, await src.readExtent(off, 16 * BS));
  }
  await dst.commitInstall(baseLsn, src.epoch, { baseRecord: { crc: base!.crc, epoch: base!.epoch } });
  return baseLsn;
}

async function expectAnchored(dst: Volume, src: Volume, baseLsn: number): Promise<void> {
  expect(dst.headLsn).toBe(baseLsn);
  expect(dst.recordAt(baseLsn)).toEqual(src.recordAt(baseLsn));
  // Another history's record at base + 1 is refused; the source's own next record is taken.
  await expectReason(dst.appendRecords(foreignRecord(baseLsn + 1, 2, 0x1234_5678)), "log_mismatch");
  expect(dst.headLsn).toBe(baseLsn);
  await src.write(7, block(7, 3));
  const next = await src.readRecords(baseLsn + 1, 1 << 20);
  await dst.appendRecords(next.bytes);
  expect(dst.headLsn).toBe(baseLsn + 1);
}

describe("the CRC anchor of an installed copy (copy layout)", () => {
  it("a rebuild with an empty tail persists the base record: a mismatching record is refused, after a reopen too", async () => {
    const src = await source();
    const { vol: dst, dev, opts } = await simVolume({ epoch: 2 });
    const baseLsn = await installEmptyTail(src, dst);
    expect(baseLsn).toBe(6);
    expect(dst.recordAt(baseLsn)).toEqual({ lsn: 6, epoch: 2, crc: src.recordAt(6)!.crc });
    await expectReason(dst.appendRecords(foreignRecord(7, 2, 0)), "log_mismatch");
    await dst.close();
    // After a restart the anchor is read back from the superblock.
    const again = await Volume.open(dev.snapshot(), opts);
    await expectAnchored(again, src, baseLsn);
    await Promise.all([again.close(), src.close()]);
  });

  it("a staged tail that does not continue the base record is refused at commit (old state intact)", async () => {
    const src = await source();
    const { vol: dst } = await simVolume({ epoch: 2 });
    const { baseLsn } = src.pinBaseImage("test/dst");
    await dst.write(0, block(0, 77));
    await dst.beginInstall();
    for (let off = 0; off < VOL_BYTES; off += 16 * BS) {
      await dst.writeInstallChunk(off, await src.readExtent(off, 16 * BS));
    }
    await dst.stageInstallTail(foreignRecord(baseLsn + 1, 2, 0x0bad_0bad));
    const base = src.recordAt(baseLsn)!;
    await expectReason(
      dst.commitInstall(baseLsn, 2, { baseRecord: { crc: base.crc, epoch: 2 } }),
      "log_mismatch",
    );
    expect(dst.headLsn).toBe(1);
    expect((await dst.read(0, BS)).equals(block(0, 77))).toBe(true);
    await Promise.all([dst.close(), src.close()]);
  });

  it("a fully checkpointed copy still names its head record (CRC and epoch) after a restart", async () => {
    const { vol, dev, opts } = await simVolume({ epoch: 4 });
    for (let i = 0; i < 5; i++) await vol.write(i, block(i, 9));
    await vol.flush();
    const head = vol.recordAt(5);
    expect(head).toMatchObject({ lsn: 5, epoch: 4 });
    await vol.checkpoint();
    await vol.close(); // the final checkpoint moves the tail to the head
    const again = await Volume.open(dev.snapshot(), opts);
    expect(again.tailLsn).toBe(5);
    expect(again.recordAt(5)).toEqual(head);
    expect(again.recordAt(4)).toBeUndefined(); // recycled: cannot be named
    expect(again.recordAt(0)).toEqual({ lsn: 0, epoch: 0, crc: 0 });
    await again.close();
  });
});

describe("the CRC anchor of an installed copy (swap layout, volume file)", () => {
  let tmp: ReturnType<typeof tmpDir>;
  beforeEach(() => {
    tmp = tmpDir();
  });
  afterEach(() => tmp.cleanup());

  it("a rebuild with an empty tail persists the base record across a reopen", async () => {
    const src = await source();
    const file = path.join(tmp.dir, "dst.vol");
    const dst = await createVolumeFile(file, { ...SMALL, epoch: 2 });
    const baseLsn = await installEmptyTail(src, dst);
    await dst.close();
    const again = await openVolumeFile(file);
    await expectAnchored(again, src, baseLsn);
    await Promise.all([again.close(), src.close()]);
  });
});
