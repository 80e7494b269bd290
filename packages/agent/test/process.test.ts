// The real agent process, driven over gRPC the way the master and clients do.
import {
  closeClient,
  createControlClient,
  createHealthClient,
  createVolumeClient,
  type FlushResponse__Output,
  type GetStatusResponse__Output,
  type HealthCheckResponse__Output,
  type ReadResponse__Output,
  unary,
  type WriteResponse__Output,
} from "@blockship/rpc";
import { afterEach, describe, expect, it } from "vitest";
import { allocateRequest, primary, tempDir } from "./helpers";
import { type AgentProcess, runAgent, spawnAgent } from "./process-helpers";

const running: AgentProcess[] = [];
const cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const p of running.splice(0)) await p.stop("SIGKILL");
  for (const c of cleanups.splice(0)) c();
});

async function start(dir: string, kind: "primary" | "replica" = "primary"): Promise<AgentProcess> {
  const p = await spawnAgent(kind, ["--server-id", "p1", "--data-dir", dir, "--log-level", "warn"]);
  running.push(p);
  return p;
}

async function health(address: string, service: string): Promise<string> {
  const client = createHealthClient(address);
  try {
    const res = await unary<HealthCheckResponse__Output>((cb) => client.Check({ service }, cb));
    return String(res.status);
  } finally {
    closeClient(client);
  }
}

describe("agent process", () => {
  it("allocate, assign, write, flush, read; health follows the role; SIGTERM exits 0; data survives a restart", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const agent = await start(t.dir);
    const control = createControlClient(agent.address);
    const volume = createVolumeClient(agent.address);
    try {
      expect(await health(agent.address, "")).toBe("SERVING");
      expect(await health(agent.address, "blockship.v1.Control")).toBe("SERVING");
      expect(await health(agent.address, "blockship.v1.Volume")).toBe("NOT_SERVING");
      await unary((cb) => control.AllocateVolume(allocateRequest("vol-1"), cb));
      await unary((cb) => control.ApplyAssignments({ assignments: [primary("vol-1", 1)] }, cb));
      expect(await health(agent.address, "blockship.v1.Volume")).toBe("SERVING");
      const data = Buffer.from("blockship!".repeat(410).slice(0, 4096));
      const w = await unary<WriteResponse__Output>((cb) =>
        volume.Write({ volume_id: "vol-1", lba: "7", data }, cb),
      );
      expect(w.lsn).toBe("1");
      const f = await unary<FlushResponse__Output>((cb) => volume.Flush({ volume_id: "vol-1" }, cb));
      expect(f.durable_lsn).toBe("1");
      const r = await unary<ReadResponse__Output>((cb) =>
        volume.Read({ volume_id: "vol-1", lba: "7", length_bytes: 4096 }, cb),
      );
      expect(r.data.equals(data)).toBe(true);
    } finally {
      closeClient(control);
      closeClient(volume);
    }
    expect(await agent.stop("SIGTERM")).toBe(0);

    // Restart: the volume is reopened, its epoch persisted, its role NONE until re-assigned.
    const again = await start(t.dir);
    const control2 = createControlClient(again.address);
    const volume2 = createVolumeClient(again.address);
    try {
      const status = await unary<GetStatusResponse__Output>((cb) => control2.GetStatus({}, cb));
      expect(status.report?.volumes.map((v) => [v.volume_id, v.epoch, v.role, v.head_lsn])).toEqual([
        ["vol-1", "1", "ROLE_NONE", "1"],
      ]);
      const r = await unary<ReadResponse__Output>((cb) =>
        volume2.Read({ volume_id: "vol-1", lba: "7", length_bytes: 4096, allow_copy_read: true }, cb),
      );
      expect(r.data.subarray(0, 10).toString()).toBe("blockship!");
    } finally {
      closeClient(control2);
      closeClient(volume2);
    }
    expect(await again.stop("SIGTERM")).toBe(0);
  });

  it("bad configuration: exit 2 listing every problem; --help exits 0", async () => {
    const bad = await runAgent("replica", [
      "--listen",
      "nope",
      "--log-level",
      "loud",
      "--data-dir",
      "/tmp/x",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--listen: must be host:port/);
    expect(bad.stderr).toMatch(/--log-level: must be one of/);
    const help = await runAgent("primary", ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--server-id/);
  });
});
