import { describe, expect, it } from "vitest";
import { type NeedsRebuildEvent, Volume } from "../src/index";
import { BS, block, expectReason, fakeClock, simVolume, waitFor } from "./helpers";

describe("flusher and checkpoint", () => {
  it("moves WAL data to the extent, persists the checkpoint and frees the WAL", async () => {
    const { vol, dev, opts } = await simVolume();
    for (let i = 0; i < 10; i++) await vol.write(i, block(i, 1));
    expect(vol.stats().walUsedBytes).toBeGreaterThan(0);
    expect(await vol.checkpoint()).toBe(10);
    const st = vol.stats();
    expect(st.tailLsn).toBe(10);
    expect(st.walUsedBytes).toBe(0);
    expect(st.dirtyBlocks).toBe(0);
    // Reads now come from the extent.
    expect(
      (await vol.read(0, 10 * BS)).equals(Buffer.concat(Array.from({ length: 10 }, (_, i) => block(i, 1)))),
    ).toBe(true);
    const extent = await vol.readExtent(0, 10 * BS);
    expect(extent.equals(await vol.read(0, 10 * BS))).toBe(true);
    // Crash right after the checkpoint: nothing to replay, data from the extent.
    const after = await Volume.open(dev.crash({ fate: () => "drop", tornRanges: () => [] }), opts);
    expect(after.checkpointLsn).toBe(10);
    expect(after.recovery.replayed).toBe(0);
    expect((await after.read(0, 10 * BS)).equals(extent)).toBe(true);
    await after.close();
    await vol.close();
  });

  it("runs in the background when the WAL crosses the flusher watermark", async () => {
    const { vol } = await simVolume({ flusherWatermark: 0.2 });
    for (let i = 0; i < 8; i++) await vol.write(i, block(i, 2));
    await waitFor(() => vol.checkpointLsn >= 6, "background checkpoint");
    await vol.close();
  });

  it("checkpoints on its timer once appends pause, even with a long checkpointMaxDelayMs", async () => {
    const { vol } = await simVolume({ flushIntervalMs: 5, checkpointMaxDelayMs: 3_600_000 });
    for (let i = 0; i < 8; i++) await vol.write(i, block(i, 3));
    await waitFor(() => vol.checkpointLsn === 8, "checkpoint on a quiet tick");
    expect((await vol.readExtent(0, BS)).equals(block(0, 3))).toBe(true);
    await vol.close();
  });

  it("bounds each cycle by maxCycleBytes", async () => {
    const { vol } = await simVolume({ maxCycleBytes: 2000 });
    for (let i = 0; i < 12; i++) await vol.write(i, block(i, 2));
    const before = vol.stats().flusherCycles;
    await vol.checkpoint();
    expect(vol.stats().flusherCycles - before).toBeGreaterThanOrEqual(2);
    expect(vol.checkpointLsn).toBe(12);
    await vol.close();
  });
});

