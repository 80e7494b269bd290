import type { Volume } from "@blockship/storage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ShipperStatus } from "../src/api";
import { durableFlush } from "../src/durability";
import type { ShipperGroup } from "../src/group";
import { rebuildPinOwner } from "../src/rebuild-source";
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
import { pull, SourceNode } from "./rebuild-helpers";

const GEOMETRY = { volumeSizeBytes: 512 * BS, walSizeBytes: 2 * 1024 * 1024 };

describe("shipper after needs_rebuild: handshake probes, then catch-up once the replica was rebuilt", () => {
  let tmp: ReturnType<typeof tmpDir>;
  let primary: Volume;
  let b: ReplicaNode;
  let group: ShipperGroup;
  let src: SourceNode;

  beforeEach(async () => {
    tmp = tmpDir();
    primary = await makeVolume(tmp.dir, "p", GEOMETRY);
    b = new ReplicaNode("srv-b", await makeVolume(tmp.dir, "b", GEOMETRY));
    await b.start();
    src = new SourceNode(primary);
    src.auth.replicaServerIds.add("srv-b");
    await src.start();
  });

  afterEach(async () => {
    await group.close();
    await src.stop();
    await b.stop();
    await b.volume.close();
    await primary.close();
    tmp.cleanup();
  });

  it("stays needs_rebuild (barriers fail fast, no stream) until a rebuild, then streams from the new head", async () => {
    for (let lba = 0; lba < 200; lba++) await primary.write(lba, block(lba, 1));
    await primary.checkpoint(); // the empty replica's next LSN (1) is recycled
    group = makeGroup(primary, { reconnectMaxMs: 50 });
    const states: ShipperStatus["state"][] = [];
    const rebuilds: string[] = [];
    group.on("stateChange", (s) => states.push(s.state));
    group.on("needsRebuild", (_id, reason) => rebuilds.push(reason));
    group.setReplicas([b.target()]);
    await waitForStatus(group, b.replicaId, (s) => s.state === "needs_rebuild", "needs_rebuild");
    // Probing: a few handshakes, never a stream; barriers fail fast.
    const probes = b.receiver.stats.handshakes;
    await waitForStatus(group, b.replicaId, () => b.receiver.stats.handshakes >= probes + 2, "probes");
    expect(b.receiver.stats.streams).toBe(0);
    expect(group.statuses()[0]?.state).toBe("needs_rebuild");
    expect((await group.barrierAll(200))[0]).toMatchObject({ ok: false, reason: "needs_rebuild" });

    // The replica rebuilds (REBUILDING: it accepts no entries meanwhile) while writes go on.
    b.auth.accepting = false;
    let tag = 2;
    const during: Promise<number>[] = [];
    const result = await pull(b.volume, src.address, {
      replicaServerId: "srv-b",
      onProgress: () => {
        during.push(primary.write(tag % 512, block(tag % 512, tag)));
        tag++;
      },
    });
    await Promise.all(during);
    expect(result.lastLsn).toBeGreaterThan(200);
    b.auth.accepting = true;
    // The next probe finds it servable: out of needs_rebuild, catch-up from its head, then in sync.
    await waitForStatus(group, b.replicaId, (s) => s.state === "in_sync", "in sync after the rebuild");
    expect(rebuilds).toHaveLength(1);
    expect(states.slice(states.indexOf("needs_rebuild"))).toEqual(
      expect.arrayContaining(["needs_rebuild", "connecting", "in_sync"]),
    );
    for (let lba = 0; lba < 20; lba++) await primary.write(lba, block(lba, 500 + lba));
    const lsn = await durableFlush(primary, group, "sync_all");
    expect(lsn).toBe(primary.headLsn);
    await expectSameBlocks(primary, b.volume);
    // The shipper's own pin took over; the rebuild's pin (base + 1 for the grace period) can go.
    expect(primary.pinnedLsn(b.replicaId)).toBeDefined();
    expect(primary.pinnedLsn(rebuildPinOwner("srv-b"))).toBe(result.baseLsn + 1);
  });
});
