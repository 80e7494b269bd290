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
    for (let i = 0; i < 50; i++) await primary.write(i % 40, block(i % 40, i));
    await primary.trim(3, 2 * 4096);
    const lsn = await durableFlush(primary, group, "sync_all");
    expect(lsn).toBe(primary.headLsn);
    const st = await waitForStatus(group, replica.replicaId, (s) => s.durableLsn >= lsn, "durable");
    expect(st.state).toBe("in_sync");
    expect(replica.volume.durableLsn).toBeGreaterThanOrEqual(lsn);
    await expectSameBlocks(primary, replica.volume);
  });
});
