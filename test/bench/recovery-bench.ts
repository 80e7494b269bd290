/**
 * Recovery benchmark with real agent processes on loopback (file-backed volumes, default flags),
 * against a raw baseline measured in the same run:
 *   raw:      a plain Node process streams N bytes of a file over loopback TCP into another
 *             process, which writes them to a file, fdatasyncs every 16 MiB and at the end
 *             (recovery-baseline-*.ts), for N = the catch-up gap and N = the rebuilt volume;
 *   catch-up: primary + replica in sync; SIGKILL the replica; 256 MiB of sequential 1 MiB writes
 *             and a flush (best_effort) through the primary; restart the replica and re-assign it
 *             (ROLE_REPLICA, same epoch) once the primary checkpointed the gap into its extent
 *             (steady state). Timed from the re-assignment until the primary reports
 *             the replica SENDER_STATE_IN_SYNC with durable_lsn == head_lsn. Goal ≥ 0.40 × raw.
 *   rebuild:  primary + replica in sync on an empty 1 GiB volume; SIGKILL the replica; fill the
 *             whole volume through the primary (flushed and checkpointed: the extent is full, the
 *             replica is past retention); restart the replica and assign ROLE_REBUILDING at the same
 *             epoch (no rate limit). Timed from the assignment until the replica reports
 *             ROLE_REPLICA (it switches by itself on commit). Goal ≥ 0.60 × raw.
 *
 *   node --import tsx test/bench/recovery-bench.ts [--quick] [--logs DIR]
 * --quick (or BENCH_QUICK=1): 64 MiB gap and a 256 MiB rebuilt volume, for a smoke run.
 * --logs DIR (or BENCH_LOG_DIR): each case's agent output (last lines) goes to DIR/<case>.log.
 * BENCH_BASELINE_RUNS (3): raw baseline runs per case, the median is the figure.
 * BENCH_CASE=catchup|rebuild runs one case only; BENCH_LOG_LEVEL sets the agents' log level (info);
 * BENCH_PROFILE_DIR=DIR runs the agents with --cpu-prof (the replica's profile covers its second life).
 *
 * Prints one JSON line per figure,
 *   {"bench":"recovery","case","value","unit":"MB/s","baseline","ratio","goal", ...details}
 * (an {"case","error"} line when a case fails), then one human summary line. MB = 10^6 bytes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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
  volumeStatus,
} from "../support/master";
import { cpuMeter } from "./process-cpu";
import { createSourceFile, medianBaseline } from "./recovery-baseline-run";
import {
  type Measured,
  mbPerSecond,
  type Outcome,
  reportBaseline,
  round,
  runCase,
  summary,
} from "./recovery-bench-report";

const QUICK = process.argv.includes("--quick") || process.env.BENCH_QUICK === "1";
const GAP_BYTES = (QUICK ? 64 : 256) * MiB;
/** Room for the gap under the soft watermark (0.7 of the WAL): the retention budget is 0.8. */
const CATCHUP_WAL_BYTES = (GAP_BYTES / 4) * 7;
const CATCHUP_VOLUME_BYTES = (QUICK ? 256 : 1024) * MiB;
const REBUILD_VOLUME_BYTES = (QUICK ? 256 : 1024) * MiB;
/** Small on purpose: filling the volume overruns the retention budget and releases the replica. */
const REBUILD_WAL_BYTES = 64 * MiB;
const CATCHUP_GOAL = 0.4;
/** Raw baseline runs per case; the median is the figure (BENCH_BASELINE_RUNS, odd). */
const BASELINE_RUNS = Number(process.env.BENCH_BASELINE_RUNS ?? 3);
if (!(Number.isInteger(BASELINE_RUNS) && BASELINE_RUNS >= 1 && BASELINE_RUNS % 2 === 1))
  throw new Error(`BENCH_BASELINE_RUNS must be an odd integer >= 1, got ${process.env.BENCH_BASELINE_RUNS}`);
const REBUILD_GOAL = 0.6;
const EPOCH = 1;
const LEASE_TTL_MS = 600_000;
/** Status polling period while a recovery runs (a hot loop would steal one of the two cores). */
const POLL_MS = 20;
/** 1 MiB client writes in flight while preparing a case (not timed). */
const WRITE_WINDOW = 8;
const WRITE_BYTES = MiB;
const BLOCK_BYTES = 4096;
const RECOVERY_TIMEOUT_MS = 180_000;
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? "info";
const LOG_DIR = argValue("--logs") ?? process.env.BENCH_LOG_DIR;
const ONLY = process.env.BENCH_CASE;
/** When set, the agents run with `--cpu-prof` into DIR/<case>-<kind> (SIGTERM at the end writes them). */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i < 0 ? undefined : process.argv[i + 1];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 16 distinct incompressible 1 MiB blocks, cycled by every writer of the run. */
const BLOCKS: readonly Buffer[] = Array.from({ length: 16 }, (_, i) =>
  patternBytes(WRITE_BYTES, prng(100 + i)),
);

