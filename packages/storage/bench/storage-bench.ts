/**
 * Storage benchmark: the volume against plain Node fs on the same disk, in the same run.
 *
 *   4 KiB random writes, flush after each write, concurrency 1 / 16 / 64  (IOPS)
 *     baseline: pwrite 4 KiB + fdatasync per write (QD1)
 *   1 MiB sequential writes, flush every 16 MiB  (MB/s)
 *     baseline: 1 MiB sequential pwrites, fdatasync every 16 MiB
 *
 * The machine is shared and its disk speed drifts by 2x within minutes, so each case alternates
 * short baseline and volume slices (BENCH_ROUNDS rounds of BENCH_SLICE_SECONDS each) and compares
 * the totals: both sides see the same conditions. One volume stays open through a case; every volume
 * slice ends with a full checkpoint inside its timed window, so all extent writes of the bytes it
 * wrote are counted (nothing is left for the flusher to do during the next baseline slice).
 *
 * Env: BENCH_ROUNDS (default 4), BENCH_SLICE_SECONDS (default 3), BENCH_DIR (default os.tmpdir()),
 * BENCH_WAL_MIB (default 64), BENCH_SEQ_QD (1 MiB writes in flight for the volume, default 4),
 * BENCH_CASES (rand,seq), BENCH_RAND_CONCURRENCY (1,16,64), BENCH_MAX_CYCLE_MIB (flusher cycle size, default 32), BENCH_TUNING (JSON
 * VolumeTuning overrides, for experiments).
 * Prints one JSON line per figure: {"bench":"storage","case",…,"value","unit","baseline","ratio"}.
 *
 * The c64 case also runs a third side in the same rounds, `4k_randwrite_inplace_ceiling_c64`: the
 * I/O that any design updating the extent in place must do, in plain fs (inplace-ceiling.ts). Its
 * ratio is the most this layout can reach on this disk in this run.
 */

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { deviceBytesFor, FileDevice, Volume, type VolumeTuning, WAL_OFFSET_BYTES } from "../src/index";
import { inPlaceCeilingSlice, type Slice } from "./inplace-ceiling";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const SLICE_SECONDS = Number(process.env.BENCH_SLICE_SECONDS ?? 3);
const DIR = fs.mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), "blockship-bench-"));
const VOLUME_BYTES = 1024 * 1024 * 1024;
const WAL_BYTES = Number(process.env.BENCH_WAL_MIB ?? 64) * 1024 * 1024;
const SEQ_QD = Number(process.env.BENCH_SEQ_QD ?? 4);
const CASES = (process.env.BENCH_CASES ?? "rand,seq").split(",");
/** Writers in flight for the random cases (BENCH_RAND_CONCURRENCY, e.g. "64" to profile one). */
const RAND_CONCURRENCY = (process.env.BENCH_RAND_CONCURRENCY ?? "1,16,64").split(",").map(Number);
if (!RAND_CONCURRENCY.every((c) => Number.isInteger(c) && c >= 1))
  throw new Error(
    `BENCH_RAND_CONCURRENCY must list positive integers, got ${process.env.BENCH_RAND_CONCURRENCY}`,
  );
const MAX_CYCLE_MIB = Number(process.env.BENCH_MAX_CYCLE_MIB ?? 32);
const BS = 4096;
const MIB = 1024 * 1024;
const BLOCKS = VOLUME_BYTES / BS;
/** A volume file: superblock region, WAL, extent, changed-block tracking region. */
const VOLUME_FILE_BYTES = deviceBytesFor({
  volumeSizeBytes: VOLUME_BYTES,
  walSizeBytes: WAL_BYTES,
  blockSize: BS,
});
/** The ceiling's file: superblock region, WAL, extent (no volume code, no tracking). */
const CEILING_FILE_BYTES = WAL_OFFSET_BYTES + WAL_BYTES + VOLUME_BYTES;

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
 * The zeros go out O_DIRECT (dd) so the page cache starts cold, as for a raw device: zeros written
 * through the cache would leave it full of 2 MiB folios (ext4, Linux ≥ 6.16), and every later 4 KiB
 * write into such a folio walks its 512 buffer heads (a volume the agent allocates starts sparse
 * and uncached). Both files are prepared the same way.
 */
