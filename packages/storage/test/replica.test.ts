import { describe, expect, it } from "vitest";
import { encodeRecord, parseRecords, RecordType, type Volume } from "../src/index";
import { BS, block, expectReason, simVolume } from "./helpers";

async function ship(primary: Volume, replica: Volume, maxBytes = 1 << 20): Promise<void> {
  while (replica.headLsn < primary.headLsn) {
    const batch = await primary.readRecords(replica.headLsn + 1, maxBytes);
    const res = await replica.appendRecords(batch.bytes);
    expect(res.headLsn).toBe(batch.lastLsn);
  }
}

async function sameBlocks(a: Volume, b: Volume, blocks = 64): Promise<void> {
  expect((await a.read(0, blocks * BS)).equals(await b.read(0, blocks * BS))).toBe(true);
}

describe("readRecords / appendRecords", () => {
  it("ships raw record bytes; the replica ends byte-identical and recovers them", async () => {
    const { vol: p } = await simVolume({ epoch: 4 });
    const { vol: r, dev: rdev, opts: ropts } = await simVolume({ epoch: 4 });
    p.pinWal("vol/replica", 1); // what a shipper does: keep what the replica has not acked
    for (let i = 0; i < 30; i++) {
      if (i % 5 === 4) await p.trim(i, 2 * BS);
      else await p.write(i, block(i, i, 1 + (i % 2)));
      if (i % 6 === 5) {
        await ship(p, r, 3000); // small batches: many calls; the rings wrap
        p.pinWal("vol/replica", r.headLsn + 1);
      }
    }
    await ship(p, r, 3000);
    expect(r.headLsn).toBe(30);
    await sameBlocks(p, r);
    await r.flush();
    const { Volume: V } = await import("../src/index");
    const again = await V.open(rdev.crash({ fate: () => "drop", tornRanges: () => [] }), ropts);
    expect(again.headLsn).toBe(30);
    await sameBlocks(p, again);
    await Promise.all([p.close(), r.close(), again.close()]);
  });

  it("returns at least one record, and an empty batch at head+1", async () => {
    const { vol } = await simVolume();
    await vol.write(0, block(0, 1, 2));
    await vol.write(2, block(2, 1));
    const one = await vol.readRecords(1, 1);
    expect([one.firstLsn, one.lastLsn, one.count]).toEqual([1, 1, 1]);
    expect(parseRecords(one.bytes, BS, 1 << 20).records[0]!.blockCount).toBe(2);
    const none = await vol.readRecords(3, 1000);
    expect(none.count).toBe(0);
    await expectReason(vol.readRecords(5, 1000), "out_of_range");
    await expectReason(vol.readRecords(0, 1000), "invalid_argument");
    await vol.close();
  });

  it("reads the same bytes with headroom, which lies in the batch's own memory right before them", async () => {
    const { vol } = await simVolume();
    for (let i = 0; i < 8; i++) await vol.write(i * 2, block(i, 1, 2));
    const plain = await vol.readRecords(1, 1 << 20);
    const roomy = await vol.readRecords(1, 1 << 20, 64);
    expect(roomy.bytes.equals(plain.bytes)).toBe(true);
    expect([roomy.firstLsn, roomy.lastLsn, roomy.count]).toEqual([1, 8, 8]);
    // The 64 bytes before the records belong to the same allocation: writing there leaves the
    // records as they were.
    expect(roomy.bytes.byteOffset).toBeGreaterThanOrEqual(64);
    new Uint8Array(roomy.bytes.buffer, roomy.bytes.byteOffset - 64, 64).fill(0xee);
    expect(roomy.bytes.equals(plain.bytes)).toBe(true);
    await expectReason(vol.readRecords(1, 1000, -1), "invalid_argument");
    await expectReason(vol.readRecords(1, 1000, 1.5), "invalid_argument");
    await expectReason(vol.readRecords(1, 1000, 1 << 20), "invalid_argument");
    await vol.close();
  });

  it("skips duplicates, rejects gaps, wrong epochs, corrupt bytes and foreign logs", async () => {
    const { vol: p } = await simVolume({ epoch: 2 });
    const { vol: r } = await simVolume({ epoch: 2 });
    for (let i = 0; i < 6; i++) await p.write(i, block(i, 1));
    const b13 = await p.readRecords(1, 3 * (48 + BS));
    expect(b13.lastLsn).toBe(3);
    const all = await p.readRecords(1, 1 << 20);
    await r.appendRecords(b13.bytes);
    // Duplicates at or below the head are skipped and reported.
    expect(await r.appendRecords(all.bytes)).toEqual({ headLsn: 6, appended: 3, skipped: 3 });
    expect(await r.appendRecords(b13.bytes)).toEqual({ headLsn: 6, appended: 0, skipped: 3 });
    await p.write(6, block(6, 1));
    await p.write(7, block(7, 1));
    const only8 = await p.readRecords(8, 1);
    await expectReason(r.appendRecords(only8.bytes), "lsn_gap");
    const bad = Buffer.from((await p.readRecords(7, 1 << 20)).bytes);
    bad[100]! ^= 0x10;
    await expectReason(r.appendRecords(bad), "corrupt");
    // A record from another history (same LSN, different content) does not continue this log.
    const foreign = encodeRecord({
      type: RecordType.TRIM,
      lsn: 7,
      epoch: 2,
      lba: 0,
      blockCount: 1,
      blockSize: BS,
      prevCrc: 12345,
    });
    await expectReason(r.appendRecords(foreign), "log_mismatch");
    await r.setEpoch(3);
    const crc6 = parseRecords((await p.readRecords(6, 1)).bytes, BS, 1 << 20).records[0]!.crc;
    // A record stamped with an epoch above the replica's was never written by a legitimate primary.
    const future = encodeRecord({
      type: RecordType.TRIM,
      lsn: 7,
      epoch: 4,
      lba: 0,
      blockCount: 1,
      blockSize: BS,
      prevCrc: crc6,
    });
    await expectReason(r.appendRecords(future), "epoch_mismatch");
    // Epochs never go backwards along the log.
    const at3 = encodeRecord({
      type: RecordType.TRIM,
      lsn: 7,
      epoch: 3,
      lba: 0,
      blockCount: 1,
      blockSize: BS,
      prevCrc: crc6,
    });
    const crc7 = parseRecords(at3, BS, 1 << 20).records[0]!.crc;
    const backTo2 = encodeRecord({
      type: RecordType.TRIM,
      lsn: 8,
      epoch: 2,
      lba: 0,
      blockCount: 1,
      blockSize: BS,
      prevCrc: crc7,
    });
    await expectReason(r.appendRecords(Buffer.concat([at3, backTo2])), "epoch_mismatch");
    const outside = encodeRecord({
      type: RecordType.TRIM,
      lsn: 7,
      epoch: 3,
      lba: 1000,
      blockCount: 1,
      blockSize: BS,
      prevCrc: crc6,
    });
    await expectReason(r.appendRecords(outside), "out_of_range");
    expect(r.headLsn).toBe(6);
    // After a failover the replica (now at epoch 3) still takes the older-epoch history the new
    // primary holds: the stream's epoch is checked exactly elsewhere, the CRC chain proves the
    // records continue this log.
    expect(await r.appendRecords((await p.readRecords(7, 1 << 20)).bytes)).toEqual({
      headLsn: 8,
      appended: 2,
      skipped: 0,
    });
    await Promise.all([p.close(), r.close()]);
  });
});

