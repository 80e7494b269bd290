// The pure splitting of sub-block NBD requests into whole-block runs and partial blocks.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { coveringRange, splitByBlock } from "../src/nbd-rmw";

describe("splitByBlock", () => {
  it("aligned requests are one run of whole blocks", () => {
    expect(splitByBlock(8192, 16384, 4096)).toEqual([{ kind: "blocks", offset: 8192, length: 16384, at: 0 }]);
  });

  it("a request inside one block is one partial piece", () => {
    expect(splitByBlock(4096 + 512, 1024, 4096)).toEqual([
      { kind: "partial", blockOffset: 4096, start: 512, end: 1536, at: 0 },
    ]);
  });

  it("head partial, whole blocks, tail partial", () => {
    expect(splitByBlock(3584, 4096 + 1024, 4096)).toEqual([
      { kind: "partial", blockOffset: 0, start: 3584, end: 4096, at: 0 },
      { kind: "blocks", offset: 4096, length: 4096, at: 512 },
      { kind: "partial", blockOffset: 8192, start: 0, end: 512, at: 4608 },
    ]);
  });

  it("pieces tile the request exactly, in order, each within its block", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 1, max: 1 << 18 }), (o, l) => {
        const offset = o * 512;
        const length = l * 512;
        let at = 0;
        for (const p of splitByBlock(offset, length, 4096)) {
          expect(p.at).toBe(at);
          if (p.kind === "blocks") {
            expect(p.offset % 4096).toBe(0);
            expect(p.length % 4096).toBe(0);
            expect(p.offset).toBe(offset + at);
            at += p.length;
          } else {
            expect(p.blockOffset % 4096).toBe(0);
            expect(0 <= p.start && p.start < p.end && p.end <= 4096).toBe(true);
            expect(p.end - p.start).toBeLessThan(4096);
            expect(p.blockOffset + p.start).toBe(offset + at);
            at += p.end - p.start;
          }
        }
        expect(at).toBe(length);
      }),
    );
  });

  it("coveringRange rounds out to whole blocks", () => {
    expect(coveringRange(512, 512, 4096)).toEqual({ offset: 0, length: 4096 });
    expect(coveringRange(4096, 8192, 4096)).toEqual({ offset: 4096, length: 8192 });
    expect(coveringRange(3584, 1024, 4096)).toEqual({ offset: 0, length: 8192 });
  });
});
