import { describe, expect, it } from "vitest";
import { SimDevice } from "../src/index";
import { ResyncWriteBehind } from "../src/resync-blocks";
import { BS, block, SMALL, simVolume } from "./helpers";

const BLOCKS = SMALL.volumeSizeBytes / BS;

describe("resync write-behind", () => {
  it("marks are durable before a batch's blocks are written; overlapping resends land in arrival order", async () => {
    const dev = new SimDevice(64 * BS);
    const order: string[] = [];
    let held = 0;
    const wb = new ResyncWriteBehind(
      dev,
      0,
      async () => {
        order.push("marks");
      },
      4 * BS,
      () => {
        held++;
        return () => {
          held--;
        };
      },
    );
    const orig = dev.writev.bind(dev);
    dev.writev = async (bufs, off) => {
      order.push(`write ${off / BS}`);
      return orig(bufs, off);
    };
    await wb.add(3 * BS, block(3, 1));
    await wb.add(4 * BS, block(4, 1));
    await wb.add(3 * BS, block(3, 2)); // a later pass resends block 3
    expect(order).toEqual([]); // nothing written below the limit
    await wb.add(9 * BS, block(9, 1));
    await wb.flush();
    expect(order[0]).toBe("marks");
    expect(order.slice(1).sort()).toEqual(["write 3", "write 3", "write 9"].sort());
    const three = Buffer.alloc(BS);
    await dev.read(three, 3 * BS);
    expect(three.equals(block(3, 2))).toBe(true);
    const four = Buffer.alloc(BS);
    await dev.read(four, 4 * BS);
    expect(four.equals(block(4, 1))).toBe(true);
    expect(held).toBe(0);
  });

  it("a failed batch fails every later call", async () => {
    const dev = new SimDevice(64 * BS);
    dev.failWrite = () => new Error("disk gone");
    const wb = new ResyncWriteBehind(
      dev,
      0,
      async () => undefined,
      BS,
      () => () => undefined,
    );
    await wb.add(0, block(0, 1)).catch(() => undefined);
    await expect(wb.flush()).rejects.toThrow(/disk gone/);
    await expect(wb.add(BS, block(1, 1))).rejects.toThrow(/disk gone/);
  });

  it("an install during a transfer: queued blocks never land on the installed image", async () => {
    const P = await simVolume({ epoch: 2 });
    for (let i = 0; i < 8; i++) await P.vol.write(i, block(i, 50 + i));
    await P.vol.flush();
    const R = await simVolume({ epoch: 2 });
    await R.vol.beginResync({ forkLsn: 0 });
    // Fewer blocks than the write-behind holds: all still queued.
    for (let lba = 0; lba < 3; lba++) await R.vol.writeResyncBlocks(lba * BS, block(lba, 999));
    const base = P.vol.pinBaseImage("rebuild");
    await R.vol.beginInstall();
    await R.vol.writeInstallChunk(0, await P.vol.readExtent(0, SMALL.volumeSizeBytes));
    if (P.vol.headLsn > base.baseLsn)
      await R.vol.stageInstallTail((await P.vol.readRecords(base.baseLsn + 1, 1 << 20)).bytes);
    await R.vol.commitInstall(base.baseLsn, 2, { baseRecord: P.vol.recordAt(base.baseLsn)! });
    await R.vol.checkpoint();
    const want = await P.vol.read(0, BLOCKS * BS);
    expect((await R.vol.read(0, BLOCKS * BS)).equals(want)).toBe(true);
    // A later resync on the installed copy flushes whatever is queued: nothing of the replaced one.
    await R.vol.beginResync({ forkLsn: R.vol.headLsn });
    const extent = Buffer.alloc(BLOCKS * BS);
    await R.dev.read(extent, 4096 + SMALL.walSizeBytes!);
    expect(extent.equals(want)).toBe(true);
    await R.vol.close();
    const { Volume } = await import("../src/index");
    const again = await Volume.open(R.dev.snapshot(), R.opts);
    expect(again.resyncState()).toMatchObject({ pending: true, phase: "transfer" });
    await Promise.all([P.vol.close(), again.close()]);
  });
});