describe("epoch and durability mode", () => {
  it("persists before resolving, stamps records, and rejects regressions", async () => {
    const { vol, dev, opts } = await simVolume({ epoch: 1 });
    await vol.setEpoch(5);
    await vol.setDurabilityMode("sync_all");
    await vol.write(0, block(0, 1));
    const batch = await vol.readRecords(1, 1000);
    expect(parseRecords(batch.bytes, BS, 1 << 20).records[0]!.epoch).toBe(5);
    await expectReason(vol.setEpoch(4), "epoch_regression");
    await vol.setEpoch(5); // same epoch: no-op
    const { Volume: V } = await import("../src/index");
    const again = await V.open(dev.crash({ fate: () => "drop", tornRanges: () => [] }), opts);
    expect(again.epoch).toBe(5);
    expect(again.durabilityMode).toBe("sync_all");
    await expectReason(again.setDurabilityMode("nope" as "sync_all"), "invalid_argument");
    await Promise.all([vol.close(), again.close()]);
  });
});

describe("truncateToLsn", () => {
  it("drops records above the LSN when the extent holds nothing above it", async () => {
    const { vol, dev, opts } = await simVolume();
    for (let i = 0; i < 5; i++) await vol.write(i, block(i, 1));
    await vol.checkpoint();
    for (let i = 0; i < 5; i++) await vol.write(i, block(i, 2));
    await vol.write(20, block(20, 2));
    await vol.flush();
    await expectReason(vol.truncateToLsn(4), "truncation_unsafe");
    await expectReason(vol.truncateToLsn(12), "out_of_range");
    await vol.truncateToLsn(7);
    expect(vol.headLsn).toBe(7);
    expect(vol.durableLsn).toBe(7);
    const expected = Buffer.concat([block(0, 2), block(1, 2), block(2, 1), block(3, 1), block(4, 1)]);
    expect((await vol.read(0, 5 * BS)).equals(expected)).toBe(true);
    expect((await vol.read(20, BS)).equals(Buffer.alloc(BS))).toBe(true);
    await vol.truncateToLsn(7); // at the head: no-op success
    // The next append continues at 8 and the dropped records never come back after a crash.
    expect(await vol.write(30, block(30, 3))).toBe(8);
    await vol.flush();
    const { Volume: V } = await import("../src/index");
    const again = await V.open(dev.crash({ fate: () => "drop", tornRanges: () => [] }), opts);
    expect(again.headLsn).toBe(8);
    expect((await again.read(0, 5 * BS)).equals(expected)).toBe(true);
    expect((await again.read(20, BS)).equals(Buffer.alloc(BS))).toBe(true);
    await vol.checkpoint();
    await expectReason(vol.truncateToLsn(7), "truncation_unsafe");
    await Promise.all([vol.close(), again.close()]);
  });
});

