import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RpcError, reasonOf, U64_MAX, u64FromWire, u64ToWire } from "../src/index";

const u64 = fc.bigInt({ min: 0n, max: U64_MAX });

function rejects(value: Parameters<typeof u64FromWire>[0]): RpcError {
  try {
    u64FromWire(value, "epoch");
  } catch (err) {
    expect(err).toBeInstanceOf(RpcError);
    return err as RpcError;
  }
  throw new Error(`accepted ${String(value)}`);
}

describe("u64 wire helpers", () => {
  it("round-trip every uint64 through the wire string exactly", () => {
    fc.assert(
      fc.property(u64, (n) => {
        const wire = u64ToWire(n);
        expect(wire).toMatch(/^(0|[1-9][0-9]*)$/);
        expect(u64FromWire(wire)).toBe(n);
      }),
      { numRuns: 500 },
    );
  });

  it("accept safe-integer numbers and Long-like objects", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => u64FromWire(n) === BigInt(n)),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(u64, (n) => {
        const long = { low: Number(n & 0xffffffffn) | 0, high: Number(n >> 32n) | 0, unsigned: true };
        return u64FromWire(long) === n;
      }),
      { numRuns: 200 },
    );
    expect(u64FromWire(undefined)).toBe(0n);
    expect(u64FromWire("")).toBe(0n);
  });

  it("reject negatives, fractions, unsafe numbers, junk and overflow with invalid_argument naming the field", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 70n), max: -1n }), (n) => {
        expect(reasonOf(rejects(n.toString()))).toBe("invalid_argument");
        expect(rejects(n).details).toMatch(/^invalid_argument: epoch: /);
      }),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: U64_MAX + 1n, max: 1n << 80n }), (n) => {
        rejects(n.toString());
        rejects(n);
      }),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(
        fc.double({ noNaN: false }).filter((d) => !Number.isSafeInteger(d) || d < 0),
        (d) => {
          rejects(d);
        },
      ),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(
        fc.string().filter((s) => s !== "" && !/^(0|[1-9][0-9]{0,19})$/.test(s)),
        (s) => {
          rejects(s);
        },
      ),
      { numRuns: 300 },
    );
    for (const junk of ["-0", "007", "1e3", " 1", "0x10", "18446744073709551616"]) rejects(junk);
    rejects({ low: 1, high: -1, unsigned: false });
  });

  it("refuse to write a value outside 0..2^64-1", () => {
    expect(() => u64ToWire(-1n)).toThrow(RangeError);
    expect(() => u64ToWire(U64_MAX + 1n)).toThrow(RangeError);
    expect(u64ToWire(U64_MAX)).toBe("18446744073709551615");
  });
});
