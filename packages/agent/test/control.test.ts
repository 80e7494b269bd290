import { existsSync, writeFileSync } from "node:fs";
import type { ReplicaFacts } from "@blockship/replication";
import {
  type AllocateVolumeResponse__Output,
  type ApplyAssignmentsResponse__Output,
  type Assignment,
  type ControlClient,
  closeClient,
  createControlClient,
  createVolumeClient,
  type DeleteVolumeResponse__Output,
  type GetProtocolStateResponse__Output,
  type GetStatusResponse__Output,
  type RenewLeasesResponse__Output,
  reasonOf,
  unary,
  type VolumeClient,
  type WriteResponse__Output,
} from "@blockship/rpc";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent";
import { ManualClock } from "../src/clock";
import { allocateRequest, MiB, primary, replica, startTestAgent, tempDir } from "./helpers";

let agent: Agent;
let control: ControlClient;
let volume: VolumeClient;
let clock: ManualClock;
let cleanup: () => void;

beforeEach(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  clock = new ManualClock();
  // The handshake never answers: a replica's session stays in phase connecting (gate closed).
  agent = await startTestAgent({
    dir: t.dir,
    serverId: "s1",
    clock,
    handshake: () => new Promise<ReplicaFacts>(() => {}),
  });
  control = createControlClient(agent.address);
  volume = createVolumeClient(agent.address);
});

afterEach(async () => {
  closeClient(control);
  closeClient(volume);
  await agent.stop();
  cleanup();
});

const allocate = (req: object) =>
  unary<AllocateVolumeResponse__Output>((cb) => control.AllocateVolume(req, cb));
const apply = (assignments: Assignment[]) =>
  unary<ApplyAssignmentsResponse__Output>((cb) => control.ApplyAssignments({ assignments }, cb));
const write = (volume_id: string, lba: number, data: Buffer, expected_epoch = "0") =>
  unary<WriteResponse__Output>((cb) =>
    volume.Write({ volume_id, lba: String(lba), data, expected_epoch }, cb),
  );

async function reason(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return reasonOf(err);
  }
}

describe("AllocateVolume / DeleteVolume", () => {
  it("creates, is idempotent for identical parameters, refuses different ones", async () => {
    const first = await allocate(allocateRequest("v1"));
    expect(first.created).toBe(true);
    expect(first.volume).toMatchObject({
      volume_id: "v1",
      size_bytes: String(4 * MiB),
      block_size: 4096,
      wal_size_bytes: String(MiB),
      role: "ROLE_NONE",
      epoch: "0",
      mode: "VOLUME_MODE_ALLOCATED_ONLY",
      writable: false,
      write_block_reason: "not_primary",
    });
    expect((await allocate(allocateRequest("v1"))).created).toBe(false);
    expect(await reason(allocate({ ...allocateRequest("v1"), size_bytes: String(8 * MiB) }))).toBe(
      "volume_exists",
    );
    expect(await reason(allocate(allocateRequest("v1", "DURABILITY_MODE_SYNC_ALL")))).toBe("volume_exists");
  });

  it("validates every parameter", async () => {
    const bad = [
      { ...allocateRequest("v/1") },
      { ...allocateRequest("v1"), size_bytes: "0" },
      { ...allocateRequest("v1"), size_bytes: "4097" },
      { ...allocateRequest("v1"), block_size: 3000 },
      { ...allocateRequest("v1"), wal_size_bytes: "4096" },
      { ...allocateRequest("v1"), durability_mode: "DURABILITY_MODE_UNSPECIFIED" },
    ];
    for (const req of bad) expect(await reason(allocate(req)), JSON.stringify(req)).toBe("invalid_argument");
    const status = await unary<GetStatusResponse__Output>((cb) => control.GetStatus({}, cb));
    expect(status.report?.volumes).toEqual([]);
  });

  it("deletes (idempotently) and the volume is gone, with an unfinished rebuild's staging files", async () => {
    await allocate(allocateRequest("v1"));
    const device = agent.host.get("v1")?.devicePath ?? "";
    const staging = [".install", ".install-tail", ".install-resume"].map((suffix) => `${device}${suffix}`);
    for (const f of staging) writeFileSync(f, "left by a rebuild the agent's restart cut");
    const del = () =>
      unary<DeleteVolumeResponse__Output>((cb) => control.DeleteVolume({ volume_id: "v1" }, cb));
    expect((await del()).existed).toBe(true);
    expect([device, ...staging].filter((f) => existsSync(f))).toEqual([]);
    expect((await del()).existed).toBe(false);
    expect(await reason(write("v1", 0, Buffer.alloc(4096)))).toBe("volume_not_found");
    expect((await allocate(allocateRequest("v1"))).created).toBe(true);
  });
});

