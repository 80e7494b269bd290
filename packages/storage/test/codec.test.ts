import { describe, expect, it } from "vitest";
import { crc32 } from "../src/crc";
import { DirtyMap } from "../src/dirty-map";
import { encodeRecord, parseRecords, RECORD_HEADER_BYTES, RecordType, recordPayload } from "../src/index";
import { LsnIndex } from "../src/lsn-index";
import {
  decodeSuperblock,
  decodeSuperblockRegion,
  encodeSuperblock,
  newSuperblock,
  SUPERBLOCK_COPY_BYTES,
  superblockCopyOffset,
} from "../src/superblock";
import { BS, block } from "./helpers";

function chain(n: number, firstLsn = 1, epoch = 3): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const trim = i % 3 === 2;
    const r = encodeRecord({
      type: trim ? RecordType.TRIM : RecordType.WRITE,
      lsn: firstLsn + i,
      epoch,
      lba: i * 2,
      blockCount: trim ? 4 : 1 + (i % 2),
      blockSize: BS,
      data: trim ? undefined : block(i * 2, i, 1 + (i % 2)),
      prevCrc: prev,
    });
    prev = r.readUInt32LE(0);
    out.push(r);
  }
  return out;
}

describe("superblock", () => {
  const sb = newSuperblock({
    blockSize: 4096,
    volumeSizeBytes: 1 << 20,
    walSizeBytes: 1 << 16,
    durabilityMode: "sync_all",
    epoch: 7,
    nowMs: 1,
  });

  it("round-trips every field", () => {
    const full = {
      ...sb,
      seq: 5,
      checkpointLsn: 10,
      extentHighLsn: 12,
      walTailLsn: 9,
      walTailOffset: 12345,
      installPending: true,
      installBaseLsn: 4,
    };
    const r = decodeSuperblock(encodeSuperblock(full));
    expect(r.ok && r.sb).toEqual(full);
  });

  it("detects a bad checksum, a foreign device, and picks the newest valid copy", () => {
    const a = encodeSuperblock({ ...sb, seq: 3 });
    const b = encodeSuperblock({ ...sb, seq: 4, epoch: 8 });
    const region = Buffer.concat([a, b]);
    expect(decodeSuperblockRegion(region).epoch).toBe(8);
    // Torn write of the newer copy: fall back to the older one.
    region[SUPERBLOCK_COPY_BYTES + 100]! ^= 0xff;
    expect(decodeSuperblockRegion(region).seq).toBe(3);
    region[100]! ^= 0xff;
    expect(() => decodeSuperblockRegion(region)).toThrow(/corrupt/);
    expect(() => decodeSuperblockRegion(Buffer.alloc(4096))).toThrow(/foreign_device/);
    const bad = decodeSuperblock(Buffer.alloc(SUPERBLOCK_COPY_BYTES));
    expect(bad.ok).toBe(false);
  });

  it("keeps the tail record's CRC and epoch (the anchor of a fully checkpointed copy)", () => {
    const anchored = { ...sb, seq: 2, checkpointLsn: 9, extentHighLsn: 9, walTailLsn: 9 };
    const full = { ...anchored, walTailCrc: 0xdeadbeef, walTailEpoch: 3 };
    const r = decodeSuperblock(encodeSuperblock(full));
    expect(r.ok && [r.sb.walTailCrc, r.sb.walTailEpoch]).toEqual([0xdeadbeef, 3]);
    const unknown = decodeSuperblock(
      encodeSuperblock({ ...anchored, walTailCrc: undefined, walTailEpoch: undefined }),
    );
    expect(unknown.ok && [unknown.sb.walTailCrc, unknown.sb.walTailEpoch]).toEqual([undefined, undefined]);
  });

  it("reads a superblock written before the tail epoch existed (flag clear): epoch unknown", () => {
    const buf = encodeSuperblock({ ...sb, walTailCrc: 0x1234, walTailEpoch: 5 });
    // The older writer: flag 4 clear, bytes 192.. zero; the checksum covers what it wrote.
    buf.writeUInt16LE(buf.readUInt16LE(10) & ~4, 10);
    buf.fill(0, 192, 200);
    buf.writeUInt32LE(crc32(buf.subarray(0, SUPERBLOCK_COPY_BYTES - 4)), SUPERBLOCK_COPY_BYTES - 4);
    const r = decodeSuperblock(buf);
    expect(r.ok && [r.sb.walTailCrc, r.sb.walTailEpoch]).toEqual([0x1234, undefined]);
  });

  it("alternates copies by generation", () => {
    expect(superblockCopyOffset(1)).toBe(SUPERBLOCK_COPY_BYTES);
    expect(superblockCopyOffset(2)).toBe(0);
  });
});

