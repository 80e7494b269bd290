// Wire views of a hosted volume: VolumeStatus (GetStatus/WatchStatus), the protocol execution state
// (GetProtocolState) and GetInfo. u64 values are decimal strings.
import type { ReplicaExecutionState as EngineReplicaState } from "@blockship/engine";
import type {
  DurabilityMode,
  GetInfoResponse,
  GetProtocolStateResponse,
  ReplicaExecutionState,
  ReplicaStatus,
  SenderState,
  SessionKind,
  SessionPhase,
  VolumeMode,
  VolumeStatus,
} from "@blockship/rpc";
import type { HostedVolume } from "./hosted-volume";
import type { LiveEligibility } from "./live-shipping-gate";
import { durabilityToWire } from "./modes";
import { nbdConnectionsOf } from "./nbd-frontend";
import type { ResyncRuns } from "./resync-run";
import { roleToWire } from "./roles";
import { copyResyncFields, lastResyncOf, resyncProgressOf } from "./status-resync";

const s = (n: number | bigint): string => String(n);

function senderStateWire(state: string): SenderState {
  return `SENDER_STATE_${state.toUpperCase()}` as SenderState;
}

/**
 * The engine's state of one replica with the live gate's answer for it (the one the shipper gets).
 * `runs` (this primary's resync transfers) adds the bytes a resync sent so far.
 */
export function replicaExecutionToWire(
  r: EngineReplicaState,
  gate: LiveEligibility,
  runs?: ResyncRuns,
): ReplicaExecutionState {
  const resync = resyncProgressOf(r, runs);
  return {
    replica_id: r.replicaId,
    sender_state: senderStateWire(r.senderState),
    session_id: s(r.sessionId),
    session_kind: (r.sessionKind === ""
      ? "SESSION_KIND_NONE"
      : `SESSION_KIND_${r.sessionKind.toUpperCase()}`) as SessionKind,
    session_phase: (r.sessionPhase === ""
      ? "SESSION_PHASE_NONE"
      : `SESSION_PHASE_${r.sessionPhase.toUpperCase()}`) as SessionPhase,
    start_lsn: s(r.startLsn),
    target_lsn: s(r.targetLsn),
    frozen_target_lsn: s(r.frozenTargetLsn),
    recovered_to: s(r.recoveredTo),
    session_active: r.sessionActive,
    live_eligible: gate.eligible,
    reason: gate.reason,
    ...(resync === undefined ? {} : { resync }),
  };
}

export function protocolStateOf(h: HostedVolume): GetProtocolStateResponse {
  return {
    volume_id: h.volumeId,
    epoch: s(h.volume.epoch),
    role: roleToWire(h.fence.role),
    replicas: [...h.runtime.executionState.replicas.values()].map((r) => {
      const wire = replicaExecutionToWire(r, h.runtime.liveEligibility(r.replicaId), h.runtime.resyncRuns);
      // The data plane's needs-rebuild verdict (e.g. divergent_history at LSN n) is the reason.
      const verdict =
        r.senderState === "needs_rebuild" ? h.runtime.needsRebuildReason(r.replicaId) : undefined;
      return wire.reason === "" && verdict !== undefined ? { ...wire, reason: verdict } : wire;
    }),
  };
}

/**
 * The shipper's state, except where its needs-rebuild verdict is not the engine's: the shipper
 * only knows the WAL cannot bring the copy back, the engine decides (from a fresh handshake with
 * both histories) whether a resync can. Until it says needs_rebuild, NEEDS_REBUILD would ask the
 * master for a full copy that may not be needed; the engine's state (a session planning or
 * resyncing the copy, or disconnected while it is away) is the truth.
 */
function reportedState(shipper: string | undefined, e: EngineReplicaState | undefined): string {
  if (shipper !== "needs_rebuild" || e === undefined || e.senderState === "needs_rebuild")
    return shipper ?? e?.senderState ?? "unspecified";
  // Never in sync while nothing streams to it: without a session it is disconnected (the
  // lost-replica retry starts one).
  return e.sessionActive ? e.senderState : "disconnected";
}

