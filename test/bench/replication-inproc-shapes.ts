import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Volume } from "@blockship/storage";
import { patternBytes, prng } from "../support/io";

// The workloads of bench:replication-inproc: what each writer does against a Volume in this process,
// with a flush function (local group commit for RF=1, durableFlush with barriers for RF=2).

export const BLOCK = 4096;
export const MiB = 1024 * 1024;

export interface Shape {
  /** The reference bench's shape name, so lines compare one to one. */
  readonly name: string;
  readonly writeBytes: number;
  /** Writers, each with one write in flight. */
  readonly writers: number;
  /** rand: a flush after every n-th write of each writer; seq: after every n-th write overall. */
  readonly flushEvery: number;
  readonly sequential: boolean;
}

export const SHAPES: readonly Shape[] = [
  { name: "rand4k_c1_flush1", writeBytes: BLOCK, writers: 1, flushEvery: 1, sequential: false },
  { name: "rand4k_c16_flush1", writeBytes: BLOCK, writers: 16, flushEvery: 1, sequential: false },
  { name: "rand4k_c32_flush1", writeBytes: BLOCK, writers: 32, flushEvery: 1, sequential: false },
  { name: "rand4k_c32_flush32", writeBytes: BLOCK, writers: 32, flushEvery: 32, sequential: false },
  { name: "seq1m_qd1_flush16m", writeBytes: MiB, writers: 1, flushEvery: 16, sequential: true },
  { name: "seq1m_qd16_flush16m", writeBytes: MiB, writers: 16, flushEvery: 16, sequential: true },
];

export interface RunResult {
  /** IOPS for 4 KiB shapes, MB/s (10^6 bytes) for 1 MiB shapes. */
  readonly value: number;
  readonly unit: "IOPS" | "MB/s";
  readonly flushMs: number[];
  readonly seconds: number;
}

/**
 * Runs `shape` for `seconds` on `volume`; every write is durable (a final flush) before the clock
 * stops. Throws on the first failed write or flush.
 */
export async function runShape(
  shape: Shape,
  volume: Volume,
  flush: () => Promise<unknown>,
  seconds: number,
): Promise<RunResult> {
  const volumeBlocks = Math.floor(volume.volumeSizeBytes / BLOCK);
  const blocksPerWrite = shape.writeBytes / BLOCK;
  const slots = Math.floor(volumeBlocks / blocksPerWrite);
  const flushMs: number[] = [];
  let writes = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const timedFlush = async (): Promise<void> => {
    const t0 = performance.now();
    await flush();
    flushMs.push(performance.now() - t0);
  };
  await Promise.all(
    Array.from({ length: shape.writers }, async (_, w) => {
      const rand = prng(1000 + w);
      const data = patternBytes(shape.writeBytes, rand);
      let mine = 0;
      while (performance.now() < deadline) {
        const i = next++;
        const lba = shape.sequential ? (i % slots) * blocksPerWrite : Math.floor(rand() * volumeBlocks);
        await volume.write(lba, data);
        writes += 1;
        mine += 1;
        const due = shape.sequential ? (i + 1) % shape.flushEvery === 0 : mine % shape.flushEvery === 0;
        if (due) await timedFlush();
      }
    }),
  );
  await flush();
  const elapsed = (performance.now() - started) / 1000;
  return shape.sequential
    ? { value: (writes * shape.writeBytes) / 1e6 / elapsed, unit: "MB/s", flushMs, seconds: elapsed }
    : { value: writes / elapsed, unit: "IOPS", flushMs, seconds: elapsed };
}

/**
 * The disk's own latency in this run: 4 KiB write + fdatasync in a loop on a file in `dir` (the
 * directory the volumes live in), synchronous like fio's psync engine. Returns each sync's ms.
 */
export function fdatasyncProbe(dir: string, seconds: number): number[] {
  const path = join(dir, "fdatasync-probe.dat");
  const fd = openSync(path, "w");
  const buf = patternBytes(BLOCK, prng(7));
  const samples: number[] = [];
  try {
    const deadline = performance.now() + seconds * 1000;
    for (let i = 0; performance.now() < deadline && i < 1_000_000; i++) {
      writeSync(fd, buf, 0, BLOCK, (i % 256) * BLOCK);
      const t0 = performance.now();
      fdatasyncSync(fd);
      samples.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  return samples;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}
