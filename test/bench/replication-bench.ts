/**
 * Replication benchmark through the streaming Volume API (Volume.WriteStream), with the primary
 * and the replica as separate agent processes on loopback:
 *   (a) 1 MiB sequential writes, a flush every 16 MiB;
 *   (b) 4 KiB random writes at concurrency 32, a flush after every write;
 *   (c) 4 KiB random writes at concurrency 32, a flush every 32 writes (per writer).
 * Each for RF=1 (best_effort, no replica) and RF=2 (sync_all); the RF=2 line carries the RF=1
 * figure as its baseline. For context (no goal): raw grpc-js streaming of 1 MiB messages between
 * two processes.
 *
 *   node --import tsx test/bench/replication-bench.ts      (BENCH_SECONDS=5 per case by default)
 * BENCH_CASE=<substring> runs matching cases only; BENCH_RF=1|2 one side only; BENCH_PROFILE_DIR=dir
 * runs both agents with --cpu-prof into dir/primary and dir/replica.
 *
 * Prints one JSON line per figure:
 *   {"bench":"replication","case","value","unit","baseline","ratio","p50_flush_ms","p99_flush_ms"}
 * Goals: RF=2 ≥ 0.50 × RF=1 for (b) and (c), ≥ 0.45 × RF=1 for (a).
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import {
  bidiStreamHandler,
  closeClient,
  createReplicationClient,
  type ShipRequest__Output,
  type ShipResponse,
  startServer,
  type WriteStreamRequest,
  type WriteStreamResponse__Output,
} from "@blockship/rpc";
import { AgentFleet, type AgentHandle, REPO_ROOT, waitFor } from "../support/agents";
import { patternBytes, prng } from "../support/io";
import {
  allocate,
  assign,
  MiB,
  primaryAssignment,
  replicaAssignment,
  replicasInSync,
  volumeStatus,
} from "../support/master";

const SECONDS = Number(process.env.BENCH_SECONDS ?? "5");
if (!(SECONDS > 0)) throw new Error(`BENCH_SECONDS must be > 0, got ${process.env.BENCH_SECONDS}`);
const VOLUME_BYTES = 1024 * MiB;
const WAL_BYTES = 128 * MiB;
const BLOCK = 4096;
const CONCURRENCY = 32;
/** WriteStream requests in flight for sequential writes (the agent pipelines 16 per stream). */
const SEQ_WINDOW = 16;
const RAW_MESSAGE_BYTES = MiB;
/** When set, both agents run with `--cpu-prof` into this directory (one .cpuprofile per process). */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;

