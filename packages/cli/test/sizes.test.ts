import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ArgumentError,
  formatBytes,
  formatDuration,
  parseDuration,
  parseIntInRange,
  parseRate,
  parseSize,
  parseSmallSize,
  parseU64,
  U64_MAX,
} from "../src/sizes";

describe("parseSize", () => {
  it.each([
    ["4096", 4096n],
    ["0", 0n],
    ["512b", 512n],
    ["64KiB", 65536n],
    ["64k", 65536n],
    ["1GiB", 1n << 30n],
    ["1G", 1n << 30n],
    ["1g", 1n << 30n],
    ["2T", 2n << 40n],
    ["1PiB", 1n << 50n],
    [" 8 MiB ", 8n << 20n],
  ])("%s → %s bytes", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(["", "1.5G", "-1", "1GB", "1 X", "G", "0x10", "1e9", "99999999999999999999999"])(
    "refuses %j",
    (text) => {
      expect(() => parseSize(text, "--size")).toThrow(ArgumentError);
    },
  );

  it("names the flag and the accepted forms", () => {
    expect(() => parseSize("1XB", "--size")).toThrow(/--size: "1XB" is not a size .*64KiB, 1GiB/);
  });

  it("keeps values above 2^53 exact and refuses above 2^64-1", () => {
    expect(parseSize("18446744073709551615")).toBe(U64_MAX);
    expect(parseSize("9007199254740993")).toBe(9007199254740993n);
    expect(() => parseSize("18446744073709551616")).toThrow(/larger than 2\^64-1/);
    expect(() => parseSize("16384P")).toThrow(/larger/);
  });

  it("round-trips every decimal u64 (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: U64_MAX }), (value) => {
        expect(parseSize(value.toString())).toBe(value);
        expect(parseU64(value.toString(), "--lba")).toBe(value);
      }),
      { numRuns: 200 },
    );
  });
});

describe("integers", () => {
  it("parseU64 refuses junk, negatives, fractions and values below min", () => {
    for (const bad of ["", "x", "-1", "1.0", "1e3", "18446744073709551616"]) {
      expect(() => parseU64(bad, "--epoch")).toThrow(ArgumentError);
    }
    expect(() => parseU64("0", "--epoch", 1n)).toThrow(/at least 1/);
  });

  it("parseIntInRange and parseSmallSize enforce their bounds", () => {
    expect(parseIntInRange("100", "--interval-ms", 100, 200)).toBe(100);
    expect(() => parseIntInRange("99", "--interval-ms", 100, 200)).toThrow(/between 100 and 200/);
    expect(parseSmallSize("64KiB", "--block-size", 512, 65536)).toBe(65536);
    expect(() => parseSmallSize("128KiB", "--block-size", 512, 65536)).toThrow(/between 512 B and 64 KiB/);
  });

  it("formatBytes", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes("1073741824")).toBe("1 GiB");
    expect(formatBytes(64n << 20n)).toBe("64 MiB");
  });
});

describe("rates and durations", () => {
  it.each([
    ["0", 0n],
    ["50MiB", 50n << 20n],
    ["50MiB/s", 50n << 20n],
    ["1G/s", 1n << 30n],
    ["4096 / sec", 4096n],
  ])("parseRate(%j) = %s", (text, bytes) => {
    expect(parseRate(text, "--rate")).toBe(bytes);
  });

  it.each(["fast", "50MB/s", "-1", "1.5MiB", "50MiB/h"])("parseRate(%j) is refused", (text) => {
    expect(() => parseRate(text, "--rate")).toThrow(ArgumentError);
    expect(() => parseRate(text, "--rate")).toThrow(/--rate: .* is not a rate/);
  });

  it.each([
    ["500ms", 500],
    ["90s", 90_000],
    ["30m", 1_800_000],
    ["2h", 7_200_000],
    ["45", 45_000],
  ])("parseDuration(%j) = %d ms", (text, ms) => {
    expect(parseDuration(text, "--timeout", 1, 86_400_000)).toBe(ms);
  });

  it("parseDuration refuses other words and values out of bounds", () => {
    expect(() => parseDuration("soon", "--timeout", 1, 1000)).toThrow(/not a duration/);
    expect(() => parseDuration("1d", "--timeout", 1, 1000)).toThrow(/not a duration/);
    expect(() => parseDuration("2s", "--timeout", 1, 1000)).toThrow(/must be between 1ms and 1s/);
  });

  it("formatDuration", () => {
    expect(formatDuration(250)).toBe("250ms");
    expect(formatDuration(1500)).toBe("1.5s");
    expect(formatDuration(90_000)).toBe("1m30s");
    expect(formatDuration(7_200_000)).toBe("2h");
    expect(formatDuration(86_400_000)).toBe("24h");
  });
});