describe("ApplyAssignments", () => {
  it("per-item results: valid items apply, invalid ones fail with their reason, the batch continues", async () => {
    await allocate(allocateRequest("v1"));
    await allocate(allocateRequest("v2"));
    const res = await apply([
      primary("v1", 2),
      primary("nope", 1),
      { ...primary("v2", 1), lease_ttl_ms: 0 },
      replica("v1", 2), // primary → replica: refused (validated against the batch's own item 0)
      replica("v2", 3),
    ]);
    expect(res.results.map((r) => [r.volume_id, r.status?.reason, r.unchanged])).toEqual([
      ["v1", "", false],
      ["nope", "volume_not_found", false],
      ["v2", "invalid_argument", false],
      ["v1", "invalid_role_transition", false],
      ["v2", "", false],
    ]);
    const status = await unary<GetStatusResponse__Output>((cb) => control.GetStatus({}, cb));
    expect(status.report?.volumes.map((v) => [v.volume_id, v.role, v.epoch, v.writable])).toEqual([
      ["v1", "ROLE_PRIMARY", "2", true],
      ["v2", "ROLE_REPLICA", "3", false],
    ]);
  });

  it("an identical re-delivery is a no-op: unchanged, no engine command, lease not touched", async () => {
    await allocate(allocateRequest("v1"));
    expect((await apply([primary("v1", 1)])).results[0]?.unchanged).toBe(false);
    const runtime = agent.host.get("v1")?.runtime;
    const commands = runtime?.commandLog.length;
    expect(commands).toBeGreaterThan(0);
    clock.advance(10_000);
    const again = await apply([primary("v1", 1)]);
    expect(again.results[0]).toMatchObject({ unchanged: true, status: { code: 0 } });
    expect(runtime?.commandLog.length).toBe(commands);
    expect(agent.host.get("v1")?.fence.lease.remainingMs()).toBe(20_000);
  });

  it("epoch regression is refused and the epoch stays", async () => {
    await allocate(allocateRequest("v1"));
    await apply([primary("v1", 5)]);
    const res = await apply([primary("v1", 4)]);
    expect(res.results[0]?.status).toMatchObject({ code: 9, reason: "epoch_regression" });
    expect(agent.host.get("v1")?.volume.epoch).toBe(5);
  });

  it("a replica set reaches the engine: GetProtocolState shows the gate closed while connecting", async () => {
    await allocate(allocateRequest("v1"));
    await apply([primary("v1", 1, { replicas: [{ server_id: "r1", address: "127.0.0.1:1" }] })]);
    const state = await unary<GetProtocolStateResponse__Output>((cb) =>
      control.GetProtocolState({ volume_id: "v1" }, cb),
    );
    expect(state).toMatchObject({ volume_id: "v1", epoch: "1", role: "ROLE_PRIMARY" });
    expect(state.replicas.map((r) => r.replica_id)).toEqual(["v1/r1"]);
    expect(state.replicas[0]).toMatchObject({
      session_active: true,
      live_eligible: false,
      session_kind: "SESSION_KIND_CATCHUP",
      session_phase: "SESSION_PHASE_CONNECTING",
      sender_state: "SENDER_STATE_CONNECTING",
    });
    expect(state.replicas[0]?.reason).toMatch(
      /^active_catchup_session phase=connecting start=0 target=0 recovered=0$/,
    );
    // The same gate is what the shipper asks before any dial or send.
    const policy = agent.host.get("v1")?.runtime.policy;
    expect(policy?.("v1/r1", 1)).toEqual({ allow: false, reason: state.replicas[0]?.reason });
    expect(await reason(unary((cb) => control.GetProtocolState({ volume_id: "zz" }, cb)))).toBe(
      "volume_not_found",
    );
  });
});

describe("REBUILDING", () => {
  it("is accepted from NONE (the rebuild itself is not implemented yet) and cannot become REPLICA before one commits", async () => {
    await allocate(allocateRequest("v1"));
    const rebuilding: Assignment = {
      volume_id: "v1",
      epoch: "1",
      role: "ROLE_REBUILDING",
      primary_server_id: "p1",
      primary_address: "127.0.0.1:1",
    };
    expect((await apply([rebuilding])).results[0]?.status?.reason).toBe("");
    expect((await apply([replica("v1", 1)])).results[0]?.status?.reason).toBe("invalid_role_transition");
    const status = await unary<GetStatusResponse__Output>((cb) =>
      control.GetStatus({ volume_ids: ["v1"] }, cb),
    );
    expect(status.report?.volumes[0]).toMatchObject({
      role: "ROLE_REBUILDING",
      primary_server_id: "p1",
      writable: false,
    });
  });
});

describe("leases", () => {
  it("writes stop when the lease lapses and resume after RenewLeases", async () => {
    await allocate(allocateRequest("v1"));
    await apply([primary("v1", 1, { lease_ttl_ms: 1000 })]);
    const block = Buffer.alloc(4096, 7);
    expect(await reason(write("v1", 0, block))).toBe("ok");
    clock.advance(1000);
    expect(await reason(write("v1", 0, block))).toBe("lease_expired");
    expect(await reason(unary((cb) => volume.Flush({ volume_id: "v1" }, cb)))).toBe("lease_expired");
    const renew = await unary<RenewLeasesResponse__Output>((cb) =>
      control.RenewLeases(
        {
          grants: [
            { volume_id: "v1", epoch: "2", lease_ttl_ms: 5000 },
            { volume_id: "v1", epoch: "1", lease_ttl_ms: 5000 },
            { volume_id: "zz", epoch: "1", lease_ttl_ms: 5000 },
          ],
        },
        cb,
      ),
    );
    expect(renew.results.map((r) => [r.status?.reason, r.lease_remaining_ms])).toEqual([
      ["epoch_stale", 0],
      ["", 5000],
      ["volume_not_found", 0],
    ]);
    expect(await reason(write("v1", 0, block))).toBe("ok");
  });
});
