/**
 * Raw baseline of the recovery benchmark: two plain Node processes (recovery-baseline-source.ts →
 * loopback TCP → recovery-baseline-sink.ts → file + fdatasync), timed by the sink from the
 * accepted connection to its final fdatasync. No blockship code runs in either process.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { round } from "./recovery-bench-report";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const MiB = 1024 * 1024;
/** Bound on one baseline transfer (1 GiB at a pessimistic 20 MB/s). */
const BASELINE_TIMEOUT_MS = 60_000;

export interface BaselineResult {
  readonly bytes: number;
  readonly seconds: number;
  /** CPU seconds of each process (start-up included: tsx loads them). */
  readonly cpuSeconds: { readonly source: number; readonly sink: number };
}

/**
 * Writes `bytes` of incompressible data (a pool of distinct 1 MiB blocks) and fsyncs, so the
 * baseline does not start with a dirty page cache.
 */
export async function createSourceFile(
  path: string,
  bytes: number,
  blocks: readonly Buffer[],
): Promise<void> {
  if (bytes % MiB !== 0 || blocks.length === 0) throw new Error(`source size ${bytes} must be whole MiB`);
  const file = await open(path, "w");
  try {
    for (let offset = 0; offset < bytes; offset += MiB) {
      const block = blocks[(offset / MiB) % blocks.length];
      if (block === undefined || block.length !== MiB) throw new Error("source blocks must be 1 MiB");
      await file.write(block, 0, MiB, offset);
    }
    await file.sync();
  } finally {
    await file.close();
  }
}

function spawnNode(script: string, args: readonly string[]): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", join(HERE, script), ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
}

/** A child's stdout as JSON lines, read one at a time (each with a deadline). */
class JsonLines {
  private readonly lines: string[] = [];
  private exited: string | undefined;
  private wake: (() => void) | undefined;

  constructor(
    child: ChildProcess,
    private readonly what: string,
  ) {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      this.lines.push(line);
      this.wake?.();
    });
    child.once("exit", (code, signal) => {
      this.exited = String(code ?? signal);
      this.wake?.();
    });
  }

  async next<T>(timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) return JSON.parse(line) as T;
      if (this.exited !== undefined) throw new Error(`${this.what} exited (${this.exited}) before answering`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.what}: no answer in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

/** Streams the first `bytes` of `sourcePath` into `destinationPath` through two processes. */
export async function rawBaseline(
  sourcePath: string,
  destinationPath: string,
  bytes: number,
): Promise<BaselineResult> {
  const children: ChildProcess[] = [];
  try {
    const sink = spawnNode("recovery-baseline-sink.ts", [destinationPath]);
    children.push(sink);
    const sinkLines = new JsonLines(sink, "baseline sink");
    const { port } = await sinkLines.next<{ port: number }>(30_000);
    const source = spawnNode("recovery-baseline-source.ts", [sourcePath, String(bytes), String(port)]);
    children.push(source);
    const sourceLines = new JsonLines(source, "baseline source");
    const result = await sinkLines.next<{ bytes: number; elapsed_ms: number; cpu_s: number }>(
      BASELINE_TIMEOUT_MS,
    );
    if (result.bytes !== bytes) throw new Error(`baseline sink received ${result.bytes} of ${bytes} bytes`);
    const sourceCpu = await sourceLines.next<{ cpu_s: number }>(10_000);
    return {
      bytes,
      seconds: result.elapsed_ms / 1000,
      cpuSeconds: { source: sourceCpu.cpu_s, sink: result.cpu_s },
    };
  } finally {
    await Promise.all(children.map(stop));
    await rm(destinationPath, { force: true });
  }
}

/**
 * The raw baseline, run `runs` times; the median run is the figure. One run of a few
 * seconds swings by 2x on this class of machine (page cache and virtual disk state), and a lucky
 * or unlucky single baseline decided the ratio more than the case itself did.
 */
export async function medianBaseline(
  source: string,
  sink: string,
  bytes: number,
  runs: number,
): Promise<MedianBaseline> {
  const results: BaselineResult[] = [];
  for (let i = 0; i < runs; i++) results.push(await rawBaseline(source, sink, bytes));
  const sorted = [...results].sort((a, b) => a.seconds - b.seconds);
  const median = sorted[Math.floor(sorted.length / 2)] as BaselineResult;
  return { ...median, runSeconds: results.map((r) => round(r.seconds)) };
}

export interface MedianBaseline extends BaselineResult {
  readonly runSeconds: readonly number[];
}
