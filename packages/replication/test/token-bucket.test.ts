import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { effectiveRate } from "../src/rebuild-request";
import { type RateClock, TokenBucket } from "../src/token-bucket";

/** A clock that only moves when someone sleeps (or the test advances it). */
class FakeClock implements RateClock {
  now = 1_000;
  sleeps: number[] = [];
  nowMs(): number {
    return this.now;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.now += ms;
  }
}

describe("TokenBucket (debt model, fake clock)", () => {
  it("holds any sequence of takes to bytes/rate, whatever the sizes and idle gaps", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1_000, max: 100_000_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4_194_304 }), fc.integer({ min: 0, max: 500 })), {
          minLength: 1,
          maxLength: 30,
        }),
        async (rate, burst, takes) => {
          const clock = new FakeClock();
          const b = new TokenBucket(rate, burst, clock);
          const start = clock.now;
          let bytes = 0;
          let idleMs = 0;
          for (const [n, gapMs] of takes) {
            clock.now += gapMs; // idle time refills at most `burst`
            idleMs += gapMs;
            await b.take(n);
            bytes += n;
            // Invariant after every take: the time used covers every byte at the rate.
            expect(clock.now - start).toBeGreaterThanOrEqual(((bytes - 1) / rate) * 1000);
          }
          const s = b.stats();
          expect(s.bytes).toBe(bytes);
          expect(s.spanMs).toBe(clock.now - start);
          // Sleeping is only needed for what idle time (capped by the burst) did not pay for.
          expect(s.throttledMs).toBeGreaterThanOrEqual(((bytes - 1) / rate) * 1000 - idleMs);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("a steady stream runs at exactly the rate; a chunk larger than the burst still passes", async () => {
    const clock = new FakeClock();
    const b = new TokenBucket(1_000_000, 10_000, clock);
    for (let i = 0; i < 10; i++) await b.take(100_000);
    expect(b.stats()).toMatchObject({ bytes: 1_000_000, throttledMs: 1_000, spanMs: 1_000 });
  });

  it("an aborted take returns early", async () => {
    const b = new TokenBucket(1, 0);
    const ac = new AbortController();
    const p = b.take(1_000_000, ac.signal);
    ac.abort();
    await p;
    expect(b.stats().bytes).toBe(1_000_000);
  });

  it("rejects nonsense", () => {
    expect(() => new TokenBucket(0, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(1, -1)).toThrow(RangeError);
  });

  it("effective rate: request or agent default, capped by the agent max (0 = none)", () => {
    expect(effectiveRate(0, 0, 0)).toBe(0);
    expect(effectiveRate(0, 500, 0)).toBe(500);
    expect(effectiveRate(100, 500, 0)).toBe(100);
    expect(effectiveRate(1000, 500, 300)).toBe(300);
    expect(effectiveRate(0, 0, 300)).toBe(300);
    expect(effectiveRate(200, 0, 300)).toBe(200);
  });
});
