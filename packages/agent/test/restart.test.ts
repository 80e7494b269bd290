// A replica that goes away and comes back: flushes fail loudly meanwhile (sync_all never
// downgrades), and after the master re-assigns it the cursor shipper catches it up.
import {
  closeClient,
  createControlClient,
  createVolumeClient,
  type GetStatusResponse__Output,
  type ReadResponse__Output,
  reasonOf,
  unary,
} from "@blockship/rpc";
import { expect, it } from "vitest";
import { allocateRequest, primary, replica, startTestAgent, tempDir, waitFor } from "./helpers";

it("replica restart: sync_all flushes fail while it is down, then it is re-assigned and caught up", async () => {
  const a = tempDir();
  const b = tempDir();
  const p = await startTestAgent({ dir: a.dir, serverId: "srv-p" });
  let r = await startTestAgent({ dir: b.dir, serverId: "srv-r" });
  const replicaAddress = r.address;
  const pc = createControlClient(p.address);
  const pv = createVolumeClient(p.address);
  let rc = createControlClient(replicaAddress);
  const state = async () =>
    (await unary<GetStatusResponse__Output>((cb) => pc.GetStatus({ volume_ids: ["y"] }, cb))).report
      ?.volumes[0]?.replicas[0]?.sender_state;
  try {
    await unary((cb) => pc.AllocateVolume(allocateRequest("y", "DURABILITY_MODE_SYNC_ALL"), cb));
    await unary((cb) => rc.AllocateVolume(allocateRequest("y", "DURABILITY_MODE_SYNC_ALL"), cb));
    await unary((cb) => rc.ApplyAssignments({ assignments: [replica("y", 1, "srv-p")] }, cb));
    await unary((cb) =>
      pc.ApplyAssignments(
        { assignments: [primary("y", 1, { replicas: [{ server_id: "srv-r", address: replicaAddress }] })] },
        cb,
      ),
    );
    await waitFor(async () => (await state()) === "SENDER_STATE_IN_SYNC", "in sync");
    await unary((cb) => pv.Write({ volume_id: "y", lba: "1", data: Buffer.alloc(4096, 0xa1) }, cb));
    await unary((cb) => pv.Flush({ volume_id: "y" }, cb));

    closeClient(rc);
    await r.stop();
    await unary((cb) => pv.Write({ volume_id: "y", lba: "2", data: Buffer.alloc(4096, 0xb2) }, cb));
    expect(await unary((cb) => pv.Flush({ volume_id: "y" }, cb)).catch(reasonOf)).toBe(
      "durability_barrier_failed",
    );

    // Same port, same data: roles are not persisted, so it comes back as NONE until re-assigned.
    r = await startTestAgent({ dir: b.dir, serverId: "srv-r", listen: replicaAddress });
    rc = createControlClient(replicaAddress);
    await unary((cb) => rc.ApplyAssignments({ assignments: [replica("y", 1, "srv-p")] }, cb));
    await waitFor(async () => (await state()) === "SENDER_STATE_IN_SYNC", "in sync again", 20_000);
    await unary((cb) => pv.Flush({ volume_id: "y" }, cb));
    const rv = createVolumeClient(replicaAddress);
    const got = await unary<ReadResponse__Output>((cb) =>
      rv.Read({ volume_id: "y", lba: "1", length_bytes: 8192, allow_copy_read: true }, cb),
    );
    closeClient(rv);
    expect(got.data.equals(Buffer.concat([Buffer.alloc(4096, 0xa1), Buffer.alloc(4096, 0xb2)]))).toBe(true);
  } finally {
    for (const c of [pc, pv, rc]) closeClient(c);
    await p.stop();
    await r.stop();
    a.cleanup();
    b.cleanup();
  }
});
