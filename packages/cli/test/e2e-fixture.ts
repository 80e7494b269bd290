// Shared setup of blockctl's end-to-end test files: a primary and a replica agent process on
// loopback, the argument builders and the exit-code assertion. Every test file starts its own
// pair (ports picked by the OS, temp dirs of their own): vitest may run the files in parallel
// processes, and no file may depend on what another one left behind.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { AgentApi, type AgentProcess, blockctl, type CliRun, startAgent, waitFor } from "./helpers";

export const VOLUME = "vol-1";
/** The volume the rebuild tests pull from the primary onto the replica. */
export const REBUILT = "vol-rb";
export const MiB = 1 << 20;
/** How the CLI's JSON prints a u64: a decimal string. */
export const U64 = /^\d+$/;

/** The error document a failing `--json` run prints on stdout. */
export interface JsonError {
  error: { exit_code: number; code: string; reason: string; message: string; hint: string };
}

export interface AgentPair {
  /** srv-a: a short barrier timeout, so a flush its replica cannot confirm fails within a test. */
  readonly primary: AgentProcess;
  /** srv-b */
  readonly replica: AgentProcess;
  /** A temp dir for the test's own files (removed by stop). */
  readonly workDir: string;
  stop(): Promise<void>;
}

/** Starts srv-a (primary) and srv-b (replica); if either fails to start, the other is stopped. */
export async function startPair(name: string): Promise<AgentPair> {
  const workDir = mkdtempSync(join(tmpdir(), `blockctl-${name}-`));
  const started = await Promise.allSettled([
    startAgent("primary", "srv-a", ["--barrier-timeout-ms", "1000"]),
    startAgent("replica", "srv-b"),
  ]);
  const [primary, replica] = started;
  if (primary.status === "rejected" || replica.status === "rejected") {
    await Promise.all(started.map((s) => (s.status === "fulfilled" ? s.value.cleanup() : undefined)));
    rmSync(workDir, { recursive: true, force: true });
    throw primary.status === "rejected" ? primary.reason : (replica as PromiseRejectedResult).reason;
  }
  return {
    primary: primary.value,
    replica: replica.value,
    workDir,
    stop: async () => {
      await Promise.all([primary.value.cleanup(), replica.value.cleanup()]);
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

export const at = (agent: AgentProcess) => ["--addr", agent.address];

/** The rebuild verb's source: the primary srv-a at epoch 1, at `primaryAddress`. */
export const rebuildFrom = (primaryAddress: string) => [
  "--epoch",
  "1",
  "--primary-id",
  "srv-a",
  "--primary-address",
  primaryAddress,
];

const explain = (run: CliRun) =>
  `blockctl ${run.args.join(" ")} → ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`;

export function expectExit(run: CliRun, code: number): void {
  expect(run.code, explain(run)).toBe(code);
}

/** A setup step: blockctl must succeed, or the setup fails with what it printed. */
async function mustRun(args: readonly string[]): Promise<void> {
  const run = await blockctl(args);
  if (run.code !== 0) throw new Error(`setup failed: ${explain(run)}`);
}

/** `allocate` of VOLUME: 4 MiB, 1 MiB WAL, sync_all. */
export const allocateVolumeArgs = [
  "allocate",
  VOLUME,
  "--size",
  "4MiB",
  "--wal-size",
  "1MiB",
  "--durability",
  "sync_all",
];

/** `assign` of VOLUME as REPLICA of srv-a at epoch 1. */
export const assignReplicaArgs = [
  "assign",
  VOLUME,
  "--epoch",
  "1",
  "--role",
  "replica",
  "--primary-server-id",
  "srv-a",
];

/** `assign` of VOLUME as PRIMARY at epoch 1 with srv-b (at `replica`) as its replica, sync_all. */
export const assignPrimaryArgs = (replica: AgentProcess) => [
  "assign",
  VOLUME,
  "--epoch",
  "1",
  "--role",
  "primary",
  "--lease-ttl-ms",
  "600000",
  "--replica",
  `srv-b=${replica.address}`,
  "--durability",
  "sync_all",
];

/**
 * VOLUME (4 MiB, 1 MiB WAL, sync_all) on both agents, REPLICA on srv-b and PRIMARY on srv-a at
 * epoch 1 with srv-b as its replica; resolves once the replica is in sync and confirmed a flush,
 * so a test that takes the replica away starts from a pair that was replicating.
 */
export async function setUpReplicatedVolume({ primary, replica }: AgentPair): Promise<void> {
  await Promise.all([primary, replica].map((agent) => mustRun([...at(agent), ...allocateVolumeArgs])));
  await mustRun([...at(replica), ...assignReplicaArgs]);
  await mustRun([...at(primary), ...assignPrimaryArgs(replica)]);
  const api = new AgentApi(primary.address);
  try {
    await waitFor(
      async () => (await api.status(VOLUME)).replicas[0]?.sender_state === "SENDER_STATE_IN_SYNC",
      `${VOLUME}'s replica in sync on the primary`,
    );
    await api.writeFlushed(VOLUME, 0, Buffer.alloc(4096, 0x5a));
  } finally {
    api.close();
  }
}