describe("record codec", () => {
  it("parses concatenated records as views without copying", () => {
    const recs = chain(6);
    const buf = Buffer.concat(recs);
    const parsed = parseRecords(buf, BS, 1 << 20);
    expect(parsed.ok).toBe(true);
    expect(parsed.records.map((r) => r.lsn)).toEqual([1, 2, 3, 4, 5, 6]);
    const first = parsed.records[0]!;
    const payload = recordPayload(buf, first);
    expect(payload.buffer).toBe(buf.buffer);
    expect(payload.equals(block(0, 0))).toBe(true);
    expect(parsed.records[2]!.type).toBe(RecordType.TRIM);
    expect(parsed.records[2]!.recordBytes).toBe(RECORD_HEADER_BYTES);
  });

  it("detects every single-bit flip in a record", () => {
    const recs = chain(2);
    const buf = Buffer.concat(recs);
    for (let bit = 0; bit < buf.length * 8; bit++) {
      const copy = Buffer.from(buf);
      copy[bit >> 3]! ^= 1 << (bit & 7);
      const parsed = parseRecords(copy, BS, 1 << 20);
      expect(parsed.ok, `bit ${bit}`).toBe(false);
    }
  });

  it("rejects gaps, broken chains, truncation and padding in a batch", () => {
    const recs = chain(4);
    expect(parseRecords(Buffer.concat([recs[0]!, recs[2]!]), BS, 1 << 20)).toMatchObject({
      ok: false,
      problem: "LSNs not consecutive",
    });
    const other = chain(4, 1, 9);
    expect(parseRecords(Buffer.concat([recs[0]!, other[1]!]), BS, 1 << 20)).toMatchObject({
      ok: false,
      problem: "CRC chain broken",
    });
    const whole = Buffer.concat(recs);
    expect(parseRecords(whole.subarray(0, whole.length - 1), BS, 1 << 20).ok).toBe(false);
    const pad = encodeRecord({
      type: RecordType.PADDING,
      lsn: 5,
      epoch: 3,
      lba: 0,
      blockCount: 0,
      blockSize: BS,
      recordBytes: 100,
    });
    expect(parseRecords(Buffer.concat([whole, pad]), BS, 1 << 20)).toMatchObject({
      ok: false,
      problem: "padding in batch",
    });
    expect(parseRecords(recs[0]!, BS, 16)).toMatchObject({ ok: false });
  });
});

describe("dirty map and LSN index", () => {
  it("never moves an LBA backwards", () => {
    const m = new DirtyMap();
    m.put(1, { lsn: 5, recordOffset: 0, blockInRecord: 0 });
    m.put(1, { lsn: 3, recordOffset: 9, blockInRecord: 0 });
    expect(m.get(1)?.lsn).toBe(5);
    expect(m.staleIgnored).toBe(1);
    m.put(1, { lsn: 6, recordOffset: 9, blockInRecord: 0 });
    m.deleteIfLsn(1, 5);
    expect(m.get(1)?.lsn).toBe(6);
    m.deleteIfLsn(1, 6);
    expect(m.get(1)).toBeUndefined();
  });

  it("indexes offsets by LSN across growth and drops", () => {
    const ix = new LsnIndex();
    ix.reset(10);
    for (let i = 0; i < 3000; i++) ix.push(10 + i, i * 7, i, 1 + (i >> 10));
    ix.dropBelow(1000);
    expect(ix.has(999)).toBe(false);
    expect(ix.offsetOf(1000)).toBe(990 * 7);
    for (let i = 3000; i < 5000; i++) ix.push(10 + i, i * 7, i, 1 + (i >> 10));
    expect(ix.offsetOf(5009)).toBe(4999 * 7);
    expect(() => ix.push(1, 0, 0, 0)).toThrow();
    expect(ix.crcOf(5009)).toBe(4999);
    expect(ix.epochOf(5009)).toBe(1 + (4999 >> 10));
    expect(ix.epochOf(1000)).toBe(1 + (990 >> 10));
  });
});
