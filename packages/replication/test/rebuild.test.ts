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
  waitFor,
  waitForStatus,
} from "./helpers";

describe("handshake classification and needs_rebuild", () => {
  let tmp: ReturnType<typeof tmpDir>;
  let primary: Volume;
  let b: ReplicaNode;
  let group: ShipperGroup;
  const rebuilds: Array<[string, string]> = [];

  const setup = async (primaryOpts = {}): Promise<void> => {
    primary = await makeVolume(tmp.dir, "p", primaryOpts);
    b = new ReplicaNode("srv-b", await makeVolume(tmp.dir, "b"));
    await b.start();
    group = makeGroup(primary);
    group.on("needsRebuild", (id, reason) => rebuilds.push([id, reason]));
  };

  beforeEach(() => {
    tmp = tmpDir();
    rebuilds.length = 0;
  });

  afterEach(async () => {
    await group.close();
    await b.stop();
    await b.volume.close();
    await primary.close();
    tmp.cleanup();
  });

  it("a replica behind the retained WAL needs a rebuild (sticky until restarted)", async () => {
    await setup();
    for (let i = 0; i < 30; i++) await primary.write(i, block(i, i));
    await primary.checkpoint(); // nothing pins the WAL yet: the tail moves past LSN 1
    expect(primary.tailLsn).toBeGreaterThan(0);
    group.setReplicas([b.target()]);
    await waitForStatus(group, b.replicaId, (s) => s.state === "needs_rebuild", "needs_rebuild");
    expect(rebuilds).toHaveLength(1);
    expect(rebuilds[0]?.[1]).toMatch(/^wal_recycled: replica head 0 is below the retained WAL/);
    expect(b.receiver.stats.streams).toBe(0);
    expect(primary.pinnedLsn(b.replicaId)).toBeUndefined(); // no point retaining for it
    const [outcome] = await group.barrierAll(30);
    expect(outcome).toMatchObject({ ok: false, reason: "needs_rebuild" });
    await expect(durableFlush(primary, group, "sync_all")).rejects.toThrow(/durability_barrier_failed/);
    // Sticky: more writes and the unchanged target do not revive it.
    await primary.write(0, block(0, 99));
    group.setReplicas([b.target()]);
    expect(group.statuses()[0]?.state).toBe("needs_rebuild");
    expect(rebuilds).toHaveLength(1);
  });

  it("a replica ahead of the primary needs a rebuild with reason replica_ahead", async () => {
    await setup();
    for (let i = 0; i < 5; i++) await b.volume.write(i, block(i, 50 + i));
    for (let i = 0; i < 2; i++) await primary.write(i, block(i, i));
    group.setReplicas([b.target()]);
    await waitForStatus(group, b.replicaId, (s) => s.state === "needs_rebuild", "needs_rebuild");
    expect(rebuilds[0]?.[1]).toMatch(/^replica_ahead: replica head 5 > primary head 2/);
  });

  it("a replica that has part of the log catches up from its head", async () => {
    await setup();
    primary.pinWal("t", 1);
    for (let i = 0; i < 20; i++) await primary.write(i, block(i, i));
    // The replica already holds LSNs 1..8 (e.g. shipped before a primary restart).
    await b.volume.appendRecords((await primary.readRecords(1, 8 * (4096 + 64))).bytes.subarray(0));
    const head = b.volume.headLsn;
    expect(head).toBeGreaterThan(0);
    group.setReplicas([b.target()]);
    await waitForStatus(group, b.replicaId, (s) => s.receivedLsn === 20, "caught up");
    expect(b.receiver.stats.recordsSkipped).toBe(0); // it started at head + 1
    expect(b.receiver.stats.recordsAppended).toBe(20 - head);
    expect(await durableFlush(primary, group, "sync_all")).toBe(20);
    await expectSameBlocks(primary, b.volume);
  });

  it("storage's retention budget releases a dead replica's pin and reports needs_rebuild", async () => {
    await setup({ retentionMaxHeldBytes: 64 * 1024, retentionCheckIntervalMs: 10 });
    await b.stop();
    group.setReplicas([b.target()]);
    expect(primary.pinnedLsn(b.replicaId)).toBe(1);
    for (let i = 0; i < 40; i++) await primary.write(i, block(i, i)); // ~160 KiB held
    await waitForStatus(group, b.replicaId, (s) => s.state === "needs_rebuild", "needs_rebuild");
    expect(rebuilds[0]?.[1]).toMatch(/^retention_max_bytes/);
    expect(primary.pinnedLsn(b.replicaId)).toBeUndefined();
    // restartReplica gives it a fresh shipper (the agent's path after a rebuild).
    await b.start();
    expect(group.restartReplica(b.replicaId)).toBe(true);
    await waitFor(() => group.statuses()[0]?.state !== "needs_rebuild" || undefined, "fresh shipper");
  });

  it("an epoch mismatch degrades the shipper (not sticky) and barriers fail fast with the reason", async () => {
    await setup();
    b.auth.epoch = 2;
    await b.volume.setEpoch(2);
    group.setReplicas([b.target()]);
    const st = await waitForStatus(
      group,
      b.replicaId,
      (s) => s.state === "degraded" && !!s.lastError,
      "degraded",
    );
    expect(st.lastError).toMatch(/epoch_mismatch: replica epoch 2, primary epoch 1/);
    const [outcome] = await group.barrierAll(0);
    expect(outcome?.ok).toBe(false);
    expect(outcome?.reason).toMatch(/epoch_mismatch/);
    await primary.setEpoch(2);
    await primary.write(0, block(0, 1));
    await waitForStatus(
      group,
      b.replicaId,
      (s) => s.state === "in_sync" && s.cursorLsn === 2,
      "in sync at epoch 2",
    );
    expect(await durableFlush(primary, group, "sync_all")).toBe(1);
  });

  it("a replica assigned to another primary refuses us; the shipper reports it", async () => {
    await setup();
    b.auth.primaryServerId = "srv-other";
    group.setReplicas([b.target()]);
    const st = await waitForStatus(
      group,
      b.replicaId,
      (s) => s.state === "degraded" && !!s.lastError,
      "degraded",
    );
    expect(st.lastError).toMatch(/unauthenticated_peer/);
    expect(b.volume.headLsn).toBe(0);
  });
});

