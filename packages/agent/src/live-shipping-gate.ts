// The live-shipping policy a primary installs on its ShipperGroup, once, before any shipper starts,
// and the one answer every report shows. `eligibility()` is the single decision: the policy the
// shippers consult is derived from it per LSN, and GetProtocolState / GetStatus show exactly its
// `eligible` and `reason`, so a report can never say a replica gets the live tail while the shipper
// is denied it (or the other way round). It reads the host's latest derived state at call time
// (never cached), so a new engine event changes its answers without re-binding; the host calls
// policyChanged() after every event so gated shippers ask again.
import type { VolumeExecutionState } from "@blockship/engine";
import type { CatchUpWatches } from "./catchup-watches";
import type { LostReplicas } from "./lost-replicas";
import type { LiveShippingPolicy } from "./replication-port";

export interface LiveShippingGateDeps {
  /** The engine's latest execution state. */
  readonly execution: () => VolumeExecutionState;
  readonly catchUps: Pick<CatchUpWatches, "windowTargetLsn">;
  readonly lost: Pick<LostReplicas, "has">;
  /** The data plane's needs-rebuild verdict for a replica (e.g. divergent_history at LSN n), if any. */
  readonly needsRebuildReason: (replicaId: string) => string | undefined;
  /** The gate denied a replica the live tail (counted by metrics). */
  readonly onDenied: (replicaId: string, reason: string | undefined) => void;
}

/** Whether a replica may receive the live tail now, and why not. */
export interface LiveEligibility {
  /** Every entry may be shipped to the replica. */
  readonly eligible: boolean;
  /** While not eligible: entries up to this LSN may still be shipped (a catch-up window), 0 = none. */
  readonly windowToLsn: number;
  /** Why not eligible ("" when eligible): the engine's session reason, or the lost-replica reason. */
  readonly reason: string;
}

const ELIGIBLE: LiveEligibility = Object.freeze({ eligible: true, windowToLsn: 0, reason: "" });

export class LiveShippingGate {
  /** The phase gate as the ShipperGroup consumes it. */
  readonly policy: LiveShippingPolicy;

  constructor(private readonly deps: LiveShippingGateDeps) {
    this.policy = (replicaId, lsn) => {
      const e = this.eligibility(replicaId);
      if (e.eligible || lsn <= e.windowToLsn) return { allow: true };
      deps.onDenied(replicaId, e.reason);
      return { allow: false, reason: e.reason };
    };
  }

  /**
   * A replica with an active session gets nothing until the engine planned its catch-up from the
   * replica's real durable LSN (handshake). The planned catch-up is then executed BY the cursor
   * shipper (it replays from the replica's durable LSN and runs on into the tail in one ordered
   * stream, so no entry can be skipped), hence the window up to the session's frozen target for a
   * session in phase `catchup` that this host executes. A replica the shipper lost stays gated
   * until a catch-up session planned its gap, even while the engine has no session for it.
   */
  eligibility(replicaId: string): LiveEligibility {
    const state = this.deps.execution().replicas.get(replicaId);
    if (state === undefined) return ELIGIBLE;
    if (!state.liveEligible) {
      const window =
        state.sessionActive && state.sessionPhase === "catchup"
          ? this.deps.catchUps.windowTargetLsn(replicaId)
          : 0;
      const reason = state.reason !== "" ? state.reason : "live_tail_not_allowed";
      return {
        eligible: false,
        windowToLsn: window,
        reason: window > 0 ? `${reason}; catchup_window up to lsn ${window}` : reason,
      };
    }
    if (this.deps.lost.has(replicaId)) {
      // A copy the data plane condemned waits for a rebuild, not a catch-up: its verdict is the reason.
      const verdict = this.deps.needsRebuildReason(replicaId);
      if (verdict !== undefined && verdict !== "")
        return { eligible: false, windowToLsn: 0, reason: verdict };
      return {
        eligible: false,
        windowToLsn: 0,
        reason: `awaiting_catchup_session: ${replicaId} was disconnected; its gap is planned first`,
      };
    }
    return ELIGIBLE;
  }
}
