import type { Generation, RecordRef } from "@blockship/storage";
import { crc32 } from "@blockship/storage";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ForkPrimarySide, type ForkReplicaSide, findForkPoint } from "../src/fork-point";

// A model log: record n has an epoch and a CRC chained to record n - 1 (as the WAL's are), and the
// generations are derived from the epochs the way storage's History derives them.

interface Rec {
  epoch: number;
  crc: number;
}

/** Appends records of `epochs` (one per record) to `log`; `tag` makes this writer's content its own. */
function append(log: Rec[], epochs: readonly number[], tag: string): Rec[] {
  const out = [...log];
  for (const epoch of epochs) {
    const prev = out[out.length - 1]?.crc ?? 0;
    const body = Buffer.from(`${prev}:${epoch}:${out.length + 1}:${tag}`);
    out.push({ epoch, crc: crc32(body) });
  }
  return out;
}

function generationsOf(log: readonly Rec[]): Generation[] {
  const gens: Generation[] = [];
  let lastEpoch: number | undefined;
  log.forEach((r, i) => {
    if (r.epoch !== lastEpoch) gens.push({ epoch: r.epoch, firstLsn: i + 1, prevCrc: log[i - 1]?.crc ?? 0 });
    lastEpoch = r.epoch;
  });
  return gens;
}

const ref = (log: readonly Rec[], lsn: number): RecordRef | undefined => {
  if (lsn === 0) return { lsn: 0, epoch: 0, crc: 0 };
  const r = log[lsn - 1];
  return r === undefined ? undefined : { lsn, epoch: r.epoch, crc: r.crc };
};

function primaryOf(log: readonly Rec[], opts: { tailLsn?: number; keepGens?: number } = {}): ForkPrimarySide {
  const tail = opts.tailLsn ?? 0;
  return {
    generations: generationsOf(log).slice(-(opts.keepGens ?? 64)),
    headLsn: log.length,
    recordAt: (lsn) => (lsn !== 0 && lsn < tail ? undefined : ref(log, lsn)),
  };
}

function replicaOf(
  log: readonly Rec[],
  opts: { keepGens?: number; headKnown?: boolean } = {},
): ForkReplicaSide {
  return {
    generations: generationsOf(log).slice(-(opts.keepGens ?? 64)),
    headLsn: log.length,
    headRecord: opts.headKnown === false ? undefined : ref(log, log.length),
  };
}

const repeat = (epoch: number, n: number): number[] => Array.from({ length: n }, () => epoch);

describe("findForkPoint (table)", () => {
  const base = append([], [...repeat(1, 10), ...repeat(2, 10)], "x"); // LSN 1..20, epochs 1 then 2

  const cases: Array<{ name: string; p: ForkPrimarySide; r: ForkReplicaSide; fork: number | undefined }> = [
    { name: "same log: fork = head", p: primaryOf(base), r: replicaOf(base), fork: 20 },
    {
      name: "replica merely behind: fork = its head",
      p: primaryOf(base),
      r: replicaOf(base.slice(0, 15)),
      fork: 15,
    },
    {
      name: "replica behind in an older generation",
      p: primaryOf(base),
      r: replicaOf(base.slice(0, 7)),
      fork: 7,
    },
    {
      name: "behind beyond the primary's retained WAL: the generations still show it",
      p: primaryOf(base, { tailLsn: 18 }),
      r: replicaOf(base.slice(0, 12)),
      fork: 12,
    },
    {
      name: "old primary with an un-replicated tail in its epoch, new primary in epoch 3",
      p: primaryOf(append(base.slice(0, 16), repeat(3, 8), "new")),
      r: replicaOf(base),
      fork: 16,
    },
    {
      name: "replica ahead in the same generation (primary lost nothing it acknowledged)",
      p: primaryOf(base.slice(0, 14)),
      r: replicaOf(base),
      fork: 14,
    },
    {
      name: "diverged at LSN 1: the empty history is common",
      p: primaryOf(append([], repeat(1, 5), "a")),
      r: replicaOf(append([], repeat(2, 5), "b")),
      fork: 0,
    },
    { name: "blank replica", p: primaryOf(base), r: replicaOf([]), fork: 0 },
    {
      name: "no common generation (histories truncated): unknown",
      p: primaryOf(append(base, repeat(5, 4), "p"), { keepGens: 1 }),
      r: replicaOf(append(base, repeat(4, 4), "r"), { keepGens: 1 }),
      fork: undefined,
    },
    {
      name: "no generations but the head record matches: fork = replica head",
      p: primaryOf(base),
      r: { generations: [], headLsn: 13, headRecord: ref(base, 13) },
      fork: 13,
    },
    {
      name: "no generations and the head record cannot be compared: unknown",
      p: primaryOf(base, { tailLsn: 15 }),
      r: { generations: [], headLsn: 13, headRecord: ref(base, 13) },
      fork: undefined,
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      expect(findForkPoint(c.p, c.r)).toBe(c.fork);
    });
  }

  it("never claims a fork at or above an LSN whose record the CRC chain proves different", () => {
    // Same epoch on both sides after LSN 15 (a rewrite the epoch rule cannot see): the generations
    // alone would claim 18; the replica's head record disproves it, and prevCrc proves LSN 10.
    const p = primaryOf(append(base.slice(0, 15), repeat(2, 10), "p"));
    const r = replicaOf(append(base.slice(0, 15), repeat(2, 3), "r"));
    expect(findForkPoint(p, r)).toBe(10);
  });
});

