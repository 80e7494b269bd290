/**
 * Storage benchmark: the volume against plain Node fs on the same disk, in the same run.
 *
 *   4 KiB random writes, flush after each write, concurrency 1 / 16 / 64  (IOPS)
 *     baseline: pwrite 4 KiB + fdatasync per write (QD1)
 *   1 MiB sequential writes, flush every 16 MiB  (MB/s)
 *     baseline: 1 MiB sequential pwrites, fdatasync every 16 MiB
 *
 * Env: BENCH_SECONDS (per case, default 10), BENCH_DIR (default os.tmpdir()), BENCH_WAL_MIB (default 64),
 * BENCH_SEQ_QD (1 MiB writes in flight for the volume, default 4), BENCH_CASES (rand,seq),
 * BENCH_MAX_CYCLE_MIB (flusher cycle size, default 32).
 * Prints one JSON line per figure: {"bench":"storage","case",…,"value","unit","baseline","ratio"}.
 */

import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FileDevice, Volume } from "../src/index";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const DIR = fs.mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), "blockship-bench-"));
const VOLUME_BYTES = 1024 * 1024 * 1024;
const WAL_BYTES = Number(process.env.BENCH_WAL_MIB ?? 64) * 1024 * 1024;
const SEQ_QD = Number(process.env.BENCH_SEQ_QD ?? 4);
const CASES = (process.env.BENCH_CASES ?? "rand,seq").split(",");
const MAX_CYCLE_MIB = Number(process.env.BENCH_MAX_CYCLE_MIB ?? 32);
const BS = 4096;
const MIB = 1024 * 1024;
const BLOCKS = VOLUME_BYTES / BS;

const log = (msg: string): void => {
  process.stderr.write(`[storage-bench] ${msg}\n`);
};

function report(name: string, value: number, unit: string, baseline: number): void {
  const round = (n: number): number => Math.round(n * 100) / 100;
  process.stdout.write(
    `${JSON.stringify({ bench: "storage", case: name, value: round(value), unit, baseline: round(baseline), ratio: round(value / baseline) })}\n`,
  );
}

function rand(n: number): number {
  return Math.floor(Math.random() * n);
}

/**
 * Both sides run on fully allocated files (like a raw block device): a first write into a sparse
 * file costs block allocation, which would otherwise favour whichever side overwrites more.
 */
async function preallocate(file: string, sizeBytes: number): Promise<void> {
  const fh = await fs.promises.open(file, "w+");
  const zeros = Buffer.alloc(8 * MIB);
  for (let off = 0; off < sizeBytes; off += zeros.length) {
    await fh.write(zeros, 0, Math.min(zeros.length, sizeBytes - off), off);
  }
  await fh.datasync();
  await fh.close();
}

const VOLUME_FILE = path.join(DIR, "volume.img");
const BASELINE_FILE = path.join(DIR, "baseline.img");

async function withVolume<T>(fn: (vol: Volume) => Promise<T>): Promise<T> {
  // A fresh volume on the same allocated file for every case (create zeroes the WAL).
  const device = await FileDevice.open(VOLUME_FILE);
  const vol = await Volume.create(device, {
    volumeSizeBytes: VOLUME_BYTES,
    walSizeBytes: WAL_BYTES,
    maxCycleBytes: MAX_CYCLE_MIB * MIB,
  });
  try {
    return await fn(vol);
  } finally {
    await vol.close();
  }
}

