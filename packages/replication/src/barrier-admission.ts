import type { BarrierOutcome, ShipperState } from "./api";
import type { BarrierBook } from "./barriers";

/** The shipper as a barrier request sees it on arrival. */
export interface BarrierAdmissionView {
  readonly closed: boolean;
  readonly state: ShipperState;
  /** A ship stream is open and has not died. */
  readonly streamLive: boolean;
  readonly lastError: string | undefined;
  readonly gateReason: string | undefined;
  /** Next LSN to send. */
  readonly cursor: number;
}

/**
 * The outcome a barrier for `lsn` gets without asking the replica, or undefined when it must travel.
 * Fails fast whenever the answer cannot be yes, so sync_all never waits out a timeout for nothing.
 */
export function immediateBarrierOutcome(
  b: BarrierBook,
  s: BarrierAdmissionView,
  lsn: number,
): BarrierOutcome | undefined {
  if (s.closed) return b.failed("shipper_stopped");
  if (s.state === "needs_rebuild") return b.failed("needs_rebuild");
  if (!s.streamLive || s.state === "connecting") {
    // Even if an earlier barrier proved lsn durable: while we cannot see the replica, it may have
    // lost its disk; sync_all must not succeed on old knowledge.
    const why = s.lastError === undefined ? "" : `: ${s.lastError}`;
    return b.failed(`unavailable (${s.state}${why})`);
  }
  if (lsn > 0 && b.durableLsn >= lsn) return b.ok();
  if (s.gateReason !== undefined && s.cursor <= lsn) {
    return b.failed(`live_shipping_blocked: ${s.gateReason}`);
  }
  return undefined;
}
