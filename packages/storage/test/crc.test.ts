import { crc32 as zlibCrc32 } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CRC32_IMPLEMENTATION, crc32 } from "../src/crc";

describe("crc32", () => {
  it("uses the SIMD implementation where its prebuilt binary exists (linux x64 here)", () => {
    if (process.platform === "linux" && process.arch === "x64")
      expect(CRC32_IMPLEMENTATION).toBe("@node-rs/crc32");
  });

  it("computes exactly zlib's CRC-32 (the on-disk format), also continued from a previous value", () => {
    fc.assert(
      fc.property(
        // Never empty: zlib answers 0 for an empty buffer without memory, whatever `initial` is
        // (zlib's "NULL buffer" rule); record and superblock checksums never cover nothing.
        fc.uint8Array({ minLength: 65, maxLength: 9000 }),
        fc.nat({ max: 64 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (bytes, skip, initial) => {
          const view = Buffer.from(bytes).subarray(skip); // offset views too
          expect(crc32(view)).toBe(zlibCrc32(view));
          expect(crc32(view, initial)).toBe(zlibCrc32(view, initial));
        },
      ),
      { numRuns: 300 },
    );
  });
});
