/**
 * Where the time of one replicated barrier goes (bench:replication-inproc-trace): 4 KiB random
 * writes at one writer, a flush after each, RF=2 sync_all, the primary's Volume + ShipperGroup in
 * this process and the replica a real agent with a preloaded stage tracer. Per flush, timestamps
 * (CLOCK_MONOTONIC, comparable across the two processes) of:
 *   write resolved → flush called → primary barrier sent → replica batch received / appended →
 *   replica barrier received → appends settled → replica fsync done → answer written →
 *   primary answer read → flush resolved (and the local fsync beside it),
 * printed as the median and p90 of each step, plus both event loops' delay.
 *
 *   npm run bench:replication-inproc-trace [-- --seconds 5]
 * The flush is durableFlush's own round (local fsync and barriers concurrently, then the sync_all
 * rule), unrolled here so the local fsync can be timed beside the barrier.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import {
  type BarrierStage,
  connectReplication,
  decideDurability,
  ShipperGroup,
  setStageTracer,
} from "@blockship/replication";
import { createVolumeFile } from "@blockship/storage";
import { AgentFleet, REPO_ROOT, waitFor } from "../support/agents";
import { patternBytes, prng } from "../support/io";
import { allocate, assign } from "../support/master";
import { BLOCK, fdatasyncProbe, MiB, percentile } from "./replication-inproc-shapes";

const { values: opts } = parseArgs({
  options: { seconds: { type: "string", default: "5" }, "ab-hint": { type: "boolean", default: false } },
});
/**
 * --ab-hint: a paired A/B inside the run: every 250 ms the primary's replicated-flush hint flips
 * (plain appends, the default with replicas, vs O_DSYNC appends; both are safe, see
 * Volume.setReplicatedFlushHint), and the flush latency is reported per side.
 */
const AB_HINT = opts["ab-hint"] === true;
const AB_SLICE_MS = 250;
const SECONDS = Number(opts.seconds);
const PRIMARY_ID = "trace-p";
const VOLUME_ID = "trace-1";
const now = () => Number(process.hrtime.bigint() / 1000n); // µs, CLOCK_MONOTONIC

type Marks = Map<string, number>;

interface ReplicaDump {
  readonly marks: [BarrierStage, number, number, number][];
  readonly eventLoop: Record<string, number>;
}

async function dumpReplica(pid: number, file: string): Promise<ReplicaDump> {
  rmSync(file, { force: true });
  process.kill(pid, "SIGUSR2");
  await waitFor(() => existsSync(file), "replica trace dump", 15_000);
  return JSON.parse(readFileSync(file, "utf8")) as ReplicaDump;
}

/** One row per flush: µs since "write_resolved" for each step. */
function rows(flushes: Marks[], replica: ReplicaDump): Marks[] {
  const byBarrier = new Map<number, Marks>();
  const byBatch = new Map<number, Marks>();
  for (const [stage, id, lsn, t] of replica.marks) {
    const m = id === 0 ? byBatch : byBarrier;
    const key = id === 0 ? lsn : id;
    let e = m.get(key);
    if (e === undefined) {
      e = new Map();
      m.set(key, e);
    }
    if (!e.has(stage)) e.set(stage, t);
  }
  return flushes.map((f) => {
    const out: Marks = new Map(f);
    for (const [k, v] of byBarrier.get(f.get("barrier_id") ?? -1) ?? []) out.set(k, v);
    for (const [k, v] of byBatch.get(f.get("lsn") ?? -1) ?? []) out.set(k, v);
    return out;
  });
}

