// The engine's needs-rebuild verdicts that the data plane must hear about. A primary's engine can
// decide on its own that no catch-up can bring a replica back: its session's handshake found the
// gap already recycled from the WAL, the copy holds records beyond this primary's head (its tail is
// never cut back here), or a catch-up ran past its budget. The shipper does not see that decision:
// a replica it lost stays gated until a catch-up session completes, and none ever will. So the
// host tells the shipper (it enters needs_rebuild, reports NEEDS_REBUILD with the reason, and
// probes until the copy was rebuilt); without that, the replica would stay DISCONNECTED forever
// and the master would never learn that it must assign a rebuild. Pure: the host supplies states.
import type { LogEntry, VolumeExecutionState } from "@blockship/engine";

/**
 * Replicas whose engine sender became needs_rebuild (session ended) between `before` and `after`,
 * and that the data plane does not already treat as needing a rebuild. Only a transition counts: a
 * sender the engine still holds as needs_rebuild after the shipper found the copy rebuilt (and is
 * about to start its catch-up session) is not condemned again.
 */
export function newlyCondemned(
  before: VolumeExecutionState,
  after: VolumeExecutionState,
  dataPlaneKnows: (replicaId: string) => boolean,
): string[] {
  const out: string[] = [];
  for (const [id, st] of after.replicas) {
    if (st.senderState !== "needs_rebuild" || st.sessionActive) continue;
    if (before.replicas.get(id)?.senderState === "needs_rebuild") continue;
    if (dataPlaneKnows(id)) continue;
    out.push(id);
  }
  return out;
}

/** Engine log events whose detail names why a replica's session escalated to needs_rebuild. */
const ESCALATIONS: ReadonlySet<string> = new Set(["escalated", "exec_failed", "budget_escalated"]);

/** The stable reason the shipper reports for an engine verdict, from the engine's log. */
export function engineNeedsRebuildReason(entries: readonly LogEntry[], replicaId: string): string {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i] as LogEntry;
    if (e.replicaId !== replicaId || !ESCALATIONS.has(e.event) || e.detail === "") continue;
    const detail = e.event === "budget_escalated" ? `catchup_budget_${e.detail}` : e.detail;
    return `needs_rebuild: ${detail}`;
  }
  return "needs_rebuild: no catch-up can bring the replica back";
}
