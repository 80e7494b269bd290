import type { Volume } from "@blockship/storage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ShipperStatus } from "../src/api";
import { durableFlush } from "../src/durability";
import type { ShipperGroup } from "../src/group";
import { BS, block, makeGroup, makeVolume, ReplicaNode, tmpDir, waitForStatus } from "./helpers";

describe("group lifecycle and edge cases", () => {
  let tmp: ReturnType<typeof tmpDir>;
  let primary: Volume;
  const nodes: ReplicaNode[] = [];
  let group: ShipperGroup;
  const events: ShipperStatus[] = [];

  const node = async (serverId: string): Promise<ReplicaNode> => {
    const n = new ReplicaNode(serverId, await makeVolume(tmp.dir, serverId));
    await n.start();
    nodes.push(n);
    return n;
  };

  beforeEach(async () => {
    tmp = tmpDir();
    primary = await makeVolume(tmp.dir, "p");
    group = makeGroup(primary);
    events.length = 0;
    group.on("stateChange", (s) => events.push(s));
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

  it("setReplicas leaves unchanged shippers alone and releases removed replicas' pins", async () => {
    const b = await node("srv-b");
    const c = await node("srv-c");
    group.setReplicas([b.target(), c.target()]);
    await waitForStatus(group, b.replicaId, (s) => s.state === "in_sync", "b");
    await waitForStatus(group, c.replicaId, (s) => s.state === "in_sync", "c");
    expect(primary.pinnedLsn(c.replicaId)).toBeDefined();
    const handshakes = b.receiver.stats.handshakes;
    group.setReplicas([b.target()]);
    expect(group.statuses().map((s) => s.replicaId)).toEqual([b.replicaId]);
    expect(primary.pinnedLsn(c.replicaId)).toBeUndefined();
    await primary.write(0, block(0, 1));
    expect(await durableFlush(primary, group, "sync_all")).toBe(1);
    expect(b.receiver.stats.handshakes).toBe(handshakes); // b was not reconnected
    expect(c.volume.headLsn).toBe(0);
  });

  it("a replica with divergent history needs a rebuild: the handshake compares records, nothing is shipped", async () => {
    const b = await node("srv-b");
    for (let i = 0; i < 3; i++) await b.volume.write(i, block(i, 1000 + i)); // its own LSNs 1..3
    for (let i = 0; i < 5; i++) await primary.write(i, block(i, i));
    const reasons: string[] = [];
    group.on("needsRebuild", (_id, reason) => reasons.push(reason));
    group.setReplicas([b.target()]);
    await waitForStatus(group, b.replicaId, (s) => s.state === "needs_rebuild", "needs_rebuild");
    expect(reasons[0]).toMatch(/^needs_rebuild: divergent_history at LSN 3 /);
    expect(b.receiver.stats.streams).toBe(0);
    expect(b.volume.headLsn).toBe(3);
  });

  it("records of an older epoch (written before a promotion) are caught up like any history", async () => {
    const b = await node("srv-b");
    for (let i = 0; i < 3; i++) await primary.write(i, block(i, i)); // epoch 1
    await primary.setEpoch(2);
    await b.volume.setEpoch(2);
    b.auth.epoch = 2;
    await primary.write(3, block(3, 3)); // epoch 2
    const reasons: string[] = [];
    group.on("needsRebuild", (_id, reason) => reasons.push(reason));
    group.setReplicas([b.target()]);
    await waitForStatus(group, b.replicaId, (s) => s.state === "in_sync" && s.receivedLsn === 4, "caught up");
    const [outcome] = await group.barrierAll(4);
    expect(outcome?.ok).toBe(true);
    expect(reasons).toEqual([]);
    for (let i = 0; i < 4; i++) expect((await b.volume.read(i, BS)).equals(block(i, i))).toBe(true);
  });

  it("a policy that throws fails closed", async () => {
    const b = await node("srv-b");
    group.setPolicy(() => {
      throw new Error("state cache not ready");
    });
    group.setReplicas([b.target()]);
    const st = await waitForStatus(group, b.replicaId, (s) => s.gateReason !== undefined, "gated");
    expect(st.gateReason).toBe("policy_error: state cache not ready");
    expect(b.receiver.stats.handshakes).toBe(0);
  });

  it("closing during a transfer neither hangs nor leaks; a stopped receiver ends its streams", async () => {
    const b = await node("srv-b");
    group.setReplicas([b.target()]);
    await waitForStatus(group, b.replicaId, (s) => s.state === "in_sync", "in sync");
    const writes: Promise<number>[] = [];
    for (let i = 0; i < 100; i++) writes.push(primary.write(i % 200, block(i % 200, i)));
    await Promise.all(writes);
    b.receiver.close(); // e.g. the replica was demoted: its streams end with shutting_down
    await waitForStatus(
      group,
      b.replicaId,
      (s) => s.state === "degraded" && /shutting_down/.test(s.lastError ?? ""),
    );
    const [outcome] = await group.barrierAll(100);
    expect(outcome?.ok).toBe(false);
    await group.close();
    expect(primary.pinnedLsn(b.replicaId)).toBeUndefined();
    const [after] = await group.barrierAll(1);
    expect(after).toBeUndefined(); // no shippers left
    expect(events.some((e) => e.state === "in_sync")).toBe(true);
  });
});
