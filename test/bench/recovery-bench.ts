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
 *   resync_away (changed-block resync, case a): primary + replica in sync on an 8 GiB volume with the
 *             agent's default WAL (64 MiB); SIGKILL the replica; 2 GiB of 1 MiB writes over 256 MiB
 *             of distinct blocks (256 regions of 1 MiB spread evenly over the volume, 8 rounds, a
 *             flush per round: the WAL is recycled many times over); restart the replica and
 *             re-assign it. Timed from the re-assignment until the primary reports it IN_SYNC at
 *             its head; value = distinct MB / s against the raw copy of 256 MiB (goal ≥ 0.6).
 *             Bytes sent = the primary's blockship_resync_last_sent_bytes (its --metrics-listen),
 *             against the distinct bytes. Then a full rebuild of the same volume onto the same
 *             copy (ROLE_REBUILDING, no rate limit, until IN_SYNC at the head) in the same run:
 *             full_rebuild_over_resync (goal ≥ 5). The primary's extent is sparse outside the
 *             written regions; the rebuild still sends and stores every byte of the volume.
 *             BENCH_RESYNC_SCALE=k divides the three sizes of this case by k (--quick: 16).
 *   resync_failover (case b): pair in sync on a 1 GiB volume (default WAL), 16 MiB common history;
 *             SIGKILL the replica; the primary takes 64 MiB of acknowledged (flushed), never
 *             replicated writes; SIGKILL it; the old replica becomes primary at epoch + 1 and
 *             writes 16 MiB of its own; the old primary restarts and is assigned its replica.
 *             Timed until the new primary reports it IN_SYNC at its head, against the raw copy of
 *             the 80 MiB the two copies differ in, and a full rebuild of the same volume.
 *   rebuild_under_load (case c): pair on a 1 GiB volume (default WAL), volume filled while the
 *             replica is away; an idle full rebuild (the baseline), then a second one while a
 *             writer loads the primary at a fifth of the idle rebuild's rate (256 KiB writes at
 *             random offsets, 4 in flight, paced to a schedule). Timed until the copy commits (role REPLICA); reports resumes and
 *             restarts from byte 0 seen. A rebuild pins the WAL at its base, so today it may not
 *             converge: after max(60 s, 8 × idle) (≤ 300 s) the case prints an error line with
 *             the same figures. Every case also has an overall time limit (15-20 min).
 *
 *   node --import tsx test/bench/recovery-bench.ts [--quick] [--logs DIR]
 * --quick (or BENCH_QUICK=1): 64 MiB gap and a 256 MiB rebuilt volume, resync cases scaled down
 * (a: 512 MiB volume, 128 MiB over 16 MiB; b: 16 MiB tail on 256 MiB; c: 256 MiB), for a smoke run.
 * --logs DIR (or BENCH_LOG_DIR): each case's agent output (last lines) goes to DIR/<case>.log.
 * BENCH_BASELINE_RUNS (3): raw baseline runs per case, the median is the figure.
 * BENCH_CASE=catchup|rebuild|resync_away|resync_failover|rebuild_under_load runs matching cases; BENCH_LOG_LEVEL sets the agents' log level (info);
 * BENCH_PROFILE_DIR=DIR runs the agents with --cpu-prof (the replica's profile covers its second life).
 *
 * Prints one JSON line per figure,
 *   {"bench":"recovery","case","value","unit":"MB/s","baseline","ratio","goal", ...details}
 * (an {"case","error"} line when a case fails), then one human summary line. MB = 10^6 bytes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assign, MiB, replicaAssignment, volumeStatus } from "../support/master";
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
import {
  BLOCKS,
  caughtUp,
  EPOCH,
  liveFleets,
  pairInSync,
  pollUntil,
  rebuildingAssignment,
  throwIfNeedsRebuild,
  withPair,
  writeSequential,
} from "./recovery-harness";
import { resyncCases, resyncSizes } from "./resync-cases";

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
const RECOVERY_TIMEOUT_MS = 180_000;
const ONLY = process.env.BENCH_CASE;

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
    await createSourceFile(source, Math.max(GAP_BYTES, REBUILD_VOLUME_BYTES, 256 * MiB), BLOCKS);
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
    const scale = Number(process.env.BENCH_RESYNC_SCALE ?? (QUICK ? 16 : 1));
    outcomes.push(
      ...(await resyncCases({
        sizes: resyncSizes(scale, QUICK),
        source,
        sink,
        baselineRuns: BASELINE_RUNS,
        wanted,
      })),
    );
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
