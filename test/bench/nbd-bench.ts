/**
 * NBD benchmark: fio's nbd engine (libnbd) against blockship agents over NBD — RF=1 best_effort
 * and RF=2 sync_all (primary + replica processes on loopback) — and against qemu-nbd serving a
 * plain file in the same temp directory (the same disk), in one run. Shapes:
 *   4k-randwrite-qd1-fsync1    4 KiB random writes, queue depth 1, a flush after each
 *   4k-randwrite-qd32-fsync32  4 KiB random writes, queue depth 32, a flush every 32
 *   4k-randread-qd32           4 KiB random reads, queue depth 32 (after a full sequential fill)
 *   1m-seqwrite-qd4            1 MiB sequential writes, queue depth 4
 *
 *   node --import tsx test/bench/nbd-bench.ts     (npm run bench:nbd; BENCH_SECONDS=10 per case)
 * BENCH_CASE=<substring> runs matching shapes only.
 *
 * Prints one JSON line per figure, qemu-nbd as the baseline:
 *   {"bench":"nbd","case":"<target>/<shape>","value","unit","baseline","ratio"}
 * (qemu-nbd's own lines carry baseline null.) Goals: RF=1 ≥ 0.8 × qemu-nbd on every shape; RF=2
 * sync_all ≥ 0.5 × on 4k-randwrite-qd1-fsync1 and ≥ 0.4 × on 4k-randwrite-qd32-fsync32.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentFleet, waitFor } from "../support/agents";
import {
  allocate,
  assign,
  MiB,
  primaryAssignment,
  replicaAssignment,
  replicasInSync,
} from "../support/master";
import { nbdUri, requireTools, runOk, spawnLong } from "../support/nbd";

const SECONDS = Number(process.env.BENCH_SECONDS ?? "10");
if (!(SECONDS > 0)) throw new Error(`BENCH_SECONDS must be > 0, got ${process.env.BENCH_SECONDS}`);
const CASE_FILTER = process.env.BENCH_CASE ?? "";
/** Extra node flags for the agent processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them. */
const AGENT_NODE_ARGS = (process.env.BENCH_AGENT_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
const SIZE_BYTES = 256 * MiB;
const WAL_BYTES = 64 * MiB;
/** Bound on one fio run beyond its time-based runtime (start-up, the final flush). */
const FIO_SLACK_MS = 120_000;

interface Shape {
  readonly name: string;
  readonly args: readonly string[];
  readonly metric: "iops" | "MiB/s";
  readonly dir: "read" | "write";
}

const ALL_SHAPES: readonly Shape[] = [
  {
    name: "4k-randwrite-qd1-fsync1",
    args: ["--rw=randwrite", "--bs=4k", "--iodepth=1", "--fsync=1"],
    metric: "iops",
    dir: "write",
  },
  {
    name: "4k-randwrite-qd32-fsync32",
    args: ["--rw=randwrite", "--bs=4k", "--iodepth=32", "--fsync=32"],
    metric: "iops",
    dir: "write",
  },
  {
    name: "4k-randread-qd32",
    args: ["--rw=randread", "--bs=4k", "--iodepth=32"],
    metric: "iops",
    dir: "read",
  },
  { name: "1m-seqwrite-qd4", args: ["--rw=write", "--bs=1M", "--iodepth=4"], metric: "MiB/s", dir: "write" },
];
const SHAPES = ALL_SHAPES.filter((s) => s.name.includes(CASE_FILTER));

interface FioSide {
  readonly iops: number;
  readonly bw: number; // KiB/s
}

async function fio(
  uri: string,
  args: readonly string[],
  timed: boolean,
): Promise<{ read: FioSide; write: FioSide }> {
  const r = await runOk(
    "fio",
    [
      "--name=bench",
      "--ioengine=nbd",
      `--uri=${uri}`,
      `--size=${SIZE_BYTES}`,
      "--randrepeat=0",
      "--output-format=json",
      ...(timed ? ["--time_based", `--runtime=${SECONDS}`, "--ramp_time=1"] : []),
      ...args,
    ],
    { timeoutMs: SECONDS * 1000 + FIO_SLACK_MS },
  );
  const json = JSON.parse(r.stdout.slice(r.stdout.indexOf("{"))) as {
    jobs: { read: FioSide; write: FioSide }[];
  };
  const job = json.jobs[0];
  if (job === undefined) throw new Error(`fio printed no job: ${r.stdout}`);
  return job;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const round = (x: number) => Math.round(x * 100) / 100;

/** Fills the target sequentially (reads then read real data everywhere), then runs every shape. */
async function measure(uri: string): Promise<Map<string, number>> {
  await fio(uri, ["--rw=write", "--bs=1M", "--iodepth=4", "--fsync=64"], false);
  const out = new Map<string, number>();
  for (const shape of SHAPES) {
    const side = (await fio(uri, shape.args, true))[shape.dir];
    out.set(shape.name, shape.metric === "iops" ? side.iops : side.bw / 1024);
  }
  return out;
}

function report(
  target: string,
  values: Map<string, number>,
  baseline: Map<string, number> | undefined,
): void {
  for (const shape of SHAPES) {
    const value = values.get(shape.name) ?? 0;
    const base = baseline?.get(shape.name);
    const line = {
      bench: "nbd",
      case: `${target}/${shape.name}`,
      value: round(value),
      unit: shape.metric,
      baseline: base === undefined ? null : round(base),
      ratio: base === undefined || base === 0 ? null : round(value / base),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}

async function qemuNbdBaseline(dir: string): Promise<Map<string, number>> {
  const file = join(dir, "qemu-nbd.raw");
  await runOk("truncate", ["-s", String(SIZE_BYTES), file]);
  const port = await freePort();
  // Default cache mode (writeback: the page cache; a FLUSH is an fdatasync), the same disk.
  const q = spawnLong("qemu-nbd", [
    "-f",
    "raw",
    "-x",
    "bench",
    "-b",
    "127.0.0.1",
    "-p",
    String(port),
    "-t",
    "-e",
    "8",
    file,
  ]);
  try {
    const uri = `nbd://127.0.0.1:${port}/bench`;
    await waitFor(
      async () => (await runOk("nbdinfo", ["--size", uri]).catch(() => undefined)) !== undefined,
      "qemu-nbd",
      20_000,
    );
    return await measure(uri);
  } finally {
    q.child.kill("SIGTERM");
  }
}

async function main(): Promise<void> {
  requireTools("fio", "qemu-nbd", "nbdinfo");
  const dir = mkdtempSync(join(tmpdir(), "blockship-nbd-bench-"));
  const fleet = new AgentFleet();
  try {
    const base = await qemuNbdBaseline(dir);
    report("qemu-nbd", base, undefined);
    const nbd = ["--nbd-listen", "127.0.0.1:0"];
    const [primary, replica] = await Promise.all([
      fleet.start({
        kind: "primary",
        serverId: "nbdb-p",
        dataDir: join(dir, "p"),
        args: nbd,
        nodeArgs: AGENT_NODE_ARGS,
      }),
      fleet.start({
        kind: "replica",
        serverId: "nbdb-r",
        dataDir: join(dir, "r"),
        args: nbd,
        nodeArgs: AGENT_NODE_ARGS,
      }),
    ]);
    await allocate(primary, {
      volumeId: "rf1",
      sizeBytes: SIZE_BYTES,
      walSizeBytes: WAL_BYTES,
      mode: "best_effort",
    });
    await assign(primary, primaryAssignment("rf1", 1, [], { lease_ttl_ms: 600_000 }));
    report("rf1-best_effort", await measure(nbdUri(primary, "rf1")), base);

    for (const a of [primary, replica])
      await allocate(a, {
        volumeId: "rf2",
        sizeBytes: SIZE_BYTES,
        walSizeBytes: WAL_BYTES,
        mode: "sync_all",
      });
    await assign(replica, replicaAssignment("rf2", 1, primary));
    await assign(primary, primaryAssignment("rf2", 1, [replica], { lease_ttl_ms: 600_000 }));
    await waitFor(() => replicasInSync(primary, "rf2", 1), "rf2 replica in sync", 30_000);
    report("rf2-sync_all", await measure(nbdUri(primary, "rf2")), base);
  } finally {
    // A graceful stop first, so agents started with --cpu-prof write their profiles.
    if (AGENT_NODE_ARGS.length > 0) await fleet.stopAll("SIGTERM");
    await fleet.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
