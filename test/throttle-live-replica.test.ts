// Throttle before dropping: a volume and its shipper in one process (real gRPC on loopback), a
// writer far faster than the replica (1 MiB sequential writes, 16 in flight) under sync_all. The
// retention byte budget used to release the connected, streaming replica (every flush then failed
// with `durability_barrier_failed … needs_rebuild: retention_max_bytes`); now admission slows and
// blocks the writer instead, and the replica stays in the durability set.
import { reasonOf } from "@blockship/rpc";
import type { Volume } from "@blockship/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { durableFlush } from "../packages/replication/src/durability";
import type { ShipperGroup } from "../packages/replication/src/group";
import {
  expectSameBlocks,
  type FaultyDevice,
  makeFaultyVolume,
  makeGroup,
  makeVolume,
  ReplicaNode,
  tmpDir,
  waitForStatus,
} from "../packages/replication/test/helpers";

const MiB = 1024 * 1024;
const VOLUME_OPTS = {
  volumeSizeBytes: 64 * MiB,
  walSizeBytes: 16 * MiB,
  durabilityMode: "sync_all" as const,
  flushIntervalMs: 20,
};

let tmp: ReturnType<typeof tmpDir>;
let primary: Volume;
let replica: ReplicaNode;
/** The replica's disk: its syncs are held for a while, so the writer runs far ahead of it. */
let replicaDisk: FaultyDevice;
let group: ShipperGroup;

beforeAll(async () => {
  tmp = tmpDir();
  primary = await makeVolume(tmp.dir, "p", VOLUME_OPTS);
  const faulty = await makeFaultyVolume(tmp.dir, "b", VOLUME_OPTS);
  replicaDisk = faulty.device;
  replica = new ReplicaNode("srv-b", faulty.volume);
  await replica.start();
  group = makeGroup(primary, { idleBarrierMs: 60_000 });
  group.setReplicas([replica.target()]);
  await waitForStatus(group, replica.replicaId, (s) => s.state === "in_sync", "in sync");
});

afterAll(async () => {
  await group.close();
  await replica.stop();
  await replica.volume.close();
  await primary.close();
  tmp.cleanup();
});

describe("throttle before dropping", () => {
  it("a streaming replica under sync_all is never released by the byte budget; writers are slowed instead", async () => {
    const released: string[] = [];
    primary.on("needsRebuild", (e) => released.push(`${e.owner}: ${e.reason}`));
    const failures: string[] = [];
    const data = Buffer.alloc(MiB, 0x3c);
    const blocksPerWrite = MiB / primary.blockSize;
    const slots = primary.volumeSizeBytes / MiB;
    let flushes = 0;
    // A slow replica disk for the first 2.5 s (two retention checks pass meanwhile): its barriers,
    // and so its pin, do not move while the writer fills the WAL.
    let releaseDisk!: () => void;
    replicaDisk.holdSync = new Promise<void>((r) => {
      releaseDisk = r;
    });
    const timer = setTimeout(() => {
      replicaDisk.holdSync = undefined;
      releaseDisk();
    }, 2500);
    // 12 rounds of 16 writes in flight (192 MiB, 12 WALs' worth), a sync_all flush after each.
    for (let round = 0; round < 12; round++) {
      const writes: Array<Promise<unknown>> = [];
      for (let i = 0; i < 16; i++) {
        const slot = (round * 16 + i) % slots;
        writes.push(
          primary.write(slot * blocksPerWrite, data).catch((e: unknown) => failures.push(String(e))),
        );
      }
      await Promise.all(writes);
      try {
        await durableFlush(primary, group, "sync_all");
        flushes++;
      } catch (err) {
        failures.push(`flush: ${reasonOf(err)}: ${String(err)}`);
      }
    }
    clearTimeout(timer);
    replicaDisk.holdSync = undefined;
    releaseDisk();
    expect(released, "pins released").toEqual([]);
    expect(failures.filter((f) => /retention_max_bytes|needs_rebuild/.test(f))).toEqual([]);
    expect(flushes).toBe(12);
    const status = group.statuses().find((s) => s.replicaId === replica.replicaId);
    expect(status?.state).not.toBe("needs_rebuild");
    await waitForStatus(group, replica.replicaId, (s) => s.state === "in_sync", "in sync at the end");
    await expectSameBlocks(primary, replica.volume);
  }, 120_000);
});
