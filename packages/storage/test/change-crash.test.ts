import { describe, expect, it } from "vitest";
import { randomCrashChooser, SimDevice, Volume } from "../src/index";
import { BS, block, deviceFor } from "./helpers";

/**
 * Changed-block tracking under crashes: a deterministic random workload (writes, trims, flushes,
 * checkpoints that recycle the small WAL, base advances) is run once to count its device I/Os,
 * then again with a crash right before every I/O point (writes, O_DSYNC writes, syncs — so inside
 * every bitmap merge, slot switch and superblock write), each unsynced write kept, dropped or torn.
 * Oracle after reopening the crash image: every record the recovered log holds above the recovered
 * base has all its blocks marked, and the base never passed an LSN the test allowed.
 */

const BLOCKS = 256;
const OPTS = {
  volumeSizeBytes: BLOCKS * BS,
  walSizeBytes: 16 * 1024,
  blockSize: BS,
  changeGrainBytes: 2 * BS,
  flushIntervalMs: 60_000,
  durableAppendMaxBytes: 0,
};

interface Entry {
  lsn: number;
  lba: number;
  blocks: number;
}

interface RunResult {
  ios: number;
  log: Entry[];
  /** Highest LSN ever passed to advanceChangeBase. */
  maxAllowedBase: number;
  image: Buffer | undefined;
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function runWorkload(seed: number, ops: number, crashAt: number): Promise<RunResult> {
  const dev = deviceFor(OPTS);
  const vol = await Volume.create(dev, OPTS);
  let ios = 0;
  let image: Buffer | undefined;
  const crashed = new Error("simulated crash");
  const point = (): Error | undefined => {
    if (image) return crashed;
    if (ios++ === crashAt) {
      image = dev.crashImage(randomCrashChooser(seed * 7919 + crashAt));
      return crashed;
    }
    return undefined;
  };
  dev.failWrite = point;
  dev.failSync = point;
  const rnd = prng(seed);
  const log: Entry[] = [];
  let maxAllowedBase = 0;
  for (let i = 0; i < ops && !image; i++) {
    const r = rnd();
    const lba = Math.floor(rnd() * BLOCKS);
    const blocks = Math.min(BLOCKS - lba, 1 + Math.floor(rnd() * 4));
    try {
      if (r < 0.55) {
        const lsn = await vol.write(lba, block(lba, i, blocks));
        log.push({ lsn, lba, blocks });
      } else if (r < 0.65) {
        const lsn = await vol.trim(lba, blocks * BS);
        log.push({ lsn, lba, blocks });
      } else if (r < 0.78) await vol.flush();
      else if (r < 0.9) await vol.checkpoint();
      else {
        // Sometimes within the WAL (exact clear), sometimes far behind it (candidate clear).
        const back = Math.floor(rnd() * 40);
        const lsn = Math.max(0, vol.headLsn - back);
        maxAllowedBase = Math.max(maxAllowedBase, lsn);
        await vol.advanceChangeBase(lsn);
      }
    } catch (err) {
      if (!image) throw err;
    }
  }
  if (!image) {
    // No crash point reached: an orderly close, then the clean image.
    dev.failWrite = undefined;
    dev.failSync = undefined;
    await vol.close();
    image = dev.snapshot().crashImage(randomCrashChooser(1));
  } else {
    await vol.close().catch(() => undefined);
  }
  return { ios, log, maxAllowedBase, image };
}

async function checkRecovered(r: RunResult, label: string): Promise<void> {
  const image = r.image!;
  const vol = await Volume.open(new SimDevice(image.length, image), OPTS);
  try {
    const head = vol.headLsn;
    const { baseLsn, persistent } = vol.changeTracking();
    expect(persistent, label).toBe(true);
    expect(baseLsn, `${label}: base ${baseLsn} passed the allowed ${r.maxAllowedBase}`).toBeLessThanOrEqual(
      r.maxAllowedBase,
    );
    const marked = new Uint8Array(BLOCKS);
    for (const range of vol.changedBlocks(baseLsn).ranges())
      marked.fill(1, range.lba, range.lba + range.blocks);
    for (const e of r.log) {
      if (e.lsn <= baseLsn || e.lsn > head) continue;
      for (let b = e.lba; b < e.lba + e.blocks; b++)
        expect(marked[b], `${label}: block ${b} of LSN ${e.lsn} (base ${baseLsn}, head ${head})`).toBe(1);
    }
  } finally {
    await vol.close();
  }
}

describe("changed-block tracking: crash at every I/O point", () => {
  it("every block written after the recovered base is marked, and the base never passes what was allowed", async () => {
    const seeds = [1, 2, 3];
    const ops = 160;
    let points = 0;
    for (const seed of seeds) {
      const clean = await runWorkload(seed, ops, Number.POSITIVE_INFINITY);
      await checkRecovered(clean, `seed ${seed} clean`);
      // Every I/O point of the run (bounded: the small WAL keeps a run to a few hundred I/Os).
      const limit = Math.min(clean.ios, 600);
      for (let k = 0; k < limit; k++) {
        const crashed = await runWorkload(seed, ops, k);
        await checkRecovered(crashed, `seed ${seed} crash at I/O ${k}`);
        points++;
      }
    }
    expect(points).toBeGreaterThan(100);
  }, 600_000);
});