const STEPS: [string, string, string][] = [
  ["flush call → barrier sent", "flush_called", "primary_barrier_sent"],
  ["batch: write resolved → replica received", "write_resolved", "replica_batch_received"],
  ["batch: replica received → appended", "replica_batch_received", "replica_batch_appended"],
  ["barrier sent → replica received", "primary_barrier_sent", "replica_barrier_received"],
  ["replica received → appends settled", "replica_barrier_received", "replica_appends_settled"],
  ["appends settled → replica fsync done", "replica_appends_settled", "replica_fsync_done"],
  ["fsync done → answer written", "replica_fsync_done", "replica_answer_written"],
  ["answer written → primary read it", "replica_answer_written", "primary_barrier_answered"],
  ["primary read it → barrierAll resolved", "primary_barrier_answered", "barriers_done"],
  ["local fsync (flush call → done)", "flush_called", "local_done"],
  ["barrierAll resolved → flush resolved", "barriers_done", "flush_resolved"],
  ["flush call → flush resolved (total)", "flush_called", "flush_resolved"],
];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "blockship-trace-"));
  const traceFile = join(dir, "replica-trace.json");
  const fleet = new AgentFleet();
  try {
    const replica = await fleet.start({
      kind: "replica",
      serverId: "trace-r",
      args: ["--log-level", "warn"],
      env: { BLOCKSHIP_STAGE_TRACE_FILE: traceFile },
      nodeArgs: ["--import", "tsx", "--import", join(REPO_ROOT, "test/bench/replication-inproc-preload.ts")],
    });
    const syncSamples = fdatasyncProbe(dir, 2);
    const volume = await createVolumeFile(join(dir, "primary.blk"), {
      volumeSizeBytes: 1024 * MiB,
      walSizeBytes: 128 * MiB,
      blockSize: BLOCK,
      epoch: 1,
      durabilityMode: "sync_all",
    });
    await allocate(replica, {
      volumeId: VOLUME_ID,
      sizeBytes: 1024 * MiB,
      walSizeBytes: 128 * MiB,
      mode: "sync_all",
    });
    await assign(replica, {
      volume_id: VOLUME_ID,
      epoch: "1",
      role: "ROLE_REPLICA",
      primary_server_id: PRIMARY_ID,
    });
    const group = new ShipperGroup({
      volume,
      volumeId: VOLUME_ID,
      primaryServerId: PRIMARY_ID,
      epoch: () => 1,
      durabilityMode: () => "sync_all",
      connect: (address) => connectReplication(address),
    });
    group.setReplicas([{ replicaId: `${VOLUME_ID}/trace-r`, serverId: "trace-r", address: replica.address }]);
    await waitFor(() => group.statuses()[0]?.state === "in_sync", "replica in sync", 30_000);
    let current: Marks | undefined;
    const answered = new Map<number, number>();
    setStageTracer((stage, id) => {
      const t = now();
      if (stage === "primary_barrier_sent" && current !== undefined && !current.has("barrier_id")) {
        current.set("barrier_id", id);
        current.set(stage, t);
      } else if (stage === "primary_barrier_answered") answered.set(id, t);
    });
    const pid = replica.pid;
    if (pid === undefined) throw new Error("replica has no pid");
    await dumpReplica(pid, traceFile); // start afresh
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const flushes: Marks[] = [];
    const rand = prng(5);
    const data = patternBytes(BLOCK, rand);
    const deadline = performance.now() + SECONDS * 1000;
    const started = performance.now();
    while (performance.now() < deadline) {
      const m: Marks = new Map();
      const plain = !AB_HINT || Math.floor((performance.now() - started) / AB_SLICE_MS) % 2 === 0;
      if (AB_HINT) volume.setReplicatedFlushHint(plain);
      m.set("plain_appends", plain ? 1 : 0);
      m.set("write_started", now());
      const lsn = await volume.write(Math.floor(rand() * 262_144), data);
      m.set("write_resolved", now()).set("lsn", lsn);
      current = m;
      m.set("flush_called", now());
      const head = volume.headLsn;
      const local = volume.flush().then(() => void m.set("local_done", now()));
      const barriers = group.barrierAll(head).then((o) => {
        m.set("barriers_done", now());
        return o;
      });
      const [, outcomes] = await Promise.all([local, barriers]);
      decideDurability("sync_all", head, outcomes);
      m.set("flush_resolved", now());
      current = undefined;
      flushes.push(m);
    }
    loop.disable();
    const dump = await dumpReplica(pid, traceFile);
    for (const f of flushes) {
      const t = answered.get(f.get("barrier_id") ?? -1);
      if (t !== undefined) f.set("primary_barrier_answered", t);
    }
    const table = rows(flushes, dump);
    const line = (name: string, a: string, b: string) => {
      const d = table.flatMap((r) => {
        const x = r.get(a);
        const y = r.get(b);
        return x === undefined || y === undefined ? [] : [y - x];
      });
      return { step: name, n: d.length, p50_us: percentile(d, 50), p90_us: percentile(d, 90) };
    };
    for (const [name, a, b] of STEPS) process.stdout.write(`${JSON.stringify(line(name, a, b))}\n`);
    if (AB_HINT) {
      for (const plain of [1, 0]) {
        const side = flushes.filter((f) => f.get("plain_appends") === plain);
        const total = side.map((f) => (f.get("flush_resolved") ?? 0) - (f.get("flush_called") ?? 0));
        const op = side.map((f) => (f.get("flush_resolved") ?? 0) - (f.get("write_started") ?? 0));
        process.stdout.write(
          `${JSON.stringify({ ab: plain === 1 ? "plain_appends" : "dsync_appends", flushes: side.length, flush_p50_us: percentile(total, 50), flush_p90_us: percentile(total, 90), write_and_flush_p50_us: percentile(op, 50) })}\n`,
        );
      }
    }
    process.stdout.write(
      `${JSON.stringify({
        flushes: flushes.length,
        flushes_per_s: Math.round(flushes.length / SECONDS),
        fdatasync_p50_us: Math.round(percentile(syncSamples, 50) * 1000),
        primary_event_loop: {
          p50_ms: loop.percentile(50) / 1e6,
          p99_ms: loop.percentile(99) / 1e6,
          max_ms: loop.max / 1e6,
        },
        replica_event_loop: dump.eventLoop,
        load_1m: loadavg()[0],
      })}\n`,
    );
    setStageTracer(undefined);
    await group.close();
    await volume.close();
  } catch (err) {
    process.stderr.write(`${fleet.logs()}\n`);
    throw err;
  } finally {
    await fleet.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
