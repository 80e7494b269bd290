import * as path from "node:path";
import { type HandshakeResponse__Output, type ReplicationClient, reasonOf, unary } from "@blockship/rpc";
import { openVolumeFile, type Volume } from "@blockship/storage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TcpProxy } from "../../../test/support/tcp-proxy";
import { connectReplication } from "../src/connect";
import { durableFlush } from "../src/durability";
import type { ShipperGroup } from "../src/group";
import { type ResyncProgress, resyncPinOwner } from "../src/resync-source";
import { replicaFactsFromWire } from "../src/ship-stream";
import {
  BS,
  block,
  expectSameBlocks,
  makeGroup,
  makeVolume,
  PRIMARY_ID,
  ReplicaNode,
  SMALL_VOLUME,
  tmpDir,
  VOLUME_ID,
  waitForStatus,
} from "./helpers";
import { forkOf, resync } from "./resync-helpers";

// Changed-block resync end to end: a primary volume and a replica agent in process, real files,
// real gRPC on loopback; the resync hands over to the cursor shipper and both copies read equal.

describe("changed-block resync", () => {
  let tmp: ReturnType<typeof tmpDir>;
  let primary: Volume;
  let b: ReplicaNode;
  let client: ReplicationClient;
  const groups: ShipperGroup[] = [];
  let proxy: TcpProxy | undefined;

  const ship = async (): Promise<ShipperGroup> => {
    const g = makeGroup(primary);
    groups.push(g);
    g.setReplicas([b.target()]);
    await waitForStatus(g, b.replicaId, (s) => s.state === "in_sync", "in_sync");
    return g;
  };

  /** Ships `count` writes to b, then disconnects it (the group goes, and its pin). */
  const shipThenDisconnect = async (count: number): Promise<void> => {
    const g = await ship();
    for (let i = 0; i < count; i++) await primary.write(i, block(i, 1));
    expect(await durableFlush(primary, g, "sync_all")).toBe(primary.headLsn);
    await g.close();
  };

  /** After a resync: the shipper streams from base + 1, and both copies read equal. */
  const handOverAndCompare = async (baseLsn: number): Promise<void> => {
    expect(b.volume.headLsn).toBe(baseLsn);
    const streamsBefore = b.receiver.stats.streams;
    const g = await ship();
    await primary.write(7, block(7, 4242));
    expect(await durableFlush(primary, g, "sync_all")).toBe(primary.headLsn);
    expect(b.receiver.stats.streams).toBeGreaterThan(streamsBefore);
    expect(b.volume.headLsn).toBe(primary.headLsn);
    expect(b.volume.resyncState().pending).toBe(false);
    await expectSameBlocks(primary, b.volume);
  };

  const setup = async (primaryOpts: Parameters<typeof makeVolume>[2] = {}): Promise<void> => {
    primary = await makeVolume(tmp.dir, "p", primaryOpts);
    b = new ReplicaNode("srv-b", await makeVolume(tmp.dir, "b"));
    await b.start();
    client = connectReplication(b.address);
  };

  beforeEach(() => {
    tmp = tmpDir();
  });

  afterEach(async () => {
    for (const g of groups.splice(0)) await g.close();
    client?.close();
    await proxy?.close();
    proxy = undefined;
    await b?.stop();
    await b?.volume.close();
    await primary?.close();
    tmp.cleanup();
  });

  it("resyncs a replica that is behind beyond the retained WAL; the shipper then streams from base + 1", async () => {
    await setup();
    await shipThenDisconnect(20);
    const replicaHead = b.volume.headLsn;
    // More than the whole WAL is written while b is away, over a few distinct blocks.
    for (let i = 0; i < 400; i++) await primary.write(i % 48, block(i % 48, 100 + i));
    await primary.checkpoint();
    expect(primary.tailLsn).toBeGreaterThan(replicaHead);
    const fork = await forkOf(client, primary, b);
    expect(fork).toBe(replicaHead);
    const result = await resync(primary, client, b, fork as number);
    expect(result.passes).toBe(1);
    expect(result.blocksSent).toBe(48); // exactly the changed blocks, not the volume
    // Committed at the base: never in transfer again; catch-up until consistent (here at once, as
    // nothing was written during the transfer).
    expect(b.volume.resyncState()).not.toMatchObject({ phase: "transfer" });
    expect(result.consistentLsn).toBe(result.baseLsn);
    expect(primary.pinnedLsn(resyncPinOwner(b.replicaId))).toBe(result.baseLsn + 1); // grace pin
    await handOverAndCompare(result.baseLsn);
  });

  it("resyncs a divergent replica (its own writes after the fork) to the primary's content", async () => {
    await setup();
    await shipThenDisconnect(10);
    // b goes on alone in epoch 1 (an old primary's un-replicated tail), the primary in epoch 2.
    for (let i = 0; i < 5; i++) await b.volume.write(100 + i, block(100 + i, 900));
    await b.volume.write(3, block(3, 901));
    await primary.setEpoch(2);
    for (let i = 0; i < 8; i++) await primary.write(200 + i, block(200 + i, 2));
    await b.volume.setEpoch(2);
    b.auth.epoch = 2;
    const fork = await forkOf(client, primary, b);
    expect(fork).toBe(10);
    const result = await resync(primary, client, b, 10);
    // The primary's 8 blocks and b's own 6 (LBA 3 and 100..104), in whole tracking grains where a
    // copy's WAL no longer holds the records: far fewer than the volume's 256.
    expect(result.blocksSent).toBeGreaterThanOrEqual(14);
    expect(result.blocksSent).toBeLessThan(64);
    await handOverAndCompare(result.baseLsn);
  });

  it("sends the blocks written during a pass in a further pass", async () => {
    // A small retention budget: the writes below release the resync's pin from T1 + 1.
    await setup({ retentionMaxHeldBytes: 64 * 1024, retentionCheckIntervalMs: 20 });
    for (let i = 0; i < 100; i++) await primary.write(i, block(i, 1));
    const seen: ResyncProgress[] = [];
    let writing: Promise<void> | undefined;
    const result = await resync(primary, client, b, 0, {
      rateBytesPerSecond: 200 * 1024,
      messageBytes: 4 * BS,
      onProgress: (p) => {
        seen.push(p);
        if (p.pass === 1 && p.blocksSent >= 16 && writing === undefined) {
          writing = (async () => {
            for (let i = 0; i < 40; i++) await primary.write(150 + i, block(150 + i, 7));
            primary.evaluateRetention();
          })();
        }
      },
    });
    await writing;
    expect(result.passes).toBeGreaterThanOrEqual(2);
    expect(seen.some((p) => p.pass === 2)).toBe(true);
    expect(result.blocksSent).toBeGreaterThanOrEqual(140);
    await handOverAndCompare(result.baseLsn);
  });

  it("gives up with resync_passes_exceeded when the writes outrun maxPasses", async () => {
    await setup({ retentionMaxHeldBytes: 64 * 1024, retentionCheckIntervalMs: 20 });
    for (let i = 0; i < 100; i++) await primary.write(i, block(i, 1));
    let writing: Promise<void> | undefined;
    const failed = await resync(primary, client, b, 0, {
      maxPasses: 1,
      rateBytesPerSecond: 200 * 1024,
      messageBytes: 4 * BS,
      onProgress: (p) => {
        if (p.blocksSent >= 16 && writing === undefined) {
          writing = (async () => {
            for (let i = 0; i < 40; i++) await primary.write(150 + i, block(150 + i, 7));
            primary.evaluateRetention();
          })();
        }
      },
    }).catch((e: unknown) => e);
    await writing;
    expect(reasonOf(failed)).toBe("resync_passes_exceeded");
    expect(primary.pinnedLsn(resyncPinOwner(b.replicaId))).toBeUndefined();
    expect(b.volume.resyncState()).toMatchObject({ pending: true, phase: "transfer" });
  });

  it("a cut stream fails with a stable reason; a retry resumes and commits", async () => {
    await setup();
    for (let i = 0; i < 100; i++) await primary.write(i, block(i, 5));
    proxy = await TcpProxy.start(b.address);
    const viaProxy = connectReplication(proxy.address);
    const p = proxy;
    let cut = false;
    const failed = await resync(primary, viaProxy, b, 0, {
      rateBytesPerSecond: 200 * 1024,
      messageBytes: 4 * BS,
      onProgress: (pr) => {
        if (!cut && pr.bytesSent >= 64 * 1024) {
          cut = true;
          p.cutAll();
        }
      },
    }).catch((e: unknown) => e);
    viaProxy.close();
    expect(cut).toBe(true);
    expect(reasonOf(failed)).toBe("resync_disconnected");
    expect(primary.pinnedLsn(resyncPinOwner(b.replicaId))).toBeUndefined();
    expect(b.volume.resyncState()).toMatchObject({ pending: true, phase: "transfer", forkLsn: 0 });
    const retryClient = connectReplication(proxy.address);
    try {
      const result = await resync(primary, retryClient, b, 0);
      expect(result.blocksSent).toBe(100);
      await handOverAndCompare(result.baseLsn);
    } finally {
      retryClient.close();
    }
  });

  it("an aborted session leaves the replica's marker across a restart: never streamed to, resumed by a new session", async () => {
    await setup();
    for (let i = 0; i < 100; i++) await primary.write(i, block(i, 6));
    const ac = new AbortController();
    const aborted = await resync(primary, client, b, 0, {
      signal: ac.signal,
      rateBytesPerSecond: 200 * 1024,
      messageBytes: 4 * BS,
      onProgress: (pr) => {
        if (pr.bytesSent >= 32 * 1024) ac.abort();
      },
    }).catch((e: unknown) => e);
    expect(reasonOf(aborted)).toBe("resync_cancelled");
    expect(primary.pinnedLsn(resyncPinOwner(b.replicaId))).toBeUndefined();
    // The replica agent restarts: the marker is in its superblock.
    client.close();
    await b.stop();
    await b.volume.close();
    b.volume = await openVolumeFile(path.join(tmp.dir, "b.vol"));
    await b.start();
    client = connectReplication(b.address);
    const hs = await unary<HandshakeResponse__Output>((cb) =>
      client.Handshake(
        { volume_id: VOLUME_ID, epoch: "1", primary_server_id: PRIMARY_ID, replica_server_id: b.serverId },
        cb,
      ),
    );
    const facts = replicaFactsFromWire(hs);
    expect(facts.resync).toEqual({ pending: true, phase: "transfer", forkLsn: 0 });
    // The shipper only probes it: needs_rebuild (resync_pending), no Ship stream.
    const g = makeGroup(primary);
    groups.push(g);
    g.setReplicas([b.target()]);
    const st = await waitForStatus(g, b.replicaId, (x) => x.state === "needs_rebuild", "needs_rebuild");
    expect(st.lastError ?? "").toMatch(/resync_pending/);
    expect(b.receiver.stats.streams).toBe(0);
    const result = await resync(primary, client, b, 0);
    expect(result.blocksSent).toBe(100);
    // The same shipper's next probe sees the committed copy and streams from base + 1.
    await waitForStatus(g, b.replicaId, (x) => x.state === "in_sync", "in_sync after the resync");
    await primary.write(9, block(9, 4343));
    expect(await durableFlush(primary, g, "sync_all")).toBe(primary.headLsn);
    expect(b.receiver.stats.streams).toBeGreaterThan(0);
    await expectSameBlocks(primary, b.volume);
  });

  it("the fixture volume tracks changes persistently (what a resync across the WAL needs)", async () => {
    await setup();
    expect(primary.changeTracking().persistent).toBe(true);
    expect(SMALL_VOLUME.walSizeBytes).toBeLessThan(400 * BS);
  });
});