async function preallocate(file: string, sizeBytes: number): Promise<void> {
  const chunkBytes = 8 * MIB;
  const direct = spawnSync("dd", [
    "if=/dev/zero",
    `of=${file}`,
    `bs=${chunkBytes}`,
    `count=${Math.ceil(sizeBytes / chunkBytes)}`,
    "oflag=direct",
    "conv=fsync",
    "status=none",
  ]);
  if (direct.status === 0) {
    await fs.promises.truncate(file, sizeBytes); // dd wrote whole chunks
    return;
  }
  log(
    `dd O_DIRECT preallocation failed (${direct.stderr?.toString().trim()}); writing zeros through the page cache`,
  );
  const fh = await fs.promises.open(file, "w+");
  const zeros = Buffer.alloc(chunkBytes);
  for (let off = 0; off < sizeBytes; off += zeros.length) {
    await fh.write(zeros, 0, Math.min(zeros.length, sizeBytes - off), off);
  }
  await fh.datasync();
  await fh.close();
}

const VOLUME_FILE = path.join(DIR, "volume.img");
const BASELINE_FILE = path.join(DIR, "baseline.img");
const CEILING_FILE = path.join(DIR, "ceiling.img");
/** The concurrency whose goal (≥ 10× the baseline) the in-place ceiling is measured for. */
const CEILING_CONCURRENCY = 64;

function ceilingSlice(concurrency: number): Promise<Slice> {
  return inPlaceCeilingSlice({
    file: CEILING_FILE,
    walSizeBytes: WAL_BYTES,
    extentBlocks: BLOCKS,
    blockSizeBytes: BS,
    recordsPerBatch: concurrency,
    cycleRecords: Math.floor((MAX_CYCLE_MIB * MIB) / BS),
    seconds: SLICE_SECONDS,
  });
}

async function openVolume(): Promise<Volume> {
  // A fresh volume on the same allocated file for every case (create zeroes the WAL).
  const device = await FileDevice.open(VOLUME_FILE);
  return Volume.create(device, {
    volumeSizeBytes: VOLUME_BYTES,
    walSizeBytes: WAL_BYTES,
    maxCycleBytes: MAX_CYCLE_MIB * MIB,
    ...(JSON.parse(process.env.BENCH_TUNING ?? "{}") as VolumeTuning),
  });
}

