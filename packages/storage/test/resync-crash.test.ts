import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { randomCrashChooser, SimDevice, Volume } from "../src/index";
import { BS, block, expectReason, SMALL, simVolume } from "./helpers";
import { lbasOf, resyncOnce, ship } from "./resync-support";

/**
 * Changed-block resync under crashes of the target: a scenario (common prefix, the target's own
 * divergent writes, the source's writes after the fork and during the transfer) is run once to
 * count the target's device I/Os, then again with a crash right before the k-th one (unsynced
 * writes kept, dropped or torn). Oracle after reopening the crash image: the copy is either its
 * untouched old self, or pending transfer with the fork (a resumed resync then ends equal to the
 * source), or committed at baseLsn naming the source's record (catch-up then ends equal to the
 * source) — never a copy without a marker whose content is a mix.
 */

const BLOCKS = SMALL.volumeSizeBytes / BS;

interface Scenario {
  common: number[];
  divergent: number[];
  after: number[];
  during: number[];
  /** The source writes `during` after this many blocks were sent. */
  duringAt: number;
}

interface Run {
  ios: number;
  image: Buffer;
  P: Volume;
  fork: number;
  oldHead: number;
  oldCrc: number;
  oldContent: Buffer;
  baseLsn: number | undefined;
}

const crashed = new Error("simulated crash");

async function run(sc: Scenario, crashAt: number, chooserSeed: number): Promise<Run> {
  const P = await simVolume({ epoch: 2 });
  const R = await simVolume({ epoch: 2 });
  let tag = 1;
  for (const lba of sc.common) await P.vol.write(lba, block(lba, tag++));
  await ship(P.vol, R.vol);
  await R.vol.flush();
  const fork = P.vol.headLsn;
  for (const lba of sc.divergent) await R.vol.write(lba, block(lba, 1000 + tag++));
  await R.vol.flush();
  for (const lba of sc.after) await P.vol.write(lba, block(lba, tag++));
  const oldHead = R.vol.headLsn;
  const oldCrc = R.vol.recordAt(oldHead)!.crc;
  const oldContent = await R.vol.read(0, BLOCKS * BS);

  const dev = R.dev;
  let ios = 0;
  let image: Buffer | undefined;
  const point = (): Error | undefined => {
    if (image) return crashed;
    if (ios++ === crashAt) {
      image = dev.crashImage(randomCrashChooser(chooserSeed));
      return crashed;
    }
    return undefined;
  };
  dev.failWrite = point;
  dev.failSync = point;
  let baseLsn: number | undefined;
  try {
    const res = await resyncOnce(P.vol, R.vol, fork, {
      afterBlock: async (n) => {
        if (n === sc.duringAt) for (const lba of sc.during) await P.vol.write(lba, block(lba, tag++));
      },
    });
    baseLsn = res.baseLsn;
    await ship(P.vol, R.vol);
    await R.vol.flush();
  } catch (err) {
    if (!image) throw err;
  }
  if (!image) {
    dev.failWrite = undefined;
    dev.failSync = undefined;
    await R.vol.close();
    image = dev.snapshot().crashImage(randomCrashChooser(1));
  } else await R.vol.close().catch(() => undefined);
  return { ios, image, P: P.vol, fork, oldHead, oldCrc, oldContent, baseLsn };
}

async function expectContent(vol: Volume, want: Buffer, label: string): Promise<void> {
  const got = await vol.read(0, BLOCKS * BS);
  for (let lba = 0; lba < BLOCKS; lba++) {
    const ok = got.subarray(lba * BS, (lba + 1) * BS).equals(want.subarray(lba * BS, (lba + 1) * BS));
    expect(ok, `${label}: block ${lba}`).toBe(true);
  }
}

async function checkRecovered(r: Run, label: string): Promise<void> {
  const vol = await Volume.open(new SimDevice(r.image.length, r.image), {
    ...SMALL,
    flushIntervalMs: 60_000,
  });
  const want = await r.P.read(0, BLOCKS * BS);
  try {
    const st = vol.resyncState();
    if (!st.pending) {
      const old = vol.headLsn === r.oldHead && vol.recordAt(r.oldHead)?.crc === r.oldCrc;
      if (old) return await expectContent(vol, r.oldContent, `${label} (old copy)`);
      // Committed and consistent: the source's log, at or past its consistent LSN.
      expect(vol.recordAt(vol.headLsn), label).toEqual(r.P.recordAt(vol.headLsn));
      return await expectContent(vol, want, `${label} (resynced)`);
    }
    await expectReason(vol.read(0, BS), "resync_in_progress");
    if (st.phase === "transfer") {
      expect(st.forkLsn, label).toBe(r.fork);
      await resyncOnce(r.P, vol, st.forkLsn);
    } else {
      expect(vol.recordAt(st.baseLsn), label).toEqual(r.P.recordAt(st.baseLsn));
      if (r.baseLsn !== undefined) expect(st.baseLsn, label).toBe(r.baseLsn);
    }
    await ship(r.P, vol);
    await vol.flush();
    expect(vol.resyncState(), label).toEqual({ pending: false });
    await expectContent(vol, want, `${label} (completed after reopen)`);
  } finally {
    await vol.close();
  }
}

const lbaArb = fc.integer({ min: 0, max: BLOCKS - 1 });
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  common: fc.array(lbaArb, { minLength: 1, maxLength: 8 }),
  divergent: fc.array(lbaArb, { maxLength: 6 }),
  after: fc.array(lbaArb, { minLength: 1, maxLength: 8 }),
  during: fc.array(lbaArb, { maxLength: 4 }),
  duringAt: fc.integer({ min: 1, max: 4 }),
});

describe("resync target: crash at any point of begin / blocks / commit / catch-up", () => {
  it("reopens as the old copy, pending transfer with the fork, or committed at the source's base", async () => {
    let points = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArb, fc.nat(), fc.nat(), async (sc, kSeed, chooserSeed) => {
        const clean = await run(sc, Number.POSITIVE_INFINITY, 1);
        await checkRecovered(clean, "clean");
        await clean.P.close();
        const k = kSeed % clean.ios;
        const r = await run(sc, k, chooserSeed);
        await checkRecovered(r, `crash at I/O ${k} of ${clean.ios}`);
        await r.P.close();
        points++;
      }),
      { numRuns: 150 },
    );
    expect(points).toBe(150);
  }, 600_000);

  it("every I/O point of one scenario", async () => {
    const sc: Scenario = {
      common: [1, 2, 3],
      divergent: [40, 41, 2],
      after: [5, 6, 40],
      during: [7, 1],
      duringAt: 2,
    };
    const clean = await run(sc, Number.POSITIVE_INFINITY, 1);
    await clean.P.close();
    expect(clean.ios).toBeGreaterThan(10);
    for (let k = 0; k < clean.ios; k++) {
      const r = await run(sc, k, k * 7919);
      await checkRecovered(r, `crash at I/O ${k}`);
      await r.P.close();
    }
    expect(lbasOf([{ lba: 0, blocks: 1 }])).toEqual([0]);
  }, 600_000);
});
