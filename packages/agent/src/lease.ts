// The primary's write lease: an in-memory expiry time on an injectable clock, and the window in
// which a grant (assignment or renewal) may still be applied.
import { RpcError } from "@blockship/rpc";
import type { Clock } from "./clock";

/** Longest lease the wire allows (assignment and RenewLeases). */
export const MAX_LEASE_TTL_MS = 600_000;

/**
 * When a grant arrived and the call's gRPC deadline, both on the agent's clock. The master may
 * count on no lease outliving `deadline + ttl`: a grant applied after its deadline is refused, and
 * an applied lease runs from the arrival (never from the later moment it was applied).
 */
export interface GrantWindow {
  readonly arrivedAtMs: number;
  /** Infinity when the call carried no deadline. */
  readonly deadlineMs: number;
}

/** The window of a call that arrives now with grpc-js deadline `deadline` (a Date.now()-based ms value or Date). */
export function grantWindow(clock: Clock, deadline: Date | number): GrantWindow {
  const arrivedAtMs = clock.now();
  const deadlineUnixMs = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(deadlineUnixMs)) return { arrivedAtMs, deadlineMs: Number.POSITIVE_INFINITY };
  // grpc-js derives the deadline from the relative grpc-timeout header on Date.now(); carry it
  // over as a remaining time so an injected clock and the wall clock never have to agree.
  return { arrivedAtMs, deadlineMs: arrivedAtMs + (deadlineUnixMs - Date.now()) };
}

/** A window without a deadline that starts now (library callers and tests). */
export function openWindow(clock: Clock): GrantWindow {
  return { arrivedAtMs: clock.now(), deadlineMs: Number.POSITIVE_INFINITY };
}

/** deadline_exceeded when the grant's deadline has passed (it must not take effect), else null. */
export function windowProblem(clock: Clock, window: GrantWindow, what: string): RpcError | null {
  const lateMs = clock.now() - window.deadlineMs;
  if (lateMs < 0) return null;
  return new RpcError(
    "deadline_exceeded",
    `the ${what} was applied ${Math.floor(lateMs)} ms after its call's deadline; refused (nothing changed)`,
  );
}

export class Lease {
  private expiresAtMs = 0;

  constructor(private readonly clock: Clock) {}

  /**
   * Live for `ttlMs` counted from `fromMs` (the grant's arrival; never later than now); ttl <= 0
   * grants an already expired lease.
   */
  grant(ttlMs: number, fromMs = this.clock.now()): void {
    if (!Number.isFinite(ttlMs) || ttlMs > MAX_LEASE_TTL_MS) throw new RangeError(`bad lease ttl ${ttlMs}`);
    const now = this.clock.now();
    const start = Math.min(fromMs, now);
    this.expiresAtMs = ttlMs <= 0 ? now : start + ttlMs;
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
