// Time as an input: leases and status timestamps read this, so tests can move time by hand.

export interface Clock {
  /** Milliseconds; monotonic enough for leases (never jumps back in the real clock). */
  now(): number;
}

const origin = Date.now() - performance.now();

/** Wall-clock aligned but monotonic (performance.now), so an NTP step cannot extend a lease. */
export const realClock: Clock = {
  now: () => origin + performance.now(),
};

/** A clock that moves only when told to (tests). */
export class ManualClock implements Clock {
  constructor(private ms = 1_000_000) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot move time back (${ms})`);
    this.ms += ms;
  }
}
