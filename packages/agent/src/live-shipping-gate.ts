// The live-shipping policy a primary installs on its ShipperGroup, once, before any shipper starts.
// It is a closure over the host's latest derived state (read at call time, never cached), so a
// new engine event changes its answers without re-binding; the host calls policyChanged() after
// every event so gated shippers ask again.
import { decideLiveShipping, type VolumeExecutionState } from "@blockship/engine";
import type { CatchUpWatches } from "./catchup-watches";
import type { LostReplicas } from "./lost-replicas";
import type { LiveShippingPolicy } from "./replication-port";

export interface LiveShippingGateDeps {
  /** The engine's latest execution state. */
  readonly execution: () => VolumeExecutionState;
  readonly catchUps: Pick<CatchUpWatches, "coversLsn">;
  readonly lost: Pick<LostReplicas, "has">;
  /** The gate denied a replica the live tail (counted by metrics). */
  readonly onDenied: (replicaId: string, reason: string | undefined) => void;
}

/**
 * The phase gate. A replica with an active session gets nothing until the engine planned its
 * catch-up from the replica's real durable LSN (handshake). The planned catch-up is then executed
 * BY the cursor shipper (it replays from the replica's durable LSN and runs on into the tail in
 * one ordered stream, so no entry can be skipped — DESIGN §4), hence the window for a session in
 * phase `catchup` that this host is executing.
 */
export function liveShippingGate(deps: LiveShippingGateDeps): LiveShippingPolicy {
  return (replicaId, lsn) => {
    const execution = deps.execution();
    const state = execution.replicas.get(replicaId);
    if (state?.sessionActive && state.sessionPhase === "catchup" && deps.catchUps.coversLsn(replicaId, lsn)) {
      return { allow: true }; // the session's own gap, up to its frozen target
    }
    let d = decideLiveShipping(execution, replicaId, BigInt(lsn));
    if (d.allow && deps.lost.has(replicaId)) {
      d = {
        allow: false,
        reason: `awaiting_catchup_session: ${replicaId} was disconnected; its gap is planned first`,
      };
    }
    if (d.allow) return { allow: true };
    deps.onDenied(replicaId, d.reason);
    return { allow: false, reason: d.reason };
  };
}
