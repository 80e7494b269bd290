import type { RawAppendResult, Volume } from "@blockship/storage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { durableFlush } from "../src/durability";
import type { ShipperGroup } from "../src/group";
import {
  BS,
  block,
  expectSameBlocks,
  makeGroup,
  makeVolume,
  ReplicaNode,
  tmpDir,
  waitForStatus,
} from "./helpers";

describe("shipping flow", () => {
  let tmp: ReturnType<typeof tmpDir>;
  let primary: Volume;
  let b: ReplicaNode;
  let group: ShipperGroup | undefined;

  beforeEach(() => {
    tmp = tmpDir();
  });

  afterEach(async () => {
    await group?.close();
    group = undefined;
    await b.stop();
    await b.volume.close();
    await primary.close();
    tmp.cleanup();
  });

  it("replicates writes, multi-block writes and trims across many WAL wraps on both sides", async () => {
    const small = {
      walSizeBytes: 128 * 1024,
      volumeSizeBytes: 128 * BS,
      flushIntervalMs: 10,
      retentionMaxHeldBytes: 110 * 1024, // a live replica may lag this much on a loaded machine
    };
    primary = await makeVolume(tmp.dir, "p", small);
    b = new ReplicaNode("srv-b", await makeVolume(tmp.dir, "b", small));
    await b.start();
    group = makeGroup(primary, {
      batchBytes: 32 * 1024,
      maxInFlightBytes: 64 * 1024,
      idleBarrierMs: 10,
      backgroundBarrierBytes: 16 * 1024,
    });
    group.setReplicas([b.target()]);
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 400; i++) {
      const lba = rnd(120);
      const kind = rnd(10);
      if (kind === 0) await primary.trim(lba, BS * (1 + rnd(4)));
      else if (kind === 1)
        await primary.write(lba, block(lba, i, 8)); // 32 KiB record
      else await primary.write(lba, block(lba, i));
      if (i % 25 === 24) await durableFlush(primary, group, "sync_all");
    }
    const lsn = await durableFlush(primary, group, "sync_all");
    expect(lsn).toBe(400);
    expect(primary.tailLsn).toBeGreaterThan(0); // the WAL really wrapped (and was recycled)
    expect(b.volume.tailLsn).toBeGreaterThan(0);
    await expectSameBlocks(primary, b.volume);
  });

  it("bounds in-flight bytes under a stalled replica and delivers everything once it moves", async () => {
    primary = await makeVolume(tmp.dir, "p");
    b = new ReplicaNode("srv-b", await makeVolume(tmp.dir, "b"));
    await b.start();
    const limit = 64 * 1024;
    group = makeGroup(primary, { batchBytes: 16 * 1024, maxInFlightBytes: limit });
    group.setReplicas([b.target()]);
    await waitForStatus(group, b.replicaId, (s) => s.state === "in_sync", "in sync");
    // Stall the replica's appends: acks stop, so the primary must stop at the limit.
    const append = b.volume.appendRecords.bind(b.volume);
    let release: () => void = () => {};
    const stalled = new Promise<void>((r) => {
      release = r;
    });
    let stalls = 0;
    b.volume.appendRecords = async (bytes: Buffer): Promise<RawAppendResult> => {
      stalls++;
      await stalled;
      return append(bytes);
    };
    for (let i = 0; i < 100; i++) await primary.write(i % 200, block(i % 200, i)); // ~400 KiB
    const st = await waitForStatus(group, b.replicaId, (s) => s.inFlightBytes > limit / 2, "window filling");
    expect(st.inFlightBytes).toBeLessThanOrEqual(limit);
    expect(st.cursorLsn).toBeLessThan(101); // it stopped short of the head
    release();
    await waitForStatus(group, b.replicaId, (s) => s.receivedLsn === 100, "all received");
    expect(stalls).toBeGreaterThan(0);
    const final = group.statuses()[0];
    expect(final?.peakInFlightBytes).toBeGreaterThan(0);
    expect(final?.peakInFlightBytes).toBeLessThanOrEqual(limit);
    expect(await durableFlush(primary, group, "sync_all")).toBe(100);
    await expectSameBlocks(primary, b.volume);
  });

  it("catch-up and live writes are one loop: writes during catch-up are never skipped", async () => {
    primary = await makeVolume(tmp.dir, "p", { walSizeBytes: 4 * 1024 * 1024 });
    b = new ReplicaNode("srv-b", await makeVolume(tmp.dir, "b"));
    await b.start();
    await b.stop(); // down while the primary writes
    group = makeGroup(primary, { batchBytes: 8 * 1024, maxInFlightBytes: 16 * 1024 });
    group.setReplicas([b.target()]);
    for (let i = 0; i < 60; i++) await primary.write(i, block(i, i));
    await b.start();
    // Keep writing while the shipper catches up (small batches make catch-up take many rounds).
    let i = 60;
    const writer = (async () => {
      for (; i < 160; i++) await primary.write(i % 256, block(i % 256, i));
    })();
    await writer;
    await waitForStatus(group, b.replicaId, (s) => s.state === "in_sync" && s.cursorLsn === 161, "caught up");
    expect(await durableFlush(primary, group, "sync_all")).toBe(160);
    await expectSameBlocks(primary, b.volume);
  });
});

describe("barriers during catch-up", () => {
  it("a barrier asked while the replica catches up waits for the cursor to pass it, then succeeds", async () => {
    const tmp = tmpDir();
    const primary = await makeVolume(tmp.dir, "p");
    const b = new ReplicaNode("srv-b", await makeVolume(tmp.dir, "b"));
    const group = makeGroup(primary, { batchBytes: 4200, maxInFlightBytes: 8400, barrierTimeoutMs: 20_000 });
    try {
      await b.start();
      await b.stop();
      group.setReplicas([b.target()]);
      for (let i = 0; i < 120; i++) await primary.write(i, block(i, i));
      await b.start();
      const st = await waitForStatus(
        group,
        b.replicaId,
        (s) => s.state === "catching_up" || s.state === "in_sync",
      );
      const [outcome] = await group.barrierAll(120);
      expect(outcome).toMatchObject({ ok: true });
      expect(outcome?.durableLsn).toBeGreaterThanOrEqual(120);
      expect(b.volume.durableLsn).toBeGreaterThanOrEqual(120);
      expect(st.cursorLsn).toBeGreaterThan(0);
      await expectSameBlocks(primary, b.volume);
    } finally {
      await group.close();
      await b.stop();
      await b.volume.close();
      await primary.close();
      tmp.cleanup();
    }
  });
});

describe("batch size against a small replica WAL", () => {
  it("halves its batches when the replica refuses one as too large, then catches up", async () => {
    const tmp = tmpDir();
    const primary = await makeVolume(tmp.dir, "p", { walSizeBytes: 2 * 1024 * 1024 });
    const b = new ReplicaNode("srv-b", await makeVolume(tmp.dir, "b", { walSizeBytes: 128 * 1024 }));
    const group = makeGroup(primary, { batchBytes: 256 * 1024 });
    try {
      await b.start();
      await b.stop();
      group.setReplicas([b.target()]);
      for (let i = 0; i < 60; i++) await primary.write(i, block(i, i)); // a 240 KiB backlog
      await b.start();
      await waitForStatus(group, b.replicaId, (s) => s.receivedLsn === 60, "caught up");
      expect(await durableFlush(primary, group, "sync_all")).toBe(60);
      await expectSameBlocks(primary, b.volume);
    } finally {
      await group.close();
      await b.stop();
      await b.volume.close();
      await primary.close();
      tmp.cleanup();
    }
  });
});