async function volumeRandomIops(concurrency: number): Promise<number> {
  return withVolume(async (vol) => {
    const deadline = performance.now() + SECONDS * 1000;
    let ops = 0;
    const start = performance.now();
    const worker = async (): Promise<void> => {
      const data = randomBytes(BS);
      while (performance.now() < deadline) {
        await vol.write(rand(BLOCKS), data);
        await vol.flush();
        ops++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const elapsed = (performance.now() - start) / 1000;
    const st = vol.stats();
    log(
      `c${concurrency}: ${ops} writes, ${st.admission.batches} append batches (${st.admission.durableBatches} O_DSYNC), ${st.syncs} group syncs, ${st.flusherCycles} flusher cycles, checkpoint ${st.checkpointLsn}/${st.headLsn}, soft delays ${st.admission.softDelays}`,
    );
    return ops / elapsed;
  });
}

async function volumeSequentialMBps(): Promise<number> {
  return withVolume(async (vol) => {
    const data = randomBytes(MIB);
    const deadline = performance.now() + SECONDS * 1000;
    const start = performance.now();
    let written = 0;
    let sinceFlush = 0;
    let nextLba = 0;
    const inFlight = new Set<Promise<unknown>>();
    while (performance.now() < deadline) {
      while (inFlight.size >= SEQ_QD) await Promise.race(inFlight);
      const lba = nextLba;
      nextLba = (nextLba + MIB / BS) % BLOCKS;
      const p: Promise<unknown> = vol.write(lba, data).then(() => inFlight.delete(p));
      inFlight.add(p);
      written += MIB;
      sinceFlush += MIB;
      if (sinceFlush >= 16 * MIB) {
        await Promise.all(inFlight);
        await vol.flush();
        sinceFlush = 0;
      }
    }
    await Promise.all(inFlight);
    await vol.flush();
    const elapsed = (performance.now() - start) / 1000;
    const st = vol.stats();
    log(
      `seq: ${written / MIB} MiB, ${st.flusherCycles} flusher cycles, checkpoint ${st.checkpointLsn}/${st.headLsn}, hard waits ${st.admission.hardWaits}`,
    );
    return written / MIB / elapsed;
  });
}

async function baselineRandomIops(): Promise<number> {
  const fh = await fs.promises.open(BASELINE_FILE, "r+");
  const data = randomBytes(BS);
  const deadline = performance.now() + SECONDS * 1000;
  const start = performance.now();
  let ops = 0;
  while (performance.now() < deadline) {
    await fh.write(data, 0, BS, rand(BLOCKS) * BS);
    await fh.datasync();
    ops++;
  }
  const elapsed = (performance.now() - start) / 1000;
  await fh.close();
  return ops / elapsed;
}

async function baselineSequentialMBps(): Promise<number> {
  const fh = await fs.promises.open(BASELINE_FILE, "r+");
  const data = randomBytes(MIB);
  const deadline = performance.now() + SECONDS * 1000;
  const start = performance.now();
  let written = 0;
  let pos = 0;
  while (performance.now() < deadline) {
    await fh.write(data, 0, MIB, pos);
    pos = (pos + MIB) % VOLUME_BYTES;
    written += MIB;
    if (written % (16 * MIB) === 0) await fh.datasync();
  }
  await fh.datasync();
  const elapsed = (performance.now() - start) / 1000;
  await fh.close();
  return written / MIB / elapsed;
}

async function main(): Promise<void> {
  log(`dir ${DIR}, ${SECONDS} s per case, volume 1 GiB, WAL ${WAL_BYTES / MIB} MiB, seq QD ${SEQ_QD}`);
  try {
    log("preallocating the volume and baseline files");
    await preallocate(VOLUME_FILE, 4096 + WAL_BYTES + VOLUME_BYTES);
    await preallocate(BASELINE_FILE, VOLUME_BYTES);
    // Baselines run right before and right after the volume cases; their mean is the reference, so
    // drift in the machine's load during the run hits both sides alike.
    if (CASES.includes("rand")) {
      const randBefore = await baselineRandomIops();
      const rand: Array<[number, number]> = [];
      for (const c of [1, 16, 64]) rand.push([c, await volumeRandomIops(c)]);
      const randAfter = await baselineRandomIops();
      const baseRand = (randBefore + randAfter) / 2;
      log(
        `baseline 4 KiB pwrite+fdatasync: ${randBefore.toFixed(0)} / ${randAfter.toFixed(0)} IOPS (before/after)`,
      );
      for (const [c, iops] of rand) report(`4k_randwrite_flush_each_c${c}`, iops, "IOPS", baseRand);
    }
    if (CASES.includes("seq")) {
      const seqBefore = await baselineSequentialMBps();
      const seq = await volumeSequentialMBps();
      const seqAfter = await baselineSequentialMBps();
      log(
        `baseline 1 MiB seq, fdatasync every 16 MiB: ${seqBefore.toFixed(0)} / ${seqAfter.toFixed(0)} MiB/s (before/after)`,
      );
      report(`1m_seqwrite_flush_16m_qd${SEQ_QD}`, seq, "MiB/s", (seqBefore + seqAfter) / 2);
    }
  } finally {
    fs.rmSync(DIR, { recursive: true, force: true });
  }
}

await main();