/** Random 4 KiB writes, each followed by a flush, from `concurrency` writers; then a checkpoint. */
async function volumeRandomSlice(vol: Volume, concurrency: number): Promise<Slice> {
  const start = performance.now();
  const deadline = start + SLICE_SECONDS * 1000;
  let ops = 0;
  const worker = async (): Promise<void> => {
    const data = randomBytes(BS);
    while (performance.now() < deadline) {
      await vol.write(rand(BLOCKS), data);
      await vol.flush();
      ops++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await vol.checkpoint();
  return { units: ops, seconds: (performance.now() - start) / 1000 };
}

/** 1 MiB sequential writes (SEQ_QD in flight), a flush every 16 MiB; then a checkpoint. */
async function volumeSequentialSlice(vol: Volume, cursor: { lba: number }): Promise<Slice> {
  const data = randomBytes(MIB);
  const start = performance.now();
  const deadline = start + SLICE_SECONDS * 1000;
  let written = 0;
  let sinceFlush = 0;
  const inFlight = new Set<Promise<unknown>>();
  while (performance.now() < deadline) {
    while (inFlight.size >= SEQ_QD) await Promise.race(inFlight);
    const lba = cursor.lba;
    cursor.lba = (cursor.lba + MIB / BS) % BLOCKS;
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
  await vol.checkpoint();
  return { units: written / MIB, seconds: (performance.now() - start) / 1000 };
}

async function baselineRandomSlice(): Promise<Slice> {
  const fh = await fs.promises.open(BASELINE_FILE, "r+");
  const data = randomBytes(BS);
  const start = performance.now();
  const deadline = start + SLICE_SECONDS * 1000;
  let ops = 0;
  while (performance.now() < deadline) {
    await fh.write(data, 0, BS, rand(BLOCKS) * BS);
    await fh.datasync();
    ops++;
  }
  const seconds = (performance.now() - start) / 1000;
  await fh.close();
  return { units: ops, seconds };
}

async function baselineSequentialSlice(cursor: { pos: number }): Promise<Slice> {
  const fh = await fs.promises.open(BASELINE_FILE, "r+");
  const data = randomBytes(MIB);
  const start = performance.now();
  const deadline = start + SLICE_SECONDS * 1000;
  let written = 0;
  while (performance.now() < deadline) {
    await fh.write(data, 0, MIB, cursor.pos);
    cursor.pos = (cursor.pos + MIB) % VOLUME_BYTES;
    written += MIB;
    if (written % (16 * MIB) === 0) await fh.datasync();
  }
  await fh.datasync();
  const seconds = (performance.now() - start) / 1000;
  await fh.close();
  return { units: written / MIB, seconds };
}

const rate = (slices: Slice[]): number =>
  slices.reduce((n, x) => n + x.units, 0) / slices.reduce((n, x) => n + x.seconds, 0);

/**
 * Alternates baseline and volume slices (and ceiling slices, when given); reports the ratio of the
 * totals.
 */
async function runCase(
  name: string,
  unit: string,
  baselineSlice: () => Promise<Slice>,
  volumeSlice: (vol: Volume) => Promise<Slice>,
  ceiling?: { name: string; slice: () => Promise<Slice> },
): Promise<void> {
  const vol = await openVolume();
  const base: Slice[] = [];
  const mine: Slice[] = [];
  const bound: Slice[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      base.push(await baselineSlice());
      if (ceiling) bound.push(await ceiling.slice());
      mine.push(await volumeSlice(vol));
    }
  } finally {
    await vol.close();
  }
  const perRound = mine.map((m, i) => (m.units / m.seconds / (base[i]!.units / base[i]!.seconds)).toFixed(2));
  const st = vol.stats();
  log(
    `${name}: rounds ${perRound.join(" ")} (volume/baseline); ${st.headLsn} records, ${st.admission.batches} append batches (${st.admission.durableBatches} O_DSYNC), ${st.syncs} group syncs, ${st.flusherCycles} flusher cycles, ${st.superblockWrites} superblock writes, soft delays ${st.admission.softDelays}, hard waits ${st.admission.hardWaits}`,
  );
  report(name, rate(mine), unit, rate(base));
  if (ceiling) {
    log(`${name}: the volume did ${Math.round((rate(mine) / rate(bound)) * 100)} % of the in-place ceiling`);
    report(ceiling.name, rate(bound), unit, rate(base));
  }
}

async function main(): Promise<void> {
  log(
    `dir ${DIR}, ${ROUNDS} rounds of ${SLICE_SECONDS} s per side and case, volume 1 GiB, WAL ${WAL_BYTES / MIB} MiB, seq QD ${SEQ_QD}`,
  );
  try {
    log("preallocating the volume, baseline (and ceiling) files");
    await preallocate(VOLUME_FILE, VOLUME_FILE_BYTES);
    await preallocate(BASELINE_FILE, VOLUME_BYTES);
    if (CASES.includes("rand") && RAND_CONCURRENCY.includes(CEILING_CONCURRENCY))
      await preallocate(CEILING_FILE, CEILING_FILE_BYTES);
    if (CASES.includes("rand")) {
      for (const c of RAND_CONCURRENCY) {
        const ceiling =
          c === CEILING_CONCURRENCY
            ? { name: `4k_randwrite_inplace_ceiling_c${c}`, slice: () => ceilingSlice(c) }
            : undefined;
        await runCase(
          `4k_randwrite_flush_each_c${c}`,
          "IOPS",
          baselineRandomSlice,
          (vol) => volumeRandomSlice(vol, c),
          ceiling,
        );
      }
    }
    if (CASES.includes("seq")) {
      const baseCursor = { pos: 0 };
      const volCursor = { lba: 0 };
      await runCase(
        `1m_seqwrite_flush_16m_qd${SEQ_QD}`,
        "MiB/s",
        () => baselineSequentialSlice(baseCursor),
        (vol) => volumeSequentialSlice(vol, volCursor),
      );
    }
  } finally {
    fs.rmSync(DIR, { recursive: true, force: true });
  }
}

await main();
