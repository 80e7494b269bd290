// A primary and a replica agent (in-process, real gRPC on loopback): RF=2 sync_all.
import {
  type ApplyAssignmentsResponse__Output,
  type CancelRecoveryResponse__Output,
  type ControlClient,
  closeClient,
  createControlClient,
  createVolumeClient,
  type FlushResponse__Output,
  type GetProtocolStateResponse__Output,
  type GetStatusResponse__Output,
  type ReadResponse__Output,
  reasonOf,
  type StartRecoveryResponse__Output,
  unary,
  type VolumeClient,
} from "@blockship/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent";
import { allocateRequest, primary, replica, startTestAgent, tempDir, waitFor } from "./helpers";

let p: Agent;
let r: Agent;
let pc: ControlClient;
let rc: ControlClient;
let pv: VolumeClient;
let rv: VolumeClient;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  const a = tempDir();
  const b = tempDir();
  cleanups.push(a.cleanup, b.cleanup);
  // No housekeeping tick in these tests: a catch-up must complete on its barrier's answer.
  p = await startTestAgent({ dir: a.dir, serverId: "srv-p", tickMs: 3_600_000 });
  r = await startTestAgent({ dir: b.dir, serverId: "srv-r" });
  pc = createControlClient(p.address);
  rc = createControlClient(r.address);
  pv = createVolumeClient(p.address);
  rv = createVolumeClient(r.address);
});

afterAll(async () => {
  for (const c of [pc, rc, pv, rv]) closeClient(c);
  await p.stop();
  await r.stop();
  for (const c of cleanups) c();
});

async function replicaState(volumeId = "v"): Promise<string | undefined> {
  const s = await unary<GetStatusResponse__Output>((cb) => pc.GetStatus({ volume_ids: [volumeId] }, cb));
  return s.report?.volumes[0]?.replicas[0]?.sender_state;
}

