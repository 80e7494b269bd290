// Wire views of a changed-block resync: the session's progress (GetProtocolState's and GetStatus's
// `resync`), the last committed one (GetStatus's `last_resync`) and a copy's own resync marker.
// The engine's snapshot is the truth for pass, blocks left and the commit; the running transfer
// (ResyncRuns, on this primary) adds what it sent. u64 values are decimal strings.
import type { ReplicaExecutionState as EngineReplicaState } from "@blockship/engine";
import type { ResyncProgress, ResyncSummary } from "@blockship/rpc";
import type { Volume } from "@blockship/storage";
import type { ResyncRuns } from "./resync-run";

const s = (n: number | bigint): string => String(n);

/** Bytes and blocks this primary sent in the session: the running transfer's, else the committed one's. */
function sentOf(runs: ResyncRuns | undefined, replicaId: string, sessionId: number) {
  const running = runs?.view(replicaId);
  if (running !== undefined && running.sessionId === sessionId)
    return { blocks: running.progress?.blocksSent ?? 0, bytes: running.progress?.bytesSent ?? 0 };
  const last = runs?.last.get(replicaId);
  if (last !== undefined && last.sessionId === sessionId)
    return { blocks: last.blocksSent, bytes: last.bytesSent };
  return { blocks: 0, bytes: 0 };
}

/** The replica's resync session as the wire shows it; undefined unless its session is a resync. */
export function resyncProgressOf(r: EngineReplicaState, runs?: ResyncRuns): ResyncProgress | undefined {
  const rs = r.resync;
  if (rs === undefined || r.sessionKind !== "resync") return undefined;
  const sent = sentOf(runs, r.replicaId, r.sessionId);
  return {
    fork_lsn: s(rs.forkLsn),
    pass: rs.pass,
    blocks_left: s(rs.blocksLeft),
    committed: rs.committed,
    base_lsn: s(rs.baseLsn),
    consistent_lsn: s(rs.consistentLsn),
    sent_blocks: s(sent.blocks),
    sent_bytes: s(sent.bytes),
  };
}

/** The replica's last committed resync (GetStatus), absent when none committed here. */
export function lastResyncOf(runs: ResyncRuns, replicaId: string): ResyncSummary | undefined {
  const last = runs.last.get(replicaId);
  if (last === undefined) return undefined;
  return {
    base_lsn: s(last.baseLsn),
    consistent_lsn: s(last.consistentLsn),
    passes: last.passes,
    sent_blocks: s(last.blocksSent),
    sent_bytes: s(last.bytesSent),
    duration_ms: s(last.durationMs),
  };
}

/** This copy's own resync marker (a replica being resynced): VolumeStatus's resync_* fields. */
export function copyResyncFields(v: Volume) {
  const st = v.resyncState();
  if (!st.pending) return { resync_phase: "", resync_fork_lsn: "0", resync_consistent_lsn: "0" };
  return {
    resync_phase: st.phase,
    resync_fork_lsn: s(st.forkLsn),
    resync_consistent_lsn: s(st.phase === "catchup" ? st.consistentLsn : 0),
  };
}
