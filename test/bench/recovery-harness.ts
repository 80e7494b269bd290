// Shared machinery of bench:recovery: agent pairs per case, paced polling, bulk writes.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Assignment, VolumeStatus__Output } from "@blockship/rpc";
import { AgentFleet, type AgentHandle } from "../support/agents";
import { flush, patternBytes, prng, write } from "../support/io";
import {
  allocate,
  assign,
  MiB,
  primaryAssignment,
  replicaAssignment,
  replicasInSync,
} from "../support/master";

export const EPOCH = 1;
export const LEASE_TTL_MS = 600_000;
/** Status polling period while a recovery runs (a hot loop would steal one of the two cores). */
export const POLL_MS = 20;
/** 1 MiB client writes in flight while preparing a case (not timed). */
const WRITE_WINDOW = 8;
export const WRITE_BYTES = MiB;
export const BLOCK_BYTES = 4096;
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? "info";
const LOG_DIR = argValue("--logs") ?? process.env.BENCH_LOG_DIR;
/** When set, the agents run with `--cpu-prof` into DIR/<case>-<kind> (SIGTERM at the end writes them). */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i < 0 ? undefined : process.argv[i + 1];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 16 distinct incompressible 1 MiB blocks, cycled by every writer of the run. */
export const BLOCKS: readonly Buffer[] = Array.from({ length: 16 }, (_, i) =>
  patternBytes(WRITE_BYTES, prng(100 + i)),
);

/** Sequential 1 MiB writes over [0, bytes) with WRITE_WINDOW in flight, then one flush. */
export async function writeSequential(agent: AgentHandle, volumeId: string, bytes: number): Promise<void> {
  let next = 0;
  const writer = async (): Promise<void> => {
    while (next < bytes) {
      const offset = next;
      next += WRITE_BYTES;
      const block = BLOCKS[(offset / WRITE_BYTES) % BLOCKS.length] as Buffer;
      await write(agent, volumeId, offset / BLOCK_BYTES, block);
    }
  };
  await Promise.all(Array.from({ length: WRITE_WINDOW }, writer));
  await flush(agent, volumeId);
}

/** Polls `read` every POLL_MS until `done`; `onSample` sees every sample. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (sample: T) => boolean,
  what: string,
  timeoutMs: number,
  onSample: (sample: T) => void = () => undefined,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const sample = await read();
    onSample(sample);
    if (done(sample)) return sample;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

/** Fleets of the running case: `main` kills them if the run is interrupted. */
export const liveFleets = new Set<AgentFleet>();

/** A fresh primary + replica pair for one case (isolated WAL/extent state), always cleaned up. */
export async function withPair<T>(
  name: string,
  run: (p: AgentHandle, r: AgentHandle) => Promise<T>,
  extraArgs: readonly string[] = [],
): Promise<T> {
  const fleet = new AgentFleet();
  liveFleets.add(fleet);
  try {
    const args = ["--log-level", LOG_LEVEL, ...extraArgs];
    const nodeArgs = (kind: string) =>
      PROFILE_DIR === undefined
        ? []
        : ["--cpu-prof", `--cpu-prof-dir=${join(PROFILE_DIR, `${name}-${kind}`)}`];
    const [primary, replica] = await Promise.all([
      fleet.start({ kind: "primary", serverId: `${name}-p`, args, nodeArgs: nodeArgs("primary") }),
      fleet.start({ kind: "replica", serverId: `${name}-r`, args, nodeArgs: nodeArgs("replica") }),
    ]);
    const result = await run(primary, replica);
    if (PROFILE_DIR !== undefined) await fleet.stopAll("SIGTERM");
    return result;
  } finally {
    if (LOG_DIR !== undefined) {
      mkdirSync(LOG_DIR, { recursive: true });
      writeFileSync(join(LOG_DIR, `${name}.log`), `${fleet.logs()}\n`);
    }
    await fleet.cleanup();
    liveFleets.delete(fleet);
  }
}

/** Allocates on both, assigns the pair at EPOCH and waits until the replica is in sync. */
export async function pairInSync(
  primary: AgentHandle,
  replica: AgentHandle,
  volumeId: string,
  sizeBytes: number,
  walSizeBytes: number,
): Promise<void> {
  for (const a of [primary, replica])
    await allocate(a, { volumeId, sizeBytes, walSizeBytes, mode: "best_effort" });
  await assign(replica, replicaAssignment(volumeId, EPOCH, primary));
  await assign(primary, primaryAssignment(volumeId, EPOCH, [replica], { lease_ttl_ms: LEASE_TTL_MS }));
  await pollUntil(
    () => replicasInSync(primary, volumeId, 1),
    (ok) => ok,
    `${volumeId} in sync`,
    30_000,
  );
}

/** In sync and confirmed durable at the primary's head. */
export function caughtUp(s: VolumeStatus__Output): boolean {
  const r = s.replicas[0];
  return r !== undefined && r.sender_state === "SENDER_STATE_IN_SYNC" && r.durable_lsn === s.head_lsn;
}

export function throwIfNeedsRebuild(s: VolumeStatus__Output): void {
  const r = s.replicas[0];
  if (r?.sender_state === "SENDER_STATE_NEEDS_REBUILD") throw new Error(`replica needs rebuild: ${r.reason}`);
}

export function rebuildingAssignment(volumeId: string, primary: AgentHandle, epoch = EPOCH): Assignment {
  return {
    volume_id: volumeId,
    epoch: String(epoch),
    role: "ROLE_REBUILDING",
    primary_server_id: primary.serverId,
    primary_address: primary.address,
    rebuild_rate_limit_bytes_per_second: "0",
  };
}
