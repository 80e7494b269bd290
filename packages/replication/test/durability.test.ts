import { reasonOf } from "@blockship/rpc";
import type { Volume } from "@blockship/storage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BarrierOutcome } from "../src/api";
import { DurabilityCoordinator, decideDurability, durableFlush } from "../src/durability";
import { isReplicationError } from "../src/errors";
import type { ShipperGroup } from "../src/group";
import {
  block,
  expectSameBlocks,
  makeFaultyVolume,
  makeGroup,
  makeVolume,
  ReplicaNode,
  tmpDir,
  waitForStatus,
} from "./helpers";

const ok = (id: string): BarrierOutcome => ({ replicaId: id, ok: true, durableLsn: 9 });
const bad = (id: string): BarrierOutcome => ({ replicaId: id, ok: false, durableLsn: 0, reason: "timeout" });

describe("decideDurability (the mode table)", () => {
  it("applies best_effort, sync_all and sync_quorum", () => {
    expect(() => decideDurability("best_effort", 9, [bad("a"), bad("b")])).not.toThrow();
    expect(() => decideDurability("sync_all", 9, [])).not.toThrow();
    expect(() => decideDurability("sync_quorum", 9, [])).not.toThrow();
    expect(() => decideDurability("sync_all", 9, [ok("a"), ok("b")])).not.toThrow();
    expect(() => decideDurability("sync_all", 9, [ok("a"), bad("b")])).toThrow(
      /durability_barrier_failed: 1 of 2 barriers failed for LSN 9: b: timeout/,
    );
    // RF=3: 1 + 1 >= floor(3/2) + 1 = 2
    expect(() => decideDurability("sync_quorum", 9, [ok("a"), bad("b")])).not.toThrow();
    expect(() => decideDurability("sync_quorum", 9, [bad("a"), bad("b")])).toThrow(/durability_quorum_lost/);
    // RF=2: a quorum of 2 copies needs the replica
    expect(() => decideDurability("sync_quorum", 9, [bad("a")])).toThrow(/durability_quorum_lost/);
    // RF=5: 1 + 2 >= 3
    expect(() => decideDurability("sync_quorum", 9, [ok("a"), ok("b"), bad("c"), bad("d")])).not.toThrow();
    expect(() => decideDurability("sync_quorum", 9, [ok("a"), bad("b"), bad("c"), bad("d")])).toThrow();
  });
});

