// A token bucket for byte rates (rebuild transfers). Debt model: `take(n)` always admits n bytes and
// then sleeps until the bucket is no longer in debt, so a chunk larger than the burst still passes
// and the long-run rate never exceeds `rateBytesPerSecond`. Time is injected (tests use a fake clock).

export interface RateClock {
  nowMs(): number;
  /** Resolves after `ms`, or early (resolving) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realRateClock: RateClock = {
  nowMs: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
    }),
};

/** Upper bound of a rate this package accepts (1 TiB/s): above it is a unit mistake, not a limit. */
export const MAX_RATE_BYTES_PER_SECOND = 2 ** 40;

export interface TokenBucketStats {
  /** Bytes admitted so far. */
  readonly bytes: number;
  /** Total time spent sleeping to hold the rate. */
  readonly throttledMs: number;
  /**
   * Time from the bucket's creation to the end of the last `take`. The bucket starts empty and never
   * holds more than the burst, so `spanMs >= (bytes - 1) / rate` always holds (the guarantee tests
   * check; the byte is floating-point slack).
   */
  readonly spanMs: number;
}

export class TokenBucket {
  private tokens: number;
  private lastMs: number;
  private admitted = 0;
  private slept = 0;
  private readonly startMs: number;
  private lastTakeEndMs: number;

  /**
   * @param rateBytesPerSecond the long-run limit (> 0)
   * @param burstBytes how many tokens may accumulate while idle (>= 0); the bucket starts empty.
   */
  constructor(
    readonly rateBytesPerSecond: number,
    private readonly burstBytes: number,
    private readonly clock: RateClock = realRateClock,
  ) {
    if (!(Number.isFinite(rateBytesPerSecond) && rateBytesPerSecond > 0)) {
      throw new RangeError(`rateBytesPerSecond must be > 0 (got ${rateBytesPerSecond})`);
    }
    if (!(Number.isFinite(burstBytes) && burstBytes >= 0)) {
      throw new RangeError(`burstBytes must be >= 0 (got ${burstBytes})`);
    }
    this.tokens = 0;
    this.lastMs = clock.nowMs();
    this.startMs = this.lastMs;
    this.lastTakeEndMs = this.lastMs;
  }

  stats(): TokenBucketStats {
    return { bytes: this.admitted, throttledMs: this.slept, spanMs: this.lastTakeEndMs - this.startMs };
  }

  /** Admits `bytes` and waits until the rate allows the next admission. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (!(Number.isSafeInteger(bytes) && bytes >= 0)) throw new RangeError(`bad byte count ${bytes}`);
    this.refill();
    this.tokens -= bytes;
    this.admitted += bytes;
    // Less than one byte of debt counts as paid: floating-point refills may never reach exactly 0.
    while (this.tokens <= -1 && !signal?.aborted) {
      const waitMs = (-this.tokens / this.rateBytesPerSecond) * 1000;
      const before = this.clock.nowMs();
      await this.clock.sleep(waitMs, signal);
      this.slept += this.clock.nowMs() - before;
      this.refill();
    }
    this.lastTakeEndMs = this.clock.nowMs();
  }

  private refill(): void {
    const now = this.clock.nowMs();
    const elapsedMs = Math.max(0, now - this.lastMs);
    this.lastMs = now;
    this.tokens = Math.min(this.burstBytes, this.tokens + (elapsedMs / 1000) * this.rateBytesPerSecond);
  }
}