describe("the CRC chain survives checkpoints and restarts", () => {
  it("a primary restarted after a full checkpoint keeps shipping records the replica accepts", async () => {
    const { vol: p, dev: pdev, opts: popts } = await simVolume({ epoch: 1 });
    const { vol: r } = await simVolume({ epoch: 1 });
    for (let i = 0; i < 5; i++) await p.write(i, block(i, 1));
    await ship(p, r);
    await p.close(); // final checkpoint: tail = head, no record retained
    const { Volume: V } = await import("../src/index");
    const p2 = await V.open(pdev.snapshot(), popts);
    expect(p2.tailLsn).toBe(5);
    await p2.write(9, block(9, 2));
    await ship(p2, r);
    expect(r.headLsn).toBe(6);
    await sameBlocks(p2, r);
    await r.checkpoint(); // replica side too: chain value persisted with its tail
    await Promise.all([p2.close(), r.close()]);
  });
});

describe("truncate interrupted by a crash", () => {
  it("leaves a log prefix >= the target; retrying after reopen finishes it", async () => {
    const { randomCrashChooser, Volume: V } = await import("../src/index");
    for (let seed = 1; seed <= 8; seed++) {
      const { vol, dev, opts } = await simVolume();
      for (let i = 0; i < 5; i++) await vol.write(i, block(i, 1));
      await vol.checkpoint();
      for (let i = 0; i < 5; i++) await vol.write(i, block(i, 2));
      await vol.flush();
      dev.failSync = () => new Error("power loss during truncate");
      await expectReason(vol.truncateToLsn(7), "io_error");
      const after = await V.open(dev.crash(randomCrashChooser(seed)), opts);
      expect(after.headLsn).toBeGreaterThanOrEqual(7);
      expect(after.headLsn).toBeLessThanOrEqual(10);
      const h = after.headLsn;
      const want = Buffer.concat(Array.from({ length: 5 }, (_, i) => block(i, 5 + i + 1 <= h ? 2 : 1)));
      expect((await after.read(0, 5 * BS)).equals(want), `seed ${seed}`).toBe(true);
      await after.truncateToLsn(7);
      expect(after.headLsn).toBe(7);
      await after.close();
    }
  });
});