describe("a replica that lost its data", () => {
  it("is not trusted on old barrier knowledge", async () => {
    const tmp = tmpDir();
    const primary = await makeVolume(tmp.dir, "p", { walSizeBytes: 4 * 1024 * 1024 });
    let b = new ReplicaNode("srv-b", await makeVolume(tmp.dir, "b"));
    const group = makeGroup(primary);
    try {
      await b.start();
      group.setReplicas([b.target()]);
      await waitForStatus(group, b.replicaId, (s) => s.state === "in_sync", "in sync");
      for (let i = 0; i < 10; i++) await primary.write(i, block(i, i));
      expect(await durableFlush(primary, group, "sync_all")).toBe(10);
      // Checkpoint now so the retained WAL starts after LSN 10 (the barrier released the pin);
      // otherwise the flusher's timing decides whether the empty replica can still catch up.
      await primary.checkpoint();
      expect(primary.tailLsn).toBeGreaterThan(1);
      // The replica comes back at the same address with an empty disk.
      await b.stop();
      await waitForStatus(group, b.replicaId, (s) => s.state === "degraded", "noticed");
      await b.volume.close();
      b = new ReplicaNode("srv-b", await makeVolume(tmp.dir, "b2"), Number(b.address.split(":")[1]));
      // While it is away, old knowledge (durable 10) does not make a flush succeed.
      const err = await durableFlush(primary, group, "sync_all").catch((e: unknown) => e);
      expect(String(err)).toMatch(/durability_barrier_failed/);
      await b.start();
      // Its head (0) is below what the primary retained after the barrier proved LSN 10 durable:
      // it needs a rebuild, and sync_all keeps failing instead of trusting the old barrier.
      const st = await waitForStatus(group, b.replicaId, (s) => s.state === "needs_rebuild", "needs_rebuild");
      expect(st.lastError).toMatch(/^wal_recycled: replica head 0/);
      expect(st.durableLsn).toBe(0); // the handshake lowered it
      await expect(durableFlush(primary, group, "sync_all")).rejects.toThrow(/durability_barrier_failed/);
    } finally {
      await group.close();
      await b.stop();
      await b.volume.close();
      await primary.close();
      tmp.cleanup();
    }
  });
});