describe("primary + replica", () => {
  it("sync_all: flushed writes are on the replica; the gate opens after the handshake", async () => {
    await unary((cb) => pc.AllocateVolume(allocateRequest("v", "DURABILITY_MODE_SYNC_ALL"), cb));
    await unary((cb) => rc.AllocateVolume(allocateRequest("v", "DURABILITY_MODE_SYNC_ALL"), cb));
    await unary((cb) => rc.ApplyAssignments({ assignments: [replica("v", 1, "srv-p")] }, cb));
    await unary((cb) =>
      pc.ApplyAssignments(
        { assignments: [primary("v", 1, { replicas: [{ server_id: "srv-r", address: r.address }] })] },
        cb,
      ),
    );
    await waitFor(async () => (await replicaState()) === "SENDER_STATE_IN_SYNC", "replica in sync");
    const state = await unary<GetProtocolStateResponse__Output>((cb) =>
      pc.GetProtocolState({ volume_id: "v" }, cb),
    );
    expect(state.replicas.map((x) => [x.replica_id, x.live_eligible, x.session_active])).toEqual([
      ["v/srv-r", true, false],
    ]);

    const data = Buffer.alloc(3 * 4096);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) % 256;
    await unary((cb) => pv.Write({ volume_id: "v", lba: "5", data }, cb));
    const f = await unary<FlushResponse__Output>((cb) => pv.Flush({ volume_id: "v" }, cb));
    expect(f.durable_lsn).toBe("1");
    const got = await unary<ReadResponse__Output>((cb) =>
      rv.Read({ volume_id: "v", lba: "5", length_bytes: data.length, allow_copy_read: true }, cb),
    );
    expect(got.data.equals(data)).toBe(true);
    // The replica refuses client writes.
    expect(
      await unary((cb) => rv.Write({ volume_id: "v", lba: "0", data: Buffer.alloc(4096) }, cb)).catch(
        reasonOf,
      ),
    ).toBe("not_primary");
  });

  it("the live tail keeps flowing: more writes and a flush reach the replica", async () => {
    for (let i = 0; i < 20; i++)
      await unary((cb) => pv.Write({ volume_id: "v", lba: String(i), data: Buffer.alloc(4096, i) }, cb));
    await unary((cb) => pv.Flush({ volume_id: "v" }, cb));
    const got = await unary<ReadResponse__Output>((cb) =>
      rv.Read({ volume_id: "v", lba: "19", length_bytes: 4096, allow_copy_read: true }, cb),
    );
    expect(got.data.equals(Buffer.alloc(4096, 19))).toBe(true);
  });

  async function addReplicaAfterWrites(
    volumeId: string,
    beforeWrites: () => void,
    afterFlush: () => Promise<void>,
  ) {
    await unary((cb) => pc.AllocateVolume(allocateRequest(volumeId, "DURABILITY_MODE_SYNC_ALL"), cb));
    await unary((cb) => rc.AllocateVolume(allocateRequest(volumeId, "DURABILITY_MODE_SYNC_ALL"), cb));
    await unary((cb) => pc.ApplyAssignments({ assignments: [primary(volumeId, 1)] }, cb));
    beforeWrites();
    for (let i = 0; i < 10; i++) {
      await unary((cb) =>
        pv.Write({ volume_id: volumeId, lba: String(i), data: Buffer.alloc(4096, i + 1) }, cb),
      );
    }
    await unary((cb) => pv.Flush({ volume_id: volumeId }, cb));
    await afterFlush();
    await unary((cb) => rc.ApplyAssignments({ assignments: [replica(volumeId, 1, "srv-p")] }, cb));
    await unary((cb) =>
      pc.ApplyAssignments(
        { assignments: [primary(volumeId, 1, { replicas: [{ server_id: "srv-r", address: r.address }] })] },
        cb,
      ),
    );
    return () =>
      p.host
        .get(volumeId)
        ?.runtime.engine.log.all()
        .map((e) => `${e.event} ${e.detail}`) ?? [];
  }

  it("a replica added after writes is caught up (engine catch-up session executed by the shipper)", async () => {
    const vol = () => p.host.get("w")?.volume;
    // Hold the WAL (as a lagging replica's pin would) so that the gap stays within retention.
    const engineLog = await addReplicaAfterWrites(
      "w",
      () => vol()?.pinWal("test", 1),
      async () => {},
    );
    await waitFor(() => engineLog().some((e) => e.startsWith("exec_completed")), "catch-up completed");
    vol()?.unpinWal("test");
    expect(engineLog()).toEqual(
      expect.arrayContaining([
        "session_created session=1 kind=catchup",
        "plan_catchup replay=0→10 pin=1",
        "exec_completed target=10",
      ]),
    );
    const state = await unary<GetProtocolStateResponse__Output>((cb) =>
      pc.GetProtocolState({ volume_id: "w" }, cb),
    );
    expect(state.replicas[0]).toMatchObject({ live_eligible: true, session_active: false });
    const got = await unary<ReadResponse__Output>((cb) =>
      rv.Read({ volume_id: "w", lba: "9", length_bytes: 4096, allow_copy_read: true }, cb),
    );
    expect(got.data.equals(Buffer.alloc(4096, 10))).toBe(true);
    const f = await unary<FlushResponse__Output>((cb) => pv.Flush({ volume_id: "w" }, cb));
    expect(f.durable_lsn).toBe("10");
  });

  it("a replica behind the retained WAL is resynced by changed blocks, then flushes count it", async () => {
    const engineLog = await addReplicaAfterWrites(
      "x",
      () => {},
      async () => {
        await p.host.get("x")?.volume.checkpoint(); // the WAL is recycled up to LSN 10
      },
    );
    await waitFor(() => engineLog().some((e) => e.startsWith("exec_resync_completed")), "resync completed");
    expect(engineLog().find((e) => e.startsWith("handshake"))).toMatch(/outcome=resync/);
    await waitFor(async () => (await replicaState("x")) === "SENDER_STATE_IN_SYNC", "status in_sync");
    expect(engineLog().some((e) => e.startsWith("escalated"))).toBe(false);
    const got = await unary<ReadResponse__Output>((cb) =>
      rv.Read({ volume_id: "x", lba: "9", length_bytes: 4096, allow_copy_read: true }, cb),
    );
    expect(got.data.equals(Buffer.alloc(4096, 10))).toBe(true);
    await unary((cb) => pv.Write({ volume_id: "x", lba: "0", data: Buffer.alloc(4096, 1) }, cb));
    const f = await unary<FlushResponse__Output>((cb) => pv.Flush({ volume_id: "x" }, cb));
    expect(f.durable_lsn).toBe("11");
  });

  it("StartRecovery / CancelRecovery drive an operator catch-up session through the engine", async () => {
    const start = (
      replica_id: string,
      epoch = "1",
      kind: "RECOVERY_KIND_CATCHUP" | "RECOVERY_KIND_REBUILD" = "RECOVERY_KIND_CATCHUP",
    ) =>
      unary<StartRecoveryResponse__Output>((cb) =>
        pc.StartRecovery({ volume_id: "v", replica_id, epoch, kind }, cb),
      );
    const cancel = () =>
      unary<CancelRecoveryResponse__Output>((cb) =>
        pc.CancelRecovery({ volume_id: "v", replica_id: "v/srv-r", epoch: "1" }, cb),
      );
    expect(await start("v/nobody").catch(reasonOf)).toBe("replica_not_found");
    expect(await start("v/srv-r", "7").catch(reasonOf)).toBe("epoch_stale");
    expect(await start("v/srv-r", "1", "RECOVERY_KIND_REBUILD").catch(reasonOf)).toBe(
      "rebuild_by_assignment",
    );
    expect(
      await unary((cb) =>
        rc.StartRecovery(
          { volume_id: "v", replica_id: "v/srv-r", epoch: "1", kind: "RECOVERY_KIND_CATCHUP" },
          cb,
        ),
      ).catch(reasonOf),
    ).toBe("not_primary");
    const started = await start("v/srv-r");
    expect(started.state).toMatchObject({ replica_id: "v/srv-r", session_kind: "SESSION_KIND_CATCHUP" });
    const log = () =>
      p.host
        .get("v")
        ?.runtime.engine.log.all()
        .map((e) => e.event) ?? [];
    const active = async () =>
      (await unary<GetProtocolStateResponse__Output>((cb) => pc.GetProtocolState({ volume_id: "v" }, cb)))
        .replicas[0]?.session_active;
    await waitFor(async () => (await active()) === false, "session over");
    expect(log()).toContain("handshake");
    expect((await cancel()).cancelled).toBe(false);
  });

  it("failover: the old primary is demoted (STALE), the replica is promoted and serves the primary side", async () => {
    const demote = await unary<ApplyAssignmentsResponse__Output>((cb) =>
      pc.ApplyAssignments({ assignments: [{ volume_id: "v", epoch: "2", role: "ROLE_STALE" }] }, cb),
    );
    expect(demote.results[0]?.status?.reason).toBe("");
    const promote = await unary<ApplyAssignmentsResponse__Output>((cb) =>
      rc.ApplyAssignments({ assignments: [primary("v", 2)] }, cb),
    );
    expect(promote.results[0]?.status?.reason).toBe("");
    // The flushed data of the old primary is on the new one; it now takes writes, the old one refuses.
    const before = await unary<ReadResponse__Output>((cb) =>
      rv.Read({ volume_id: "v", lba: "19", length_bytes: 4096, allow_copy_read: true }, cb),
    );
    expect(before.data.equals(Buffer.alloc(4096, 19))).toBe(true);
    await unary((cb) => rv.Write({ volume_id: "v", lba: "19", data: Buffer.alloc(4096, 0xee) }, cb));
    const f = await unary<FlushResponse__Output>((cb) => rv.Flush({ volume_id: "v" }, cb));
    expect(Number(f.durable_lsn)).toBeGreaterThan(21);
    expect(
      await unary((cb) => pv.Write({ volume_id: "v", lba: "0", data: Buffer.alloc(4096) }, cb)).catch(
        reasonOf,
      ),
    ).toBe("not_primary");
    expect(await unary((cb) => pv.Flush({ volume_id: "v" }, cb)).catch(reasonOf)).toBe("not_primary");
    const status = await unary<GetStatusResponse__Output>((cb) => pc.GetStatus({ volume_ids: ["v"] }, cb));
    expect(status.report?.volumes[0]).toMatchObject({ role: "ROLE_STALE", epoch: "2", writable: false });
  });
});