/** Sequential 1 MiB writes over [0, bytes) with WRITE_WINDOW in flight, then one flush. */
async function writeSequential(agent: AgentHandle, volumeId: string, bytes: number): Promise<void> {
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
async function pollUntil<T>(
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
const liveFleets = new Set<AgentFleet>();

/** A fresh primary + replica pair for one case (isolated WAL/extent state), always cleaned up. */
async function withPair<T>(name: string, run: (p: AgentHandle, r: AgentHandle) => Promise<T>): Promise<T> {
  const fleet = new AgentFleet();
  liveFleets.add(fleet);
  try {
    const args = ["--log-level", LOG_LEVEL];
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
async function pairInSync(
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
function caughtUp(s: VolumeStatus__Output): boolean {
  const r = s.replicas[0];
  return r !== undefined && r.sender_state === "SENDER_STATE_IN_SYNC" && r.durable_lsn === s.head_lsn;
}

function throwIfNeedsRebuild(s: VolumeStatus__Output): void {
  const r = s.replicas[0];
  if (r?.sender_state === "SENDER_STATE_NEEDS_REBUILD") throw new Error(`replica needs rebuild: ${r.reason}`);
}

async function catchUpCase(): Promise<Measured> {
  return withPair("catchup", async (primary, replica) => {
    const volumeId = "bench-catchup";
    await pairInSync(primary, replica, volumeId, CATCHUP_VOLUME_BYTES, CATCHUP_WAL_BYTES);
    await replica.kill("SIGKILL");
    await writeSequential(primary, volumeId, GAP_BYTES);
    // Steady state before the clock starts, as for the rebuild: the primary's flusher has written
    // the gap into its extent (otherwise that leftover work competes with the catch-up it times).
    const before = await pollUntil(
      () => volumeStatus(primary, volumeId),
      (s) => s.checkpoint_lsn === s.head_lsn,
      "primary checkpointed to its head",
      60_000,
    );
    throwIfNeedsRebuild(before);
    const gapLsns = Number(before.head_lsn) - Number(before.replicas[0]?.durable_lsn ?? 0);
    await replica.restart();
    const cpu = cpuMeter({ primary, replica });
    const started = performance.now();
    let catchingUpMs: number | null = null;
    await assign(replica, replicaAssignment(volumeId, EPOCH, primary));
    const end = await pollUntil(
      () => volumeStatus(primary, volumeId),
      caughtUp,
      "catch-up: replica in sync and durable at the head",
      RECOVERY_TIMEOUT_MS,
      (s) => {
        throwIfNeedsRebuild(s);
        if (catchingUpMs === null && s.replicas[0]?.sender_state === "SENDER_STATE_CATCHING_UP") {
          catchingUpMs = round(performance.now() - started);
        }
      },
    );
    const elapsedMs = performance.now() - started;
    const cpuUsed = cpu();
    // The part after the primary re-dialled (its reconnect back-off runs before it).
    const transferMs: number | null = catchingUpMs === null ? null : elapsedMs - catchingUpMs;
    return {
      bytes: GAP_BYTES,
      seconds: elapsedMs / 1000,
      details: {
        gap_lsns: gapLsns,
        head_lsn: end.head_lsn,
        first_catching_up_seen_ms: catchingUpMs,
        after_catching_up_mb_s: transferMs === null ? null : round(mbPerSecond(GAP_BYTES, transferMs / 1000)),
        cpu_s: cpuUsed,
      },
    };
  });
}

function rebuildingAssignment(volumeId: string, primary: AgentHandle): Assignment {
  return {
    volume_id: volumeId,
    epoch: String(EPOCH),
    role: "ROLE_REBUILDING",
    primary_server_id: primary.serverId,
    primary_address: primary.address,
    rebuild_rate_limit_bytes_per_second: "0",
  };
}

async function rebuildCase(): Promise<Measured> {
  return withPair("rebuild", async (primary, replica) => {
    const volumeId = "bench-rebuild";
    await pairInSync(primary, replica, volumeId, REBUILD_VOLUME_BYTES, REBUILD_WAL_BYTES);
    await replica.kill("SIGKILL");
    await writeSequential(primary, volumeId, REBUILD_VOLUME_BYTES);
    // Steady state before the clock starts: everything checkpointed into the extent.
    const filled = await pollUntil(
      () => volumeStatus(primary, volumeId),
      (s) => s.checkpoint_lsn === s.head_lsn,
      "primary checkpointed to its head",
      60_000,
    );
    await replica.restart();
    const cpu = cpuMeter({ primary, replica });
    const started = performance.now();
    const stageStartMs: Record<string, number> = {};
    let imageReceivedMs: number | null = null;
    await assign(replica, rebuildingAssignment(volumeId, primary));
    const end = await pollUntil(
      () => volumeStatus(replica, volumeId),
      (s) => s.role === "ROLE_REPLICA",
      "rebuild committed (role REPLICA)",
      RECOVERY_TIMEOUT_MS,
      (s) => {
        if (s.rebuild_stage !== "" && stageStartMs[s.rebuild_stage] === undefined) {
          stageStartMs[s.rebuild_stage] = round(performance.now() - started);
        }
        const total = Number(s.rebuild_total_bytes);
        if (imageReceivedMs === null && total > 0 && Number(s.rebuild_received_bytes) >= total) {
          imageReceivedMs = round(performance.now() - started);
        }
      },
    );
    const committedMs = performance.now() - started;
    const cpuUsed = cpu();
    const last = end.last_rebuild;
    if (last === null || last === undefined) throw new Error("role REPLICA but no last_rebuild summary");
    if (Number(last.total_bytes) !== REBUILD_VOLUME_BYTES) {
      throw new Error(`rebuild image of ${last.total_bytes} bytes, expected ${REBUILD_VOLUME_BYTES}`);
    }
    // For context (not timed): how long until the primary's shipper has it in sync again.
    await pollUntil(() => volumeStatus(primary, volumeId), caughtUp, "in sync after the rebuild", 60_000);
    const inSyncMs = round(performance.now() - started);
    const durationMs = Number(last.duration_ms);
    return {
      bytes: REBUILD_VOLUME_BYTES,
      seconds: committedMs / 1000,
      details: {
        sender_state_before: filled.replicas[0]?.sender_state ?? null,
        duration_ms: durationMs,
        // The agent's own clock must roughly agree with ours (it starts a little later).
        duration_ms_plausible: durationMs > 0 && durationMs <= committedMs + 1000,
        bytes_transferred: Number(last.bytes_transferred),
        resumes: last.resumes,
        base_lsn: last.base_lsn,
        last_lsn: last.last_lsn,
        stage_first_seen_ms: stageStartMs,
        // Image on the replica's staging (the rest until the commit: sync, staging → extent copy).
        image_received_ms: imageReceivedMs,
        cpu_s: cpuUsed,
        in_sync_ms: inSyncMs,
      },
    };
  });
}

/** Baseline files (removed on exit, also when interrupted). */
const workDir = mkdtempSync(join(tmpdir(), "blockship-recovery-bench-"));

async function main(): Promise<void> {
  try {
    const wanted = (name: string) => ONLY === undefined || name.includes(ONLY);
    const source = join(workDir, "source.bin");
    await createSourceFile(source, Math.max(GAP_BYTES, REBUILD_VOLUME_BYTES), BLOCKS);
    const sink = join(workDir, "sink.bin");
    const outcomes: Outcome[] = [];
    const gapName = `catchup_${GAP_BYTES / MiB}MiB_gap`;
    if (wanted("catchup")) {
      const raw = await medianBaseline(source, sink, GAP_BYTES, BASELINE_RUNS);
      reportBaseline(`raw_tcp_file_fdatasync_${GAP_BYTES / MiB}MiB`, raw);
      outcomes.push(await runCase(gapName, CATCHUP_GOAL, raw, catchUpCase));
    }
    const rebuildName = `rebuild_${REBUILD_VOLUME_BYTES / MiB}MiB_volume`;
    if (wanted("rebuild")) {
      const raw = await medianBaseline(source, sink, REBUILD_VOLUME_BYTES, BASELINE_RUNS);
      reportBaseline(`raw_tcp_file_fdatasync_${REBUILD_VOLUME_BYTES / MiB}MiB`, raw);
      outcomes.push(await runCase(rebuildName, REBUILD_GOAL, raw, rebuildCase));
    }
    process.stdout.write(`${summary(`recovery bench${QUICK ? " (quick)" : ""}`, outcomes)}\n`);
    if (outcomes.some((o) => o.error !== undefined)) process.exitCode = 1;
  } finally {
    await Promise.all([...liveFleets].map((f) => f.cleanup()));
    rmSync(workDir, { recursive: true, force: true });
  }
}

// Ctrl-C / SIGTERM: stop the agents and remove the temp dirs before exiting.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    process.stderr.write(`recovery bench: ${signal}, cleaning up\n`);
    void Promise.all([...liveFleets].map((f) => f.cleanup())).finally(() => {
      rmSync(workDir, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

await main();
