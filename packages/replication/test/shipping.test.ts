import type { Volume } from "@blockship/storage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { durableFlush } from "../src/durability";
import type { ShipperGroup } from "../src/group";
import {
  block,
  expectSameBlocks,
  makeGroup,
  makeVolume,
  ReplicaNode,
  tmpDir,
  waitForStatus,
} from "./helpers";

describe("live shipping", () => {
  let tmp: ReturnType<typeof tmpDir>;
  let primary: Volume;
  let replica: ReplicaNode;
  let group: ShipperGroup;

  beforeEach(async () => {
    tmp = tmpDir();
    primary = await makeVolume(tmp.dir, "p", { durabilityMode: "sync_all" });
    replica = new ReplicaNode("srv-b", await makeVolume(tmp.dir, "b"));
    await replica.start();
    group = makeGroup(primary);
  });

  afterEach(async () => {
    await group.close();
    await replica.stop();
    await primary.close();
    await replica.volume.close();
    tmp.cleanup();
  });

  it("ships writes and trims byte for byte and a sync_all flush confirms them", async () => {
    group.setReplicas([replica.target()]);
    await waitForStatus(group, replica.replicaId, (s) => s.state === "in_sync", "connected");
    for (let i = 0; i < 50; i++) await primary.write(i % 40, block(i % 40, i));
    await primary.trim(3, 2 * 4096);
    const lsn = await durableFlush(primary, group, "sync_all");
    expect(lsn).toBe(primary.headLsn);
    const st = await waitForStatus(group, replica.replicaId, (s) => s.durableLsn >= lsn, "durable");
    expect(st.state).toBe("in_sync");
    expect(replica.volume.durableLsn).toBeGreaterThanOrEqual(lsn);
    await expectSameBlocks(primary, replica.volume);
  });

  it("reports each barrier answer that raises the durable LSN (durableAdvanced)", async () => {
    const seen: Array<[string, number]> = [];
    group.on("durableAdvanced", (id: string, lsn: number) => seen.push([id, lsn]));
    group.setReplicas([replica.target()]);
    await waitForStatus(group, replica.replicaId, (s) => s.state === "in_sync", "connected");
    for (let i = 0; i < 5; i++) await primary.write(i, block(i, i));
    const first = await durableFlush(primary, group, "sync_all");
    for (let i = 5; i < 9; i++) await primary.write(i, block(i, i));
    const second = await durableFlush(primary, group, "sync_all");
    // Emitted before the flush's barrier settles: the host learns of it without polling.
    expect(seen.map(([id]) => id)).toEqual(seen.map(() => replica.replicaId));
    const lsns = seen.map(([, lsn]) => lsn);
    expect(lsns).toContain(first);
    expect(lsns[lsns.length - 1]).toBe(second);
    expect([...lsns].sort((a, b) => a - b)).toEqual(lsns); // only advances
    expect(new Set(lsns).size).toBe(lsns.length);
  });
});

describe("repeated disconnects", () => {
  it("converge: every cycle of down/writes/up ends with identical copies and no lost entry", async () => {
    const tmp = tmpDir();
    const primary = await makeVolume(tmp.dir, "p", { walSizeBytes: 2 * 1024 * 1024 });
    const b = new ReplicaNode("srv-b", await makeVolume(tmp.dir, "b"));
    const group = makeGroup(primary, { batchBytes: 16 * 1024, maxInFlightBytes: 32 * 1024 });
    try {
      await b.start();
      group.setReplicas([b.target()]);
      let n = 0;
      for (let cycle = 0; cycle < 4; cycle++) {
        for (let i = 0; i < 15; i++, n++) await primary.write(n % 200, block(n % 200, n));
        await b.stop(); // mid-stream: whatever was in flight is cut off
        for (let i = 0; i < 15; i++, n++) await primary.write(n % 200, block(n % 200, n));
        await expect(durableFlush(primary, group, "sync_all")).rejects.toThrow(/durability_barrier_failed/);
        await b.start();
        await waitForStatus(group, b.replicaId, (s) => s.receivedLsn === n, `cycle ${cycle} caught up`);
        expect(await durableFlush(primary, group, "sync_all")).toBe(n);
      }
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