describe("distributed flush", () => {
  let tmp: ReturnType<typeof tmpDir>;
  let primary: Volume;
  const nodes: ReplicaNode[] = [];
  let group: ShipperGroup;

  const node = async (serverId: string, start = true): Promise<ReplicaNode> => {
    const n = new ReplicaNode(serverId, await makeVolume(tmp.dir, serverId));
    await n.start();
    if (!start) await n.stop(); // keeps the port: "a replica that is down"
    nodes.push(n);
    return n;
  };

  beforeEach(async () => {
    tmp = tmpDir();
    primary = await makeVolume(tmp.dir, "p");
    group = makeGroup(primary, { idleBarrierMs: 60_000 });
  });

  afterEach(async () => {
    await group.close();
    for (const n of nodes.splice(0)) {
      await n.stop();
      await n.volume.close();
    }
    await primary.close();
    tmp.cleanup();
  });

  it("sync_all fails loudly while the replica is down and succeeds after it returns (catch-up)", async () => {
    const b = await node("srv-b", false);
    group.setReplicas([b.target()]);
    for (let i = 0; i < 30; i++) await primary.write(i, block(i, i)); // writes still succeed locally
    const err = await durableFlush(primary, group, "sync_all").catch((e: unknown) => e);
    expect(isReplicationError(err, "durability_barrier_failed")).toBe(true);
    expect(reasonOf(err)).toBe("durability_barrier_failed");
    expect(String(err)).toMatch(/1 of 1 barriers failed/);
    expect(primary.durableLsn).toBe(30); // the local fsync happened; the flush still failed
    await b.start();
    await waitForStatus(group, b.replicaId, (s) => s.state === "in_sync" && s.cursorLsn === 31, "caught up");
    for (let i = 30; i < 40; i++) await primary.write(i, block(i, i));
    expect(await durableFlush(primary, group, "sync_all")).toBe(40);
    expect(b.volume.durableLsn).toBeGreaterThanOrEqual(40);
    await expectSameBlocks(primary, b.volume);
  });

  it("a sync_all group with replicas writes small appends plain (the flush syncs them beside the barriers)", async () => {
    const b = await node("srv-b");
    const g = makeGroup(primary, { durabilityMode: () => "sync_all" });
    try {
      await primary.write(0, block(0, 1));
      expect(primary.stats().admission.durableBatches).toBe(1); // no replicas yet: O_DSYNC
      g.setReplicas([b.target()]);
      await waitForStatus(g, b.replicaId, (s) => s.state === "in_sync", "in sync");
      await primary.write(1, block(1, 1));
      expect(primary.stats().admission.durableBatches).toBe(1);
      expect(primary.durableLsn).toBe(1);
      expect(await durableFlush(primary, g, "sync_all")).toBe(2);
      expect(primary.durableLsn).toBe(2);
      expect(b.volume.durableLsn).toBeGreaterThanOrEqual(2);
      g.setReplicas([]);
      await primary.write(2, block(2, 1));
      expect(primary.stats().admission.durableBatches).toBe(2);
    } finally {
      await g.close();
    }
  });

  it("best_effort succeeds with the replica down; the shipper is degraded", async () => {
    const b = await node("srv-b", false);
    group.setReplicas([b.target()]);
    await primary.write(0, block(0, 1));
    expect(await durableFlush(primary, group, "best_effort")).toBe(1);
    await waitForStatus(group, b.replicaId, (s) => s.state === "degraded", "degraded");
  });

  it("no replicas configured → local only in every mode", async () => {
    await primary.write(0, block(0, 1));
    expect(await durableFlush(primary, null, "sync_all")).toBe(1);
    expect(await durableFlush(primary, group, "sync_quorum")).toBe(1);
  });

  it("sync_quorum: 2 replicas, one down succeeds; both down fails with durability_quorum_lost", async () => {
    const b = await node("srv-b");
    const c = await node("srv-c", false);
    group.setReplicas([b.target(), c.target()]);
    await waitForStatus(group, b.replicaId, (s) => s.state === "in_sync", "b in sync");
    await primary.write(0, block(0, 1));
    expect(await durableFlush(primary, group, "sync_quorum")).toBe(1);
    await b.stop();
    await waitForStatus(group, b.replicaId, (s) => s.state === "degraded", "b degraded");
    await primary.write(1, block(1, 1));
    const err = await durableFlush(primary, group, "sync_quorum").catch((e: unknown) => e);
    expect(reasonOf(err)).toBe("durability_quorum_lost");
    expect(String(err)).toMatch(/1 of 3 copies durable at LSN 2, 2 needed/);
  });

  it("concurrent flushes share barrier rounds", async () => {
    const b = await node("srv-b");
    group.setReplicas([b.target()]);
    await waitForStatus(group, b.replicaId, (s) => s.state === "in_sync", "in sync");
    const coordinator = new DurabilityCoordinator(
      primary,
      () => group,
      () => "sync_all",
    );
    const flushes: Promise<number>[] = [];
    for (let i = 0; i < 40; i++) {
      await primary.write(i % 64, block(i % 64, i));
      flushes.push(coordinator.flush());
    }
    const lsns = await Promise.all(flushes);
    expect(Math.max(...lsns)).toBe(40);
    // Every flush is covered by a round that started after its write.
    for (const [i, lsn] of lsns.entries()) expect(lsn).toBeGreaterThanOrEqual(i + 1);
    expect(coordinator.rounds).toBeLessThan(40);
    expect(b.receiver.stats.barriers).toBeLessThanOrEqual(coordinator.rounds);
  });

  it("a local fsync failure fails the flush in every mode", async () => {
    const b = await node("srv-b");
    const { volume, device } = await makeFaultyVolume(tmp.dir, "faulty");
    const g = makeGroup(volume);
    try {
      g.setReplicas([b.target()]);
      await waitForStatus(g, b.replicaId, (s) => s.state === "in_sync", "in sync");
      await volume.write(0, block(0, 1));
      device.failSync = true;
      for (const mode of ["sync_all", "best_effort", "sync_quorum"] as const) {
        const err = await durableFlush(volume, g, mode).catch((e: unknown) => e);
        expect(err, mode).toBeInstanceOf(Error);
        expect(isReplicationError(err), mode).toBe(false); // the local error, not a replica verdict
      }
      expect(await durableFlush(volume, null, "best_effort").catch((e: unknown) => e)).toBeInstanceOf(Error);
    } finally {
      await g.close();
      await volume.close().catch(() => {});
    }
  });

  it("a replica fsync failure fails sync_all with the replica's reason", async () => {
    const { volume: rv, device } = await makeFaultyVolume(tmp.dir, "rb");
    const b = new ReplicaNode("srv-b", rv);
    await b.start();
    nodes.push(b);
    group.setReplicas([b.target()]);
    await waitForStatus(group, b.replicaId, (s) => s.state === "in_sync", "in sync");
    await primary.write(0, block(0, 1));
    device.failSync = true;
    const err = await durableFlush(primary, group, "sync_all").catch((e: unknown) => e);
    expect(reasonOf(err)).toBe("durability_barrier_failed");
    expect(String(err)).toMatch(/fsync failed/);
    // The replica names its disk's failure, and keeps failing: its failed sync is sticky.
    expect(String(err)).toMatch(/io_error: fsync failed/);
    device.failSync = false;
    const again = await durableFlush(primary, group, "sync_all").catch((e: unknown) => e);
    expect(String(again)).toMatch(/volume_failed: fsync failed/);
  });

  it("a barrier times out with reason timeout, and the late answer still advances durableLsn", async () => {
    const { volume: rv, device } = await makeFaultyVolume(tmp.dir, "rb");
    const b = new ReplicaNode("srv-b", rv);
    await b.start();
    nodes.push(b);
    const g = makeGroup(primary, { barrierTimeoutMs: 200, idleBarrierMs: 60_000 });
    try {
      g.setReplicas([b.target()]);
      await waitForStatus(g, b.replicaId, (s) => s.state === "in_sync", "in sync");
      await primary.write(0, block(0, 1));
      let release: () => void = () => {};
      device.holdSync = new Promise<void>((r) => {
        release = r;
      });
      const [outcome] = await g.barrierAll(1);
      expect(outcome).toMatchObject({ ok: false, reason: "timeout", durableLsn: 0 });
      device.holdSync = undefined;
      release();
      await waitForStatus(g, b.replicaId, (s) => s.durableLsn >= 1, "late durable");
      const [again] = await g.barrierAll(1);
      expect(again).toMatchObject({ ok: true, durableLsn: 1 });
    } finally {
      await g.close();
    }
  });
});