function replicasOf(h: HostedVolume): ReplicaStatus[] {
  const assignment = h.runtime.assignment;
  if (h.fence.role !== "primary" || assignment === undefined) return [];
  const statuses = new Map(h.runtime.shipperStatuses().map((st) => [st.replicaId, st]));
  const exec = h.runtime.executionState.replicas;
  const runs = h.runtime.resyncRuns;
  return assignment.replicas
    .map((r) => {
      const replicaId = `${h.volumeId}/${r.serverId}`;
      const st = statuses.get(replicaId);
      const e = exec.get(replicaId);
      const gate = h.runtime.liveEligibility(replicaId);
      // Gated: exactly the gate's reason (as GetProtocolState); otherwise what keeps it from in_sync.
      const reason = gate.eligible
        ? [e?.reason, h.runtime.needsRebuildReason(replicaId), st?.lastError]
            .filter((x): x is string => x !== undefined && x !== "")
            .join("; ")
        : gate.reason;
      const resync = e === undefined || !e.sessionActive ? undefined : resyncProgressOf(e, runs);
      const last = lastResyncOf(runs, replicaId);
      return {
        replica_id: replicaId,
        server_id: r.serverId,
        address: r.address,
        sender_state: senderStateWire(reportedState(st?.state, e)),
        shipped_lsn: s(Math.max(0, (st?.cursorLsn ?? 1) - 1)),
        durable_lsn: s(st?.durableLsn ?? 0),
        live_eligible: gate.eligible,
        reason,
        ...(resync === undefined ? {} : { resync }),
        ...(last === undefined ? {} : { last_resync: last }),
      };
    })
    .sort((a, b) => (a.replica_id < b.replica_id ? -1 : 1));
}

export function volumeStatusOf(h: HostedVolume): VolumeStatus {
  const v = h.volume;
  const stats = v.stats();
  const primary = h.fence.role === "primary";
  const projection = h.runtime.projection;
  const blockReason = h.writeBlockReason();
  const rebuild = h.runtime.rebuildProgress();
  const last = h.runtime.lastRebuild;
  return {
    volume_id: h.volumeId,
    size_bytes: s(v.volumeSizeBytes),
    block_size: v.blockSize,
    wal_size_bytes: s(stats.walSizeBytes),
    epoch: s(v.epoch),
    role: roleToWire(h.fence.role),
    durability_mode: durabilityToWire(v.durabilityMode) as DurabilityMode,
    mode: `VOLUME_MODE_${projection.mode.name.toUpperCase()}` as VolumeMode,
    mode_reason: projection.mode.reason,
    head_lsn: s(stats.headLsn),
    durable_lsn: s(stats.durableLsn),
    committed_lsn: s(primary ? Math.min(h.runtime.committedLsn, stats.headLsn) : stats.durableLsn),
    checkpoint_lsn: s(stats.checkpointLsn),
    has_lease: primary && h.fence.lease.live(),
    lease_remaining_ms: primary ? h.fence.lease.remainingMs() : 0,
    writable: blockReason === "",
    write_block_reason: blockReason,
    wal_used_bytes: s(stats.walUsedBytes),
    replicas: replicasOf(h),
    primary_server_id: h.runtime.assignment?.primaryServerId ?? "",
    rebuild_received_bytes: s(rebuild?.bytesDone ?? 0),
    rebuild_total_bytes: s(rebuild?.totalBytes ?? 0),
    rebuild_stage: rebuild?.stage ?? "",
    rebuild_resumes: rebuild?.resumes ?? 0,
    nbd_connections: nbdConnectionsOf(h),
    ...copyResyncFields(v),
    ...(last === undefined
      ? {}
      : {
          last_rebuild: {
            base_lsn: s(last.baseLsn),
            last_lsn: s(last.lastLsn),
            total_bytes: s(last.totalBytes),
            bytes_transferred: s(last.bytesTransferred),
            resumes: last.resumes,
            duration_ms: s(last.durationMs),
            resumed_from_bytes: s(last.resumedFromBytes),
          },
        }),
  };
}

export function volumeInfoOf(h: HostedVolume): GetInfoResponse {
  const v = h.volume;
  const blockReason = h.writeBlockReason();
  return {
    volume_id: h.volumeId,
    size_bytes: s(v.volumeSizeBytes),
    block_size: v.blockSize,
    epoch: s(v.epoch),
    role: roleToWire(h.fence.role),
    durability_mode: durabilityToWire(v.durabilityMode) as DurabilityMode,
    writable: blockReason === "",
    write_block_reason: blockReason,
    head_lsn: s(v.headLsn),
    committed_lsn: s(h.fence.role === "primary" ? Math.min(h.runtime.committedLsn, v.headLsn) : v.durableLsn),
  };
}
