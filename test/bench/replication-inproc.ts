/**
 * Replication in process: the primary's Volume + ShipperGroup + durableFlush run in this process
 * (as the agent wires them), the replica is a real replica agent process on loopback. No client
 * RPC in the path: this measures the data plane itself (storage, shipping, barriers).
 *
 * Shapes: 4 KiB random writes with a flush after each write at 1, 16 and 32 writers; 32 writers
 * with a flush every 32 writes (per writer); 1 MiB sequential writes with 1 and 16 in flight and a
 * flush every 16 MiB. Each at RF=1 best_effort (no replica) and RF=2 sync_all, repetitions
 * alternating RF=1 / RF=2 on fresh volumes, median reported. The disk's fdatasync latency (4 KiB
 * write + fdatasync loop in the same directory) is measured at the start and the end of the run.
 *
 *   npm run bench:replication-inproc [-- --quick] [--seconds 5] [--reps 3] [--shapes a,b] [--dir d]
 *
 * JSON lines: one per repetition ("stat":"rep") and one per shape and RF ("stat":"median", with
 * flush p50/p99 over all repetitions), then "stat":"summary" per shape: rf2/rf1 and, for flush-each
 * shapes, the RF=2 flush p50 over the run's fdatasync p50. Goals (same-run ratios): rf2/rf1 >= 0.45
 * at one writer and >= 0.5 at 16 and 32 writers; at one writer flush p50 <= 2.5 x fdatasync p50.
 * This is a shared 2-core machine: figures move with other load (load_1m is printed).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { connectReplication, durableFlush, ShipperGroup } from "@blockship/replication";
import { deadlineIn, unary } from "@blockship/rpc";
import { createVolumeFile, type Volume } from "@blockship/storage";
import { AgentFleet, type AgentHandle, waitFor } from "../support/agents";
import { allocate, assign } from "../support/master";
import {
  fdatasyncProbe,
  MiB,
  median,
  percentile,
  type RunResult,
  runShape,
  SHAPES,
  type Shape,
} from "./replication-inproc-shapes";

const { values: opts } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    seconds: { type: "string" },
    reps: { type: "string" },
    shapes: { type: "string" },
    rf: { type: "string", default: "1,2" },
    dir: { type: "string" },
  },
});
const SECONDS = Number(opts.seconds ?? (opts.quick ? "1" : "5"));
const REPS = Number(opts.reps ?? (opts.quick ? "1" : "3"));
if (!(SECONDS > 0) || !Number.isInteger(REPS) || REPS < 1) throw new Error("bad --seconds / --reps");
const RFS = (opts.rf ?? "1,2").split(",").map(Number);
const VOLUME_BYTES = 1024 * MiB;
const WAL_BYTES = 128 * MiB;
const PRIMARY_ID = "inproc-p";
const PROBE_SECONDS = opts.quick ? 1 : 2;

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const print = (line: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ system: "blockship-inproc", ...line })}\n`);

interface Pair {
  readonly volume: Volume;
  readonly flush: () => Promise<unknown>;
  close(): Promise<void>;
}

let volumeSeq = 0;

async function openPair(rf: number, dir: string, replica: AgentHandle): Promise<Pair> {
  const volumeId = `inproc-rf${rf}-${++volumeSeq}`;
  const path = join(dir, `${volumeId}.blk`);
  const mode = rf === 2 ? "sync_all" : "best_effort";
  const volume = await createVolumeFile(path, {
    volumeSizeBytes: VOLUME_BYTES,
    walSizeBytes: WAL_BYTES,
    blockSize: 4096,
    epoch: 1,
    durabilityMode: mode,
  });
  const dropFile = async (): Promise<void> => {
    await volume.close();
    rmSync(path, { force: true });
  };
  if (rf === 1) return { volume, flush: () => durableFlush(volume, null, mode), close: dropFile };
  await allocate(replica, { volumeId, sizeBytes: VOLUME_BYTES, walSizeBytes: WAL_BYTES, mode });
  await assign(replica, {
    volume_id: volumeId,
    epoch: "1",
    role: "ROLE_REPLICA",
    primary_server_id: PRIMARY_ID,
  });
  const group = new ShipperGroup({
    volume,
    volumeId,
    primaryServerId: PRIMARY_ID,
    epoch: () => 1,
    durabilityMode: () => mode,
    connect: (address) => connectReplication(address),
  });
  group.setReplicas([
    { replicaId: `${volumeId}/${replica.serverId}`, serverId: replica.serverId, address: replica.address },
  ]);
  await waitFor(() => group.statuses()[0]?.state === "in_sync", `${volumeId} in sync`, 30_000);
  return {
    volume,
    flush: () => durableFlush(volume, group, mode),
    close: async () => {
      await group.close();
      await dropFile();
      await unary((cb) => replica.control.DeleteVolume({ volume_id: volumeId }, deadlineIn(30_000), cb));
    },
  };
}

interface Rep extends RunResult {
  readonly eventLoopP99Ms: number;
}

async function runRep(shape: Shape, rf: number, dir: string, replica: AgentHandle): Promise<Rep> {
  const pair = await openPair(rf, dir, replica);
  try {
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const r = await runShape(shape, pair.volume, pair.flush, SECONDS);
    loop.disable();
    return { ...r, eventLoopP99Ms: loop.percentile(99) / 1e6 };
  } finally {
    await pair.close();
  }
}

function caseName(shape: Shape, rf: number): string {
  return `${shape.name}_rf${rf}_${rf === 2 ? "sync_all" : "best_effort"}`;
}

function printRep(shape: Shape, rf: number, rep: number, r: Rep): void {
  print({
    case: caseName(shape, rf),
    shape: shape.name,
    rf,
    stat: "rep",
    rep,
    value: round(r.value),
    unit: r.unit,
    flushes: r.flushMs.length,
    p50_flush_ms: round(percentile(r.flushMs, 50), 3),
    p99_flush_ms: round(percentile(r.flushMs, 99), 3),
    event_loop_p99_ms: round(r.eventLoopP99Ms, 3),
    wall_s: round(r.seconds),
    load_1m: round(loadavg()[0] ?? 0),
  });
}

interface Median {
  readonly value: number;
  readonly unit: string;
  readonly p50FlushMs: number;
}

function printMedian(shape: Shape, rf: number, reps: readonly Rep[]): Median {
  const values = reps.map((r) => r.value);
  const flushMs = reps.flatMap((r) => r.flushMs);
  const m = { value: median(values), unit: reps[0]?.unit ?? "", p50FlushMs: percentile(flushMs, 50) };
  print({
    case: caseName(shape, rf),
    shape: shape.name,
    rf,
    stat: "median",
    value: round(m.value),
    unit: m.unit,
    values: values.map((v) => round(v)),
    max_over_min: round(Math.max(...values) / Math.min(...values)),
    p50_flush_ms: round(m.p50FlushMs, 3),
    p99_flush_ms: round(percentile(flushMs, 99), 3),
  });
  return m;
}

function printProbe(when: string, samples: readonly number[]): number {
  const p50 = percentile(samples, 50);
  print({
    case: `fdatasync_4k_${when}`,
    stat: "probe",
    value: round(samples.length / PROBE_SECONDS),
    unit: "syncs/s",
    p50_ms: round(p50, 3),
    p99_ms: round(percentile(samples, 99), 3),
  });
  return p50;
}

async function main(): Promise<void> {
  const wanted = opts.shapes?.split(",");
  const shapes = SHAPES.filter((s) => wanted === undefined || wanted.includes(s.name));
  if (shapes.length === 0) throw new Error(`no shape matches ${opts.shapes}`);
  const dir = mkdtempSync(join(opts.dir ?? tmpdir(), "blockship-inproc-"));
  const fleet = new AgentFleet();
  try {
    const replica = await fleet.start({
      kind: "replica",
      serverId: "inproc-r",
      args: ["--log-level", "warn"],
    });
    const probes = [...fdatasyncProbe(dir, PROBE_SECONDS)];
    const startP50 = printProbe("start", probes);
    const medians: [Shape, Map<number, Median>][] = [];
    for (const shape of shapes) {
      const reps = new Map<number, Rep[]>(RFS.map((rf) => [rf, []]));
      // Alternating RF=1 / RF=2 per repetition: drift on the shared machine hits both alike.
      for (let rep = 0; rep < REPS; rep++) {
        for (const rf of RFS) {
          const r = await runRep(shape, rf, dir, replica);
          printRep(shape, rf, rep, r);
          reps.get(rf)?.push(r);
        }
      }
      medians.push([shape, new Map(RFS.map((rf) => [rf, printMedian(shape, rf, reps.get(rf) ?? [])]))]);
    }
    const endSamples = fdatasyncProbe(dir, PROBE_SECONDS);
    printProbe("end", endSamples);
    const syncP50 = percentile([...probes, ...endSamples], 50);
    for (const [shape, m] of medians) {
      const one = m.get(1);
      const two = m.get(2);
      print({
        case: shape.name,
        stat: "summary",
        rf1: one === undefined ? null : round(one.value),
        rf2: two === undefined ? null : round(two.value),
        unit: one?.unit ?? two?.unit,
        rf2_over_rf1: one === undefined || two === undefined ? null : round(two.value / one.value),
        rf2_p50_flush_ms: two === undefined ? null : round(two.p50FlushMs, 3),
        fdatasync_p50_ms: round(syncP50, 3),
        fdatasync_p50_start_ms: round(startP50, 3),
        rf2_flush_p50_over_fdatasync_p50:
          two === undefined || shape.flushEvery !== 1 || shape.sequential
            ? null
            : round(two.p50FlushMs / syncP50),
      });
    }
  } catch (err) {
    process.stderr.write(`${fleet.logs()}\n`);
    throw err;
  } finally {
    await fleet.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
