// The primary's write lease: an in-memory expiry time on an injectable clock.
import type { Clock } from "./clock";

/** Longest lease the wire allows (assignment and RenewLeases). */
export const MAX_LEASE_TTL_MS = 600_000;

export class Lease {
  private expiresAtMs = 0;

  constructor(private readonly clock: Clock) {}

  /** Live for `ttlMs` from now; ttl <= 0 grants an already expired lease. */
  grant(ttlMs: number): void {
    if (!Number.isFinite(ttlMs) || ttlMs > MAX_LEASE_TTL_MS) throw new RangeError(`bad lease ttl ${ttlMs}`);
    this.expiresAtMs = ttlMs <= 0 ? this.clock.now() : this.clock.now() + ttlMs;
  }

  revoke(): void {
    this.expiresAtMs = 0;
  }

  live(): boolean {
    return this.clock.now() < this.expiresAtMs;
  }

  /** Whole milliseconds left, 0 when expired. */
  remainingMs(): number {
    return Math.max(0, Math.floor(this.expiresAtMs - this.clock.now()));
  }
}