function profileArgs(name: string): string[] {
  if (PROFILE_DIR === undefined) return [];
  return ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}/${name}`];
}

interface CaseResult {
  readonly value: number;
  readonly unit: string;
  readonly flushMs: number[];
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const round = (x: number) => Math.round(x * 100) / 100;

function report(name: string, result: CaseResult, baseline?: CaseResult): void {
  const sorted = [...result.flushMs].sort((a, b) => a - b);
  const line: Record<string, unknown> = {
    bench: "replication",
    case: name,
    value: round(result.value),
    unit: result.unit,
    baseline: baseline === undefined ? null : round(baseline.value),
    ratio: baseline === undefined ? null : round(result.value / baseline.value),
    p50_flush_ms: round(percentile(sorted, 50)),
    p99_flush_ms: round(percentile(sorted, 99)),
    flushes: sorted.length,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** One WriteStream with a window of requests in flight; resolves each request's response in order. */
class StreamWriter {
  private readonly stream;
  private readonly waiters: {
    resolve: (r: WriteStreamResponse__Output) => void;
    reject: (e: unknown) => void;
  }[] = [];
  private seq = 0;
  private failure: unknown;

  constructor(
    agent: AgentHandle,
    private readonly volumeId: string,
  ) {
    this.stream = agent.volume.WriteStream();
    this.stream.on("data", (res: WriteStreamResponse__Output) => this.waiters.shift()?.resolve(res));
    this.stream.on("error", (err: unknown) => {
      this.failure = err;
      for (const w of this.waiters.splice(0)) w.reject(err);
    });
  }

  private drained: Promise<void> | undefined;

  /** Resolves when the stream accepts more (back-pressure: `write()` returned false → `drain`). */
  ready(): Promise<void> {
    return this.drained ?? Promise.resolve();
  }

  /** Sends one request (after `ready()`); resolves with its response. */
  async send(writes: WriteStreamRequest["writes"], flush: boolean): Promise<WriteStreamResponse__Output> {
    if (this.failure !== undefined) throw this.failure;
    await this.ready();
    this.seq += 1;
    const response = new Promise<WriteStreamResponse__Output>((resolve, reject) =>
      this.waiters.push({ resolve, reject }),
    );
    const more = this.stream.write({
      volume_id: this.seq === 1 ? this.volumeId : "",
      seq: String(this.seq),
      writes,
      flush,
    });
    if (!more && this.drained === undefined) {
      this.drained = new Promise<void>((r) =>
        this.stream.once("drain", () => {
          this.drained = undefined;
          r();
        }),
      );
    }
    return response;
  }

  close(): void {
    this.stream.end();
  }
}

/** (a) 1 MiB sequential writes, a flush every 16 MiB, SEQ_WINDOW requests in flight. */
async function sequential(agent: AgentHandle, volumeId: string): Promise<CaseResult> {
  const writer = new StreamWriter(agent, volumeId);
  const data = patternBytes(MiB, prng(1));
  const blocksPerWrite = MiB / BLOCK;
  const volumeBlocks = VOLUME_BYTES / BLOCK;
  const flushMs: number[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let written = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  let i = 0;
  while (performance.now() < deadline) {
    const lba = (i * blocksPerWrite) % volumeBlocks;
    const flush = (i + 1) % 16 === 0;
    const sentAt = performance.now();
    const p = writer.send([{ lba: String(lba), data }], flush).then(() => {
      written += MiB;
      if (flush) flushMs.push(performance.now() - sentAt);
    });
    inFlight.add(p);
    p.finally(() => inFlight.delete(p)).catch(() => undefined);
    i += 1;
    if (inFlight.size >= SEQ_WINDOW) await Promise.race(inFlight);
    await writer.ready();
  }
  await writer.send([], true); // everything written is durable before the clock stops
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  writer.close();
  return { value: written / MiB / seconds, unit: "MiB/s", flushMs };
}

/** (b)/(c) 4 KiB random writes, CONCURRENCY writers each with one request in flight. */
async function random4k(agent: AgentHandle, volumeId: string, flushEvery: number): Promise<CaseResult> {
  const volumeBlocks = VOLUME_BYTES / BLOCK;
  const flushMs: number[] = [];
  let writes = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      const writer = new StreamWriter(agent, volumeId);
      const rand = prng(1000 + w);
      const data = patternBytes(BLOCK, rand);
      let n = 0;
      while (performance.now() < deadline) {
        n += 1;
        const flush = n % flushEvery === 0;
        const sentAt = performance.now();
        await writer.send([{ lba: String(Math.floor(rand() * volumeBlocks)), data }], flush);
        if (flush) flushMs.push(performance.now() - sentAt);
        writes += 1;
      }
      await writer.send([], true);
      writer.close();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { value: writes / seconds, unit: "writes/s", flushMs };
}

/**
 * BENCH_TRACE=1: every 250 ms, one stderr line with the primary's view of the volume (head,
 * committed, WAL use) and of each replica (sender state, shipped and durable LSN), to see where a
 * replicated run waits.
 */
function trace(primary: AgentHandle, volumeId: string): () => void {
  if (process.env.BENCH_TRACE !== "1") return () => undefined;
  const started = performance.now();
  const timer = setInterval(() => {
    volumeStatus(primary, volumeId).then(
      (s) =>
        process.stderr.write(
          `${JSON.stringify({
            t_ms: Math.round(performance.now() - started),
            head: s.head_lsn,
            committed: s.committed_lsn,
            checkpoint: s.checkpoint_lsn,
            wal_used_mib: round(Number(s.wal_used_bytes) / MiB),
            replicas: s.replicas.map(
              (r) => `${r.sender_state}:shipped=${r.shipped_lsn}:durable=${r.durable_lsn}`,
            ),
          })}\n`,
        ),
      () => undefined,
    );
  }, 250);
  return () => clearInterval(timer);
}

/** Child mode: a bare grpc-js server that acks every Ship message (the raw transport ceiling). */
async function rawServer(): Promise<void> {
  const server = await startServer({
    address: "127.0.0.1:0",
    handlers: {
      replication: {
        Ship: bidiStreamHandler<ShipRequest__Output, ShipResponse>(async (call) => {
          for await (const request of call as AsyncIterable<ShipRequest__Output>) {
            if (request.batch) call.write({ ack: { received_lsn: request.batch.last_lsn } });
          }
        }),
      },
    },
  });
  process.stdout.write(`${JSON.stringify({ msg: "listening", address: server.address })}\n`);
  process.on("SIGTERM", () => {
    void server.shutdown(1_000).then(() => process.exit(0));
  });
}

/** Raw grpc-js: 1 MiB messages on one bidi stream to another process, back-pressure honoured. */
async function rawGrpc(): Promise<CaseResult> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", new URL(import.meta.url).pathname, "--raw-server"],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const address = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const msg = JSON.parse(line) as { address?: string };
      if (msg.address !== undefined) resolve(msg.address);
    });
    child.once("exit", (code) => reject(new Error(`raw server exited ${code}`)));
  });
  const client = createReplicationClient(address);
  const stream = client.Ship();
  const records = Buffer.alloc(RAW_MESSAGE_BYTES, 7);
  let sent = 0;
  let acked = 0;
  let allAcked: (() => void) | undefined;
  stream.on("data", () => {
    acked += 1;
    if (acked === sent) allAcked?.();
  });
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  stream.write({ volume_id: "bench", epoch: "1", primary_server_id: "p", replica_server_id: "r" });
  while (performance.now() < deadline) {
    sent += 1;
    const lsn = String(sent);
    const more = stream.write({ batch: { first_lsn: lsn, last_lsn: lsn, record_count: 1, records } });
    if (!more) await new Promise((r) => stream.once("drain", r));
  }
  if (acked < sent) await new Promise<void>((r) => (allAcked = r));
  const seconds = (performance.now() - started) / 1000;
  stream.on("error", () => undefined); // the server goes away with the stream still half-open
  stream.end();
  closeClient(client);
  child.kill("SIGTERM");
  return { value: (sent * RAW_MESSAGE_BYTES) / MiB / seconds, unit: "MiB/s", flushMs: [] };
}

async function main(): Promise<void> {
  const fleet = new AgentFleet();
  try {
    const [primary, replica] = await Promise.all([
      fleet.start({
        kind: "primary",
        serverId: "bench-p",
        args: ["--log-level", "warn"],
        nodeArgs: profileArgs("primary"),
      }),
      fleet.start({
        kind: "replica",
        serverId: "bench-r",
        args: ["--log-level", "warn"],
        nodeArgs: profileArgs("replica"),
      }),
    ]);
    // A fresh pair of volumes per case keeps WAL and extent state from leaking between cases.
    let volumeSeq = 0;
    const rf1 = async (): Promise<string> => {
      const volumeId = `rf1-${++volumeSeq}`;
      await allocate(primary, {
        volumeId,
        sizeBytes: VOLUME_BYTES,
        walSizeBytes: WAL_BYTES,
        mode: "best_effort",
      });
      await assign(primary, primaryAssignment(volumeId, 1, [], { lease_ttl_ms: 600_000 }));
      return volumeId;
    };
    const rf2 = async (): Promise<string> => {
      const volumeId = `rf2-${++volumeSeq}`;
      for (const a of [primary, replica]) {
        await allocate(a, { volumeId, sizeBytes: VOLUME_BYTES, walSizeBytes: WAL_BYTES, mode: "sync_all" });
      }
      await assign(replica, replicaAssignment(volumeId, 1, primary));
      await assign(primary, primaryAssignment(volumeId, 1, [replica], { lease_ttl_ms: 600_000 }));
      await waitFor(() => replicasInSync(primary, volumeId, 1), "replica in sync", 30_000);
      return volumeId;
    };
    const cases: [string, (volumeId: string) => Promise<CaseResult>][] = [
      ["seq_1MiB_flush_16MiB", (v) => sequential(primary, v)],
      ["rand_4KiB_c32_flush_each", (v) => random4k(primary, v, 1)],
      ["rand_4KiB_c32_flush_32", (v) => random4k(primary, v, 32)],
    ];
    const only = process.env.BENCH_CASE;
    // BENCH_RF=1 or 2 runs one side only (for profiling); the ratio needs both.
    const rfOnly = process.env.BENCH_RF;
    for (const [name, run] of cases) {
      if (only !== undefined && !name.includes(only)) continue;
      const one = rfOnly === "2" ? undefined : await run(await rf1());
      if (one !== undefined) report(`${name}_rf1_best_effort`, one);
      if (rfOnly !== "1") {
        const volumeId = await rf2();
        const stopTrace = trace(primary, volumeId);
        const two = await run(volumeId);
        stopTrace();
        report(`${name}_rf2_sync_all`, two, one);
      }
    }
    report("raw_grpc_js_1MiB_stream_2proc", await rawGrpc());
  } catch (err) {
    process.stderr.write(`${fleet.logs()}\n`);
    throw err;
  } finally {
    // SIGTERM first: a graceful exit writes the CPU profiles of BENCH_PROFILE_DIR.
    if (PROFILE_DIR !== undefined) await fleet.stopAll("SIGTERM");
    await fleet.cleanup();
  }
}

if (process.argv.includes("--raw-server")) await rawServer();
else await main();