describe("retention pins and budgets", () => {
  it("the tail never passes a pin; records stay readable for shipping", async () => {
    const { vol } = await simVolume();
    vol.pinWal("vol1/replicaA", 1);
    for (let i = 0; i < 10; i++) await vol.write(i, block(i, 1));
    vol.pinWal("vol1/replicaA", 3);
    await vol.checkpoint();
    expect(vol.checkpointLsn).toBe(10);
    expect(vol.tailLsn).toBe(2);
    const batch = await vol.readRecords(3, 1 << 20);
    expect([batch.firstLsn, batch.lastLsn, batch.count]).toEqual([3, 10, 8]);
    await expectReason(vol.readRecords(2, 1 << 20), "wal_recycled");
    vol.pinWal("vol1/replicaA", 6); // replica acked up to 5
    await vol.checkpoint();
    expect(vol.tailLsn).toBe(5);
    expect(vol.unpinWal("vol1/replicaA")).toBe(true);
    await vol.checkpoint();
    expect(vol.tailLsn).toBe(10);
    await expectReason(vol.readRecords(3, 1 << 20), "wal_recycled");
    expect(() => vol.pinWal("x", 3)).toThrow(/wal_recycled/);
    expect(() => vol.pinWal("x", 12)).toThrow(/out_of_range/);
    expect(() => vol.pinWal("", 11)).toThrow(/invalid_argument/);
    await vol.close();
  });

  it("releases a pin over its byte budget on the budget timer and reports needsRebuild", async () => {
    const clock = fakeClock();
    const { vol } = await simVolume({ clock, retentionMaxHeldBytes: 3000 });
    const events: NeedsRebuildEvent[] = [];
    vol.on("needsRebuild", (e) => events.push(e));
    vol.pinWal("vol1/r1", 1);
    for (let i = 0; i < 4; i++) await vol.write(i, block(i, 1));
    clock.advance(1);
    expect(events).toEqual([]);
    for (let i = 0; i < 4; i++) await vol.write(i, block(i, 2));
    clock.advance(1);
    expect(events).toMatchObject([{ owner: "vol1/r1", reason: "max_bytes", pinnedLsn: 1 }]);
    expect(vol.pinnedLsn("vol1/r1")).toBeUndefined();
    await vol.close();
  });

  it("releases a pin that holds WAL without progress for longer than maxAgeMs", async () => {
    const clock = fakeClock();
    const { vol } = await simVolume({ clock, retentionMaxAgeMs: 1000 });
    const events: NeedsRebuildEvent[] = [];
    vol.on("needsRebuild", (e) => events.push(e));
    vol.pinWal("idle", 1);
    clock.advance(5000); // holds nothing: an idle in-sync owner is never escalated
    vol.pinWal("lagging", 1);
    await vol.write(0, block(0, 1));
    clock.advance(500);
    expect(events).toEqual([]);
    vol.pinWal("idle", 2); // progress
    clock.advance(600);
    expect(events.map((e) => [e.owner, e.reason])).toEqual([["lagging", "max_age"]]);
    expect(vol.pinnedLsn("idle")).toBe(2);
    await vol.close();
  });

  it("a dead pin cannot make the volume unwritable: blocked writers resume once the budget fires", async () => {
    const clock = fakeClock();
    const { vol } = await simVolume({ clock, retentionMaxAgeMs: 10, walFullTimeoutMs: 60_000 });
    vol.pinWal("dead", 1);
    const writes: Array<Promise<number>> = [];
    for (let i = 0; i < 40; i++) writes.push(vol.write(i % 60, block(i, 3)));
    await waitFor(
      () => vol.pressure === "hard" && vol.stats().queuedWrites > 0,
      "writers blocked at the hard watermark",
    );
    clock.advance(100);
    const lsns = await Promise.all(writes);
    expect(lsns).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    await vol.close();
  });
});

describe("admission", () => {
  it("fails with wal_full after the deadline and never burns an LSN", async () => {
    const { vol } = await simVolume({
      walFullTimeoutMs: 30,
      retentionMaxHeldBytes: 14_000,
      clock: fakeClock(),
    });
    vol.pinWal("stuck", 1);
    let err: unknown;
    let last = 0;
    for (let i = 0; i < 100 && !err; i++) {
      try {
        last = await vol.write(i % 60, block(i, 4));
      } catch (e) {
        err = e;
      }
    }
    await expectReason(Promise.reject(err), "wal_full");
    expect(vol.headLsn).toBe(last);
    expect(vol.stats().admission.timedOut).toBeGreaterThan(0);
    expect(vol.stats().admission.softDelays).toBeGreaterThan(0);
    vol.unpinWal("stuck");
    expect(await vol.write(0, block(0, 5))).toBe(last + 1);
    await vol.close();
  });

  it("bounds the queue: excess writers fail at once with wal_full", async () => {
    const { vol } = await simVolume({
      walFullTimeoutMs: 60_000,
      maxQueuedWrites: 4,
      retentionMaxHeldBytes: 14_000,
    });
    vol.pinWal("stuck", 1);
    const accepted: Array<Promise<number>> = [];
    while (vol.pressure !== "hard") {
      accepted.push(vol.write(0, block(0, 1)));
      await waitFor(() => vol.stats().queuedWrites === 0 || vol.pressure === "hard", "append or block");
    }
    const blocked = Array.from({ length: 3 }, () => vol.write(1, block(1, 1)));
    await expectReason(vol.write(2, block(2, 1)), "wal_full");
    vol.unpinWal("stuck");
    await Promise.all([...accepted, ...blocked]);
    await vol.close();
  });

  it("reports pressure and WAL usage", async () => {
    const { vol } = await simVolume({ retentionMaxHeldBytes: 14_000, clock: fakeClock() });
    expect(vol.stats()).toMatchObject({ pressure: "normal", walUsedBytes: 0, walUsedFraction: 0 });
    vol.pinWal("p", 1);
    while (vol.pressure === "normal") await vol.write(0, block(0, 1));
    expect(vol.stats().walUsedFraction).toBeGreaterThanOrEqual(0.7);
    await vol.close();
  });
});
