import { describe, expect, it } from "vitest";
import { decodeHistory, encodeHistory, type Generation, MAX_GENERATIONS } from "../src/history";
import { Volume } from "../src/index";
import { BS, block, expectReason, simVolume } from "./helpers";

describe("history: generations of the log", () => {
  it("a generation starts where the record epoch changes and names the boundary record's CRC", async () => {
    const { vol, dev, opts } = await simVolume();
    await vol.write(1, block(1, 1));
    await vol.write(2, block(2, 1));
    await vol.setEpoch(4);
    await vol.setEpoch(5); // no record in epoch 4: no generation for it
    await vol.write(3, block(3, 1));
    const boundary = vol.recordAt(2)!;
    expect(vol.history()).toEqual([
      { epoch: 0, firstLsn: 1, prevCrc: 0 },
      { epoch: 5, firstLsn: 3, prevCrc: boundary.crc },
    ]);
    await vol.flush();
    await vol.checkpoint(); // the tail passes the boundary: only the superblock keeps it now
    await vol.close();
    const again = await Volume.open(dev.snapshot(), opts);
    expect(again.history()).toEqual([
      { epoch: 0, firstLsn: 1, prevCrc: 0 },
      { epoch: 5, firstLsn: 3, prevCrc: boundary.crc },
    ]);
    await again.close();
  });

  it("generations above a truncation point are forgotten, and the next one is derived again", async () => {
    const { vol, dev, opts } = await simVolume();
    await vol.write(1, block(1, 1));
    await vol.flush();
    await vol.checkpoint();
    await vol.setEpoch(2);
    await vol.write(2, block(2, 1));
    await vol.flush();
    await vol.setEpoch(3); // this superblock write carries generation (2, 2)
    await vol.truncateToLsn(1);
    expect(vol.history()).toEqual([{ epoch: 0, firstLsn: 1, prevCrc: 0 }]);
    await vol.write(2, block(2, 2));
    expect(vol.history().at(-1)).toMatchObject({ epoch: 3, firstLsn: 2, prevCrc: vol.recordAt(1)!.crc });
    await vol.close();
    const again = await Volume.open(dev.snapshot(), opts);
    expect(again.history().map((g) => g.epoch)).toEqual([0, 3]);
    await again.close();
  });

  it(`keeps the last ${MAX_GENERATIONS} generations`, async () => {
    const { vol } = await simVolume({ walSizeBytes: 64 * 1024 });
    for (let e = 1; e <= MAX_GENERATIONS + 6; e++) {
      await vol.setEpoch(e);
      await vol.write(e % 64, block(e % 64, e));
    }
    const h = vol.history();
    expect(h.length).toBe(MAX_GENERATIONS);
    expect(h[0]!.epoch).toBe(7);
    expect(h.at(-1)).toMatchObject({ epoch: MAX_GENERATIONS + 6, firstLsn: MAX_GENERATIONS + 6 });
    await vol.close();
  });

  it("the codec round-trips and rejects malformed lists", () => {
    const gens: Generation[] = [
      { epoch: 1, firstLsn: 1, prevCrc: 0 },
      { epoch: 3, firstLsn: 90, prevCrc: 0xdeadbeef },
    ];
    const buf = Buffer.alloc(2048);
    encodeHistory(buf, 216, gens);
    expect(decodeHistory(buf, 216)).toEqual(gens);
    const unordered = Buffer.alloc(2048);
    encodeHistory(unordered, 216, [gens[1]!, gens[0]!]);
    expect(decodeHistory(unordered, 216)).toBeUndefined();
    buf.writeUInt16LE(MAX_GENERATIONS + 1, 216);
    expect(decodeHistory(buf, 216)).toBeUndefined();
  });
});

describe("install: history and tracking of the new content", () => {
  it("an installed copy takes the source's history, and its tracking restarts at its new tail", async () => {
    const { vol: p } = await simVolume({ epoch: 3 });
    const { vol: r, dev, opts } = await simVolume({ epoch: 1, changeGrainBytes: BS });
    for (let i = 0; i < 10; i++) await r.write(40 + i, block(i, 99)); // old content: its marks must go
    await r.flush();
    await r.checkpoint();
    for (let i = 0; i < 6; i++) await p.write(i, block(i, 1));
    await p.checkpoint();
    const { baseLsn } = p.pinBaseImage("r");
    await p.write(20, block(20, 2));
    await r.beginInstall();
    await r.writeInstallChunk(0, await p.readExtent(0, 64 * BS));
    await r.stageInstallTail((await p.readRecords(baseLsn + 1, 1 << 20)).bytes);
    await expectReason(
      r.commitInstall(baseLsn, 3, { history: [{ epoch: 3, firstLsn: 1, prevCrc: -1 }] }),
      "invalid_argument",
    );
    // Bad input changed nothing: the same install commits.
    await r.commitInstall(baseLsn, 3, { history: p.history(), imageHighLsn: p.extentHighLsn });
    expect(r.history()).toEqual(p.history());
    // Tracking restarted at the installed tail (here the base: the whole tail fit the WAL).
    expect(r.changeTracking().baseLsn).toBe(baseLsn);
    // Only the staged tail's record (block 20) is a change after the base; the old blocks 40.. are not.
    const changed: number[] = [];
    for (const x of r.changedBlocks().ranges())
      for (let b = x.lba; b < x.lba + x.blocks; b++) changed.push(b);
    expect(changed).toEqual([20]);
    await r.close();
    const again = await Volume.open(dev.snapshot(), opts);
    expect(again.changeTracking().baseLsn).toBe(baseLsn);
    expect(again.history()).toEqual(p.history());
    await again.close();
    await p.close();
  });
});
