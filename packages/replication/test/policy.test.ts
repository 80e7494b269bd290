import type { Volume } from "@blockship/storage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LiveShippingPolicy } from "../src/api";
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

describe("live-shipping policy (phase gate)", () => {
  let tmp: ReturnType<typeof tmpDir>;
  let primary: Volume;
  const nodes: ReplicaNode[] = [];
  let group: ShipperGroup;
  const denied = new Set<string>();
  const asked: Array<[string, number]> = [];
  const policy: LiveShippingPolicy = (replicaId, lsn) => {
    asked.push([replicaId, lsn]);
    return denied.has(replicaId)
      ? { allow: false, reason: `active_catchup_session phase=catching_up start=0 target=${lsn} recovered=0` }
      : { allow: true };
  };

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
    denied.clear();
    asked.length = 0;
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

  it("blocks before any dial or send; when allowed, resumes from the cursor without losing an entry", async () => {
    const b = await node("srv-b");
    denied.add(b.replicaId);
    group.setPolicy(policy); // installed before any shipper exists
    group.setReplicas([b.target()]);
    for (let i = 0; i < 20; i++) await primary.write(i, block(i, i));
    const st = await waitForStatus(group, b.replicaId, (s) => s.gateReason !== undefined, "gated");
    expect(st.gateReason).toMatch(/^active_catchup_session phase=catching_up/);
    expect(asked.every(([id]) => id === b.replicaId)).toBe(true);
    const err = await durableFlush(primary, group, "sync_all").catch((e: unknown) => e);
    expect(String(err)).toMatch(/durability_barrier_failed/);
    expect(b.receiver.stats.handshakes).toBe(0);
    expect(b.receiver.stats.streams).toBe(0);
    expect(b.volume.headLsn).toBe(0);
    denied.delete(b.replicaId);
    group.policyChanged();
    await waitForStatus(group, b.replicaId, (s) => s.state === "in_sync" && s.cursorLsn === 21, "caught up");
    expect(await durableFlush(primary, group, "sync_all")).toBe(20);
    await expectSameBlocks(primary, b.volume);
  });

  it("gates the live tail mid-stream: the replica gets nothing past the gate until it opens", async () => {
    const b = await node("srv-b");
    group.setPolicy(policy);
    group.setReplicas([b.target()]);
    for (let i = 0; i < 10; i++) await primary.write(i, block(i, i));
    await waitForStatus(group, b.replicaId, (s) => s.receivedLsn === 10, "received 10");
    denied.add(b.replicaId);
    for (let i = 10; i < 30; i++) await primary.write(i, block(i, i));
    const st = await waitForStatus(group, b.replicaId, (s) => s.gateReason !== undefined, "gated");
    expect(st.cursorLsn).toBe(11); // the cursor waits where the gate stopped it
    expect(b.volume.headLsn).toBe(10);
    // Entries already shipped can still be made durable; the gated ones cannot.
    expect((await group.barrierAll(10))[0]).toMatchObject({ ok: true });
    const [blocked] = await group.barrierAll(30);
    expect(blocked?.ok).toBe(false);
    expect(blocked?.reason).toMatch(/^live_shipping_blocked: active_catchup_session/);
    expect(b.volume.headLsn).toBe(10);
    denied.delete(b.replicaId);
    group.setPolicy(policy); // re-installing also wakes the shippers
    await waitForStatus(
      group,
      b.replicaId,
      (s) => s.cursorLsn === 31 && s.gateReason === undefined,
      "resumed",
    );
    expect(await durableFlush(primary, group, "sync_all")).toBe(30);
    await expectSameBlocks(primary, b.volume);
  });

  it("a barrier for entries the gate holds back fails fast, not at its timeout", async () => {
    const b = await node("srv-b");
    group.setPolicy(policy);
    group.setReplicas([b.target()]);
    await primary.write(0, block(0, 0));
    await waitForStatus(group, b.replicaId, (s) => s.state === "in_sync" && s.receivedLsn === 1, "in sync");
    denied.add(b.replicaId);
    await primary.write(1, block(1, 1));
    const [outcome] = await group.barrierAll(2); // asked before or after the pump met the gate
    expect(outcome?.ok).toBe(false);
    expect(outcome?.reason).toMatch(/^live_shipping_blocked: active_catchup_session/);
  });

  it("a catch-up window that ends at the head is confirmed at once, not after the idle-barrier delay", async () => {
    await group.close();
    group = makeGroup(primary, { idleBarrierMs: 60_000, backgroundBarrierBytes: 64 * 1024 * 1024 });
    const b = await node("srv-b");
    const target = 20;
    // A catch-up session froze its target at what will be the head: entries up to it may go, the
    // live tail after it not; the session completes on a barrier answer covering the target.
    group.setPolicy((_id, lsn) =>
      lsn <= target
        ? { allow: true }
        : {
            allow: false,
            reason: `active_catchup_session phase=catching_up start=0 target=${target} recovered=0`,
          },
    );
    for (let i = 0; i < 10; i++) await primary.write(i, block(i, i));
    group.setReplicas([b.target()]);
    await waitForStatus(group, b.replicaId, (s) => s.durableLsn === 10, "first barrier answered");
    // The rest of the window goes out well under backgroundBarrierBytes and within idleBarrierMs of
    // the first barrier: only the end of the window can send the barrier that completes it.
    for (let i = 10; i < target; i++) await primary.write(i, block(i, i));
    await waitForStatus(group, b.replicaId, (s) => s.durableLsn === target, "window durable", 10_000);
    await expectSameBlocks(primary, b.volume);
  });

  it("survives setReplicas: added and replaced shippers obey the stored policy", async () => {
    const b = await node("srv-b");
    const c = await node("srv-c");
    denied.add(b.replicaId);
    denied.add(c.replicaId);
    group.setPolicy(policy);
    group.setReplicas([b.target()]);
    await primary.write(0, block(0, 1));
    await waitForStatus(group, b.replicaId, (s) => s.gateReason !== undefined, "b gated");
    group.setReplicas([b.target(), c.target()]);
    await waitForStatus(group, c.replicaId, (s) => s.gateReason !== undefined, "c gated");
    // A changed address replaces b's shipper; the new one is gated too.
    group.setReplicas([{ ...b.target(), address: b.address.replace("127.0.0.1", "localhost") }, c.target()]);
    await waitForStatus(
      group,
      b.replicaId,
      (s) => s.address.startsWith("localhost") && s.gateReason !== undefined,
    );
    expect(b.receiver.stats.handshakes + c.receiver.stats.handshakes).toBe(0);
    expect(b.volume.headLsn + c.volume.headLsn).toBe(0);
    // Clearing the policy lets both through.
    group.setPolicy(null);
    await waitForStatus(group, b.replicaId, (s) => s.state === "in_sync" && s.cursorLsn === 2, "b in sync");
    await waitForStatus(group, c.replicaId, (s) => s.state === "in_sync" && s.cursorLsn === 2, "c in sync");
    expect(await durableFlush(primary, group, "sync_all")).toBe(1);
  });
});
