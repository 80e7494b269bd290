// bench: write load through Volume.WriteStream (N writes per request, up to 16 requests in
// flight, every Nth request also flushes). Reports IOPS, MB/s and the latency of the flushing
// requests. It overwrites the volume's data.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { u64ToWire, type WriteStreamResponse__Output } from "@blockship/rpc";
import type { Command } from "commander";
import type { Context } from "../context";
import { usageError } from "../errors";
import { arg, type VerbRunner } from "../program";
import { formatBytes, parseIntInRange, parseSmallSize } from "../sizes";
import { volumeInfo } from "./io";

/** The agent serves at most 16 requests in flight per WriteStream. */
export const MAX_STREAM_IN_FLIGHT = 16;

export interface BenchOptions {
  seconds: number;
  blockSize?: number;
  concurrency: number;
  flushEvery: number;
  writesPerRequest: number;
  random?: boolean;
}

/** Data per WriteStream message stays below the agent's 15 MiB limit. */
const MAX_REQUEST_BYTES = 15 * 1024 * 1024;

/** Value at quantile q (0..1) of sorted `values` (nearest rank); 0 when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

async function runBench(ctx: Context, volume: string, opts: BenchOptions) {
  const info = await volumeInfo(ctx, volume);
  const ioBytes = opts.blockSize ?? info.block_size;
  if (ioBytes % info.block_size !== 0) {
    throw usageError(
      `--block-size ${ioBytes} is not a multiple of the volume's block size ${info.block_size}`,
    );
  }
  const blocksPerIo = BigInt(ioBytes / info.block_size);
  const slots = BigInt(info.size_bytes) / BigInt(ioBytes);
  if (slots === 0n) throw usageError(`--block-size ${ioBytes} is larger than the volume`);
  if (ioBytes * opts.writesPerRequest > MAX_REQUEST_BYTES) {
    throw usageError(
      `--block-size × --writes-per-request exceeds ${formatBytes(MAX_REQUEST_BYTES)} per request`,
    );
  }
  const payload = randomBytes(ioBytes);
  const deadline = new Date(Date.now() + opts.seconds * 1000 + ctx.options.timeoutMs);
  const call = ctx.volume().WriteStream({ deadline });
  const sentAt = new Map<string, { at: number; flush: boolean }>();
  const flushLatenciesMs: number[] = [];
  let sent = 0n;
  let writes = 0;
  let lastLsn = "0";
  const startedAt = performance.now();
  const stopAt = startedAt + opts.seconds * 1000;

  let nextSlot = 0n;
  const pickSlot = () => {
    if (opts.random === true) return BigInt(Math.floor(Math.random() * Number(slots))) % slots;
    const slot = nextSlot;
    nextSlot = (nextSlot + 1n) % slots;
    return slot;
  };
  const sendNext = () => {
    sent += 1n;
    const flush = opts.flushEvery > 0 && sent % BigInt(opts.flushEvery) === 0n;
    sentAt.set(sent.toString(), { at: performance.now(), flush });
    call.write({
      volume_id: volume,
      seq: u64ToWire(sent),
      writes: Array.from({ length: opts.writesPerRequest }, () => ({
        lba: u64ToWire(pickSlot() * blocksPerIo),
        data: payload,
      })),
      flush,
    });
  };

  await new Promise<void>((resolve, reject) => {
    call.on("data", (response: WriteStreamResponse__Output) => {
      const request = sentAt.get(response.seq);
      sentAt.delete(response.seq);
      writes += response.count;
      lastLsn = response.last_lsn;
      if (request?.flush === true) flushLatenciesMs.push(performance.now() - request.at);
      if (performance.now() < stopAt) sendNext();
      else if (sentAt.size === 0) call.end();
    });
    call.on("error", reject);
    call.on("end", resolve);
    for (let i = 0; i < opts.concurrency; i += 1) sendNext();
  });
  const elapsedS = (performance.now() - startedAt) / 1000;
  flushLatenciesMs.sort((a, b) => a - b);
  const bytes = writes * ioBytes;
  const round = (v: number, digits: number) => Number(v.toFixed(digits));
  return {
    volume_id: volume,
    seconds: round(elapsedS, 3),
    block_size: ioBytes,
    concurrency: opts.concurrency,
    writes_per_request: opts.writesPerRequest,
    flush_every: opts.flushEvery,
    pattern: opts.random === true ? "random" : "sequential",
    writes,
    bytes,
    iops: round(writes / elapsedS, 1),
    mb_per_s: round(bytes / elapsedS / 1e6, 2),
    flushes: flushLatenciesMs.length,
    flush_p50_ms: round(quantile(flushLatenciesMs, 0.5), 3),
    flush_p99_ms: round(quantile(flushLatenciesMs, 0.99), 3),
    last_lsn: lastLsn,
  };
}

export function registerBenchVerb(program: Command, run: VerbRunner): void {
  program
    .command("bench")
    .description("write benchmark through Volume.WriteStream (OVERWRITES the volume's data)")
    .argument("<volume>", "volume id (PRIMARY on --addr)")
    .option(
      "--seconds <s>",
      "duration",
      arg((t) => parseIntInRange(t, "--seconds", 1, 3600)),
      10,
    )
    .option(
      "--block-size <size>",
      "bytes per write (default: the volume's block size)",
      arg((t) => parseSmallSize(t, "--block-size", 512, 4 * 1024 * 1024)),
    )
    .option(
      "--concurrency <n>",
      `requests in flight (1..${MAX_STREAM_IN_FLIGHT})`,
      arg((t) => parseIntInRange(t, "--concurrency", 1, MAX_STREAM_IN_FLIGHT)),
      8,
    )
    .option(
      "--flush-every <n>",
      "every Nth request also flushes; 0 = never",
      arg((t) => parseIntInRange(t, "--flush-every", 0, 1_000_000)),
      32,
    )
    .option(
      "--writes-per-request <n>",
      "writes carried by each WriteStream request (batching)",
      arg((t) => parseIntInRange(t, "--writes-per-request", 1, 4096)),
      1,
    )
    .option("--random", "random LBAs instead of sequential")
    .addHelpText(
      "after",
      "\nExample: blockctl bench vol-1 --seconds 10 --block-size 64KiB --concurrency 16 --flush-every 16",
    )
    .action((volume: string, opts: BenchOptions, cmd: Command) =>
      run(cmd, volume, async (ctx) => {
        ctx.out.note(`bench ${volume} on ${ctx.addr} for ${opts.seconds}s ...`);
        const doc = await runBench(ctx, volume, opts);
        ctx.out.result(doc, () =>
          [
            `${doc.writes} writes of ${formatBytes(doc.block_size)} in ${doc.seconds}s (${doc.pattern}, ${doc.concurrency} requests in flight, ${doc.writes_per_request} write(s) each)`,
            `  ${doc.iops} IOPS · ${doc.mb_per_s} MB/s`,
            `  ${doc.flushes} flushes · p50 ${doc.flush_p50_ms} ms · p99 ${doc.flush_p99_ms} ms (write+flush request latency)`,
          ].join("\n"),
        );
      }),
    );
}
