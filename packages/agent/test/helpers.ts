import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AllocateVolumeRequest, Assignment, DurabilityMode } from "@blockship/rpc";
import { Agent, type AgentOptions } from "../src/agent";
import type { Clock } from "../src/clock";
import { parseConfig } from "../src/config";
import { silentLogger } from "../src/log";

export function tempDir(prefix = "agent-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startTestAgent(
  opts: {
    dir: string;
    serverId?: string;
    clock?: Clock;
    devices?: Map<string, string>;
    listen?: string;
  } & Partial<Omit<AgentOptions, "config" | "log">>,
): Promise<Agent> {
  const config = parseConfig(
    [
      "--listen",
      opts.listen ?? "127.0.0.1:0",
      "--server-id",
      opts.serverId ?? "s1",
      "--data-dir",
      opts.dir,
      "--shutdown-timeout-ms",
      "2000",
      "--insecure",
    ],
    {},
  );
  const withDevices = opts.devices === undefined ? config : { ...config, devices: opts.devices };
  return Agent.start({ ...opts, config: withDevices, log: silentLogger() });
}

export const MiB = 1024 * 1024;

export function allocateRequest(
  volumeId: string,
  mode: DurabilityMode = "DURABILITY_MODE_BEST_EFFORT",
): AllocateVolumeRequest {
  return {
    volume_id: volumeId,
    size_bytes: String(4 * MiB),
    wal_size_bytes: String(MiB),
    durability_mode: mode,
  };
}

export function primary(volumeId: string, epoch: number, extra: Partial<Assignment> = {}): Assignment {
  return { volume_id: volumeId, epoch: String(epoch), role: "ROLE_PRIMARY", lease_ttl_ms: 30_000, ...extra };
}

export function replica(volumeId: string, epoch: number, primaryServerId = "p1"): Assignment {
  return {
    volume_id: volumeId,
    epoch: String(epoch),
    role: "ROLE_REPLICA",
    primary_server_id: primaryServerId,
  };
}

/** Waits for a condition by polling the event loop (no fixed sleeps); fails after timeoutMs. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}
