import { describe, expect, it } from "vitest";
import { type SimDevice, Volume } from "../src/index";
import { SyncService } from "../src/sync-service";
import { block, expectReason, simVolume } from "./helpers";

/** Lets `n` event-loop turns pass (the parts run on promises and setImmediate). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

/**
 * Fails the `which`-th sync from now (1-based) and holds it until `release()`: the failing sync is
 * still running while the test queues more work behind it. Later syncs succeed, as a disk whose
 * error was transient would let them ("fsyncgate": they prove nothing about the dropped pages).
 */
function failOneSync(dev: SimDevice, which: number): { release: () => void; started: () => boolean } {
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  let seen = 0;
  dev.dropOnFailedSync = true;
  dev.failSync = () => (++seen === which ? new Error("EIO (injected)") : undefined);
  dev.beforeSync = () => (seen === which ? held : undefined);
  return { release, started: () => seen >= which };
}

const allDropped = { fate: () => "drop" as const, tornRanges: () => [] as Array<[number, number]> };

describe("sticky sync failure", () => {
  it("the sync service rejects the sync queued behind a failed one, and every later one", async () => {
    const { SimDevice: Sim } = await import("../src/index");
    const dev = new Sim(8192);
    const failures: unknown[] = [];
    const svc = new SyncService(dev, (e) => failures.push(e));
    const gate = failOneSync(dev, 1);
    const first = svc.sync();
    const queued = svc.sync();
    gate.release();
    await expect(first).rejects.toThrow(/^io_error: sync failed: EIO/);
    await expect(queued).rejects.toThrow(/^io_error: sync failed: EIO/);
    await expect(svc.sync()).rejects.toThrow(/^io_error: sync failed/);
    expect(dev.syncCount).toBe(0); // nothing after the failure reached the device
    expect(failures).toHaveLength(1);
  });

  it("a flush queued behind a failing superblock sync fails; nothing is reported durable", async () => {
    const { vol, dev, opts } = await simVolume({ epoch: 1 });
    await vol.write(0, block(0, 1));
    const gate = failOneSync(dev, 1);
    const epoch = vol.setEpoch(2); // superblock write + the (held, failing) sync
    for (let i = 0; i < 1000 && !gate.started(); i++) await turns(1);
    expect(gate.started()).toBe(true);
    const flushed = vol.flush(); // group commit waits for the sync after the running one
    await turns(20);
    gate.release();
    await expectReason(epoch, "io_error");
    const err = await expectReason(flushed, "io_error");
    expect(err.message).toMatch(/sync failed/);
    expect(vol.durableLsn).toBe(0);
    await expectReason(vol.flush(), "volume_failed");
    await expectReason(vol.write(1, block(1, 1)), "volume_failed");
    expect(vol.failed?.reason).toBe("volume_failed");
    await vol.close();
    // The failed sync dropped the write; a reopen sees the disk as it is.
    const again = await Volume.open(dev.crash(allDropped), opts);
    expect(again.headLsn).toBe(0);
    await again.close();
  });

  it("a flush queued behind a failing flusher sync fails", async () => {
    const { vol, dev } = await simVolume({ epoch: 1 });
    for (let i = 0; i < 4; i++) await vol.write(i, block(i, 1));
    await vol.flush();
    await vol.write(4, block(4, 1));
    const gate = failOneSync(dev, 1);
    const cp = vol.checkpoint();
    for (let i = 0; i < 1000 && !gate.started(); i++) await turns(1);
    const flushed = vol.flush();
    await turns(20);
    gate.release();
    await expectReason(cp, "io_error");
    await expectReason(flushed, "io_error");
    expect(vol.durableLsn).toBe(4);
    await expectReason(vol.flush(), "volume_failed");
    await vol.close();
  });

  it("a replica answering a barrier: the flush behind a failing sync fails, and every later one", async () => {
    const { vol: p } = await simVolume({ epoch: 3 });
    const { vol: r, dev } = await simVolume({ epoch: 3 });
    await p.write(0, block(0, 1));
    await r.appendRecords((await p.readRecords(1, 1 << 20)).bytes);
    const gate = failOneSync(dev, 1);
    const epoch = r.setEpoch(4);
    for (let i = 0; i < 1000 && !gate.started(); i++) await turns(1);
    const barrier = r.flush();
    await turns(20);
    gate.release();
    await expectReason(epoch, "io_error");
    await expectReason(barrier, "io_error");
    expect(r.durableLsn).toBe(0);
    await p.write(1, block(1, 2));
    await expectReason(r.appendRecords((await p.readRecords(2, 1 << 20)).bytes), "volume_failed");
    await expectReason(r.flush(), "volume_failed");
    await Promise.all([p.close(), r.close()]);
  });

  it("whichever sync fails, no flush acknowledges what the disk does not hold", async () => {
    for (let which = 1; which <= 12; which++) {
      const { vol, dev, opts } = await simVolume({ epoch: 1, flushIntervalMs: 1 });
      const gate = failOneSync(dev, which);
      const acked: number[] = [];
      const work: Array<Promise<unknown>> = [];
      for (let i = 0; i < 24; i++) {
        work.push(vol.write(i % 16, block(i % 16, i)).catch(() => undefined));
        if (i % 3 === 2)
          work.push(
            vol.flush().then(
              (lsn) => acked.push(lsn),
              () => undefined,
            ),
          );
        if (i % 8 === 7) work.push(vol.checkpoint().catch(() => undefined));
        if (gate.started()) gate.release();
        await turns(2);
      }
      gate.release();
      await Promise.all(work);
      const failedAt = vol.failed ? vol.durableLsn : undefined;
      await vol.close().catch(() => undefined);
      const again = await Volume.open(dev.crash(allDropped), opts);
      const best = acked.reduce((m, l) => Math.max(m, l), 0);
      expect(again.headLsn, `sync #${which} failed; acked ${best}`).toBeGreaterThanOrEqual(best);
      if (failedAt !== undefined) expect(best).toBeLessThanOrEqual(failedAt);
      await again.close();
    }
  });
});
