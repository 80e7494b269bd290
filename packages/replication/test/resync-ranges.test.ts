import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { countBlocks, pieces, RangeCollector, unionRanges } from "../src/resync-ranges";

// The block sets of a resync as sorted runs: checked against a plain per-block model.

const runsArb = fc
  .array(fc.record({ lba: fc.integer({ min: 0, max: 200 }), blocks: fc.integer({ min: 0, max: 20 }) }), {
    maxLength: 12,
  })
  .map((rs) => [...rs].sort((a, b) => a.lba - b.lba));

const blocksOf = (runs: Iterable<{ lba: number; blocks: number }>): number[] => {
  const set = new Set<number>();
  for (const r of runs) for (let i = 0; i < r.blocks; i++) set.add(r.lba + i);
  return [...set].sort((a, b) => a - b);
};

describe("resync ranges", () => {
  it("unionRanges is the set union, sorted, disjoint and non-adjacent", () => {
    fc.assert(
      fc.property(runsArb, runsArb, runsArb, (a, b, c) => {
        const u = [...unionRanges(a, b, c)];
        expect(blocksOf(u)).toEqual(blocksOf([...a, ...b, ...c]));
        for (let i = 1; i < u.length; i++) {
          const prev = u[i - 1] as { lba: number; blocks: number };
          expect((u[i] as { lba: number }).lba).toBeGreaterThan(prev.lba + prev.blocks);
        }
        expect(u.every((r) => r.blocks > 0)).toBe(true);
        expect(countBlocks(u)).toBe(blocksOf(u).length);
      }),
    );
  });

  it("pieces cover the runs exactly with at most maxBlocks each", () => {
    fc.assert(
      fc.property(runsArb, fc.integer({ min: 1, max: 7 }), (a, max) => {
        const u = [...unionRanges(a)];
        const p = [...pieces(u, max)];
        expect(p.every((r) => r.blocks >= 1 && r.blocks <= max)).toBe(true);
        expect(blocksOf(p)).toEqual(blocksOf(u));
        expect(countBlocks(p)).toBe(countBlocks(u));
      }),
    );
  });

  it("RangeCollector refuses unsorted, overlapping, empty and out-of-volume runs", () => {
    const c = new RangeCollector(100);
    expect(c.add(0, 4)).toBeUndefined();
    expect(c.add(10, 5)).toBeUndefined();
    expect(c.add(12, 1)).toMatch(/not after/);
    expect(c.add(20, 0)).toMatch(/0 blocks/);
    expect(c.add(95, 6)).toMatch(/beyond the volume/);
    expect(c.blockCount).toBe(9);
    expect(c.runs).toEqual([
      { lba: 0, blocks: 4 },
      { lba: 10, blocks: 5 },
    ]);
  });
});