describe("findForkPoint (property)", () => {
  // A shared prefix, then each side appends its own records: one side may continue the last shared
  // epoch (it was that epoch's primary), the other uses fresh epochs (one primary per epoch).
  const epochsArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 6 });
  const runsToEpochs = (runs: number[], start: number): number[] => {
    const out: number[] = [];
    runs.forEach((len, i) => {
      out.push(...repeat(start + i, len));
    });
    return out;
  };
  const scenario = fc.record({
    prefixRuns: epochsArb,
    pRuns: epochsArb,
    rRuns: epochsArb,
    continueSide: fc.constantFrom("p", "r", "none"),
    pContinue: fc.integer({ min: 0, max: 5 }),
    rContinue: fc.integer({ min: 0, max: 5 }),
    tailLsn: fc.integer({ min: 0, max: 40 }),
    keepGens: fc.integer({ min: 1, max: 8 }),
  });

  function build(s: ScenarioValue) {
    const prefix = append([], runsToEpochs(s.prefixRuns, 1), "shared");
    const lastEpoch = prefix[prefix.length - 1]?.epoch ?? 0;
    const fresh = s.prefixRuns.length + 1;
    const pCont = s.continueSide === "p" && lastEpoch > 0 ? repeat(lastEpoch, s.pContinue) : [];
    const rCont = s.continueSide === "r" && lastEpoch > 0 ? repeat(lastEpoch, s.rContinue) : [];
    // Primary's fresh epochs are even offsets, the replica's odd: never the same epoch on both.
    const pFresh = runsToEpochs(s.pRuns, 0).map((e) => fresh + 2 * e);
    const rFresh = runsToEpochs(s.rRuns, 0).map((e) => fresh + 2 * e + 1);
    const pLog = append(prefix, [...pCont, ...pFresh], "p");
    const rLog = append(prefix, [...rCont, ...rFresh], "r");
    return { prefix, pLog, rLog };
  }

  it("finds the last common LSN of complete histories", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { prefix, pLog, rLog } = build(s);
        const expected = commonLength(pLog, rLog);
        expect(expected).toBeGreaterThanOrEqual(prefix.length);
        expect(findForkPoint(primaryOf(pLog, { tailLsn: s.tailLsn }), replicaOf(rLog))).toBe(expected);
        if (rLog.length <= pLog.length && expected === rLog.length) {
          // merely behind: the fork is the replica's head
          expect(findForkPoint(primaryOf(pLog), replicaOf(rLog))).toBe(rLog.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("with truncated histories answers the fork or nothing, never a wrong LSN", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { pLog, rLog } = build(s);
        const expected = commonLength(pLog, rLog);
        const got = findForkPoint(
          primaryOf(pLog, { tailLsn: s.tailLsn, keepGens: s.keepGens }),
          replicaOf(rLog, { keepGens: s.keepGens }),
        );
        if (got !== undefined) expect(got).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("stays below an LSN the CRC chain proves different, even when one epoch was written twice", () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), (s, np, nr) => {
        const { prefix } = build(s);
        const e = prefix[prefix.length - 1]?.epoch ?? 1;
        const pLog = append(prefix, repeat(e, np), "p-rewrite");
        const rLog = append(prefix, repeat(e, nr), "r-rewrite");
        const got = findForkPoint(primaryOf(pLog), replicaOf(rLog));
        if (rLog.length <= pLog.length) {
          // the replica's head record differs from the primary's at that LSN
          expect(got === undefined || got < rLog.length).toBe(true);
        }
        if (got !== undefined) expect(got).toBeLessThanOrEqual(Math.min(pLog.length, rLog.length));
      }),
      { numRuns: 300 },
    );
  });
});

interface ScenarioValue {
  prefixRuns: number[];
  pRuns: number[];
  rRuns: number[];
  continueSide: "p" | "r" | "none";
  pContinue: number;
  rContinue: number;
  tailLsn: number;
  keepGens: number;
}

function commonLength(a: readonly Rec[], b: readonly Rec[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n]?.crc === b[n]?.crc) n++;
  return n;
}
