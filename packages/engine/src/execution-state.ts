// The seed: per-replica protocol execution state derived ONLY from
// sender/session snapshots, and the live-tail shipping policy (the phase gate) derived from it.
// A replica with an active recovery session of any kind gets no live-tail entries.
import { belongsToVolume } from "./identity";
import type { SenderSnapshot } from "./sender";
import type { ResyncSnapshot, SessionSnapshot } from "./session";
import type { Lsn, ReplicaState, SessionId, SessionKind, SessionPhase } from "./types";

export interface ReplicaExecutionState {
  readonly replicaId: string;
  readonly senderState: ReplicaState;
  /** 0 = no session. */
  readonly sessionId: SessionId;
  /** "" = no session. */
  readonly sessionKind: SessionKind | "";
  readonly sessionPhase: SessionPhase | "";
  readonly startLsn: Lsn;
  readonly targetLsn: Lsn;
  readonly frozenTargetLsn: Lsn;
  readonly recoveredTo: Lsn;
  readonly sessionActive: boolean;
  /** Always `!sessionActive`. */
  readonly liveEligible: boolean;
  /** Why live shipping is blocked; "" when eligible. */
  readonly reason: string;
  /** Present only for a resync session: what the host shows (GetProtocolState, GetStatus). */
  readonly resync?: ResyncSnapshot;
}

export interface VolumeExecutionState {
  readonly volumeId: string;
  /** Keyed by stable replica ID; iteration is in replica-ID order. */
  readonly replicas: ReadonlyMap<string, ReplicaExecutionState>;
}

export interface LiveShippingDecision {
  readonly allow: boolean;
  readonly reason: string;
}

export type LiveShippingPolicy = (replicaId: string, entryLsn: Lsn) => LiveShippingDecision;

const ALLOW: LiveShippingDecision = Object.freeze({ allow: true, reason: "" });

export function deriveReplicaExecutionState(sender: SenderSnapshot): ReplicaExecutionState {
  const s = sender.session;
  if (s === null) {
    return Object.freeze({
      replicaId: sender.replicaId,
      senderState: sender.state,
      sessionId: 0,
      sessionKind: "",
      sessionPhase: "",
      startLsn: 0n,
      targetLsn: 0n,
      frozenTargetLsn: 0n,
      recoveredTo: 0n,
      sessionActive: false,
      liveEligible: true,
      reason: "",
    });
  }
  const reason = s.active ? gateReason(s) : "";
  return Object.freeze({
    replicaId: sender.replicaId,
    senderState: sender.state,
    sessionId: s.id,
    sessionKind: s.kind,
    sessionPhase: s.phase,
    startLsn: s.startLsn,
    targetLsn: s.targetLsn,
    frozenTargetLsn: s.frozenTargetLsn,
    recoveredTo: s.recoveredTo,
    sessionActive: s.active,
    liveEligible: !s.active,
    reason,
    ...(s.resync === null ? {} : { resync: s.resync }),
  });
}

/**
 * The phase gate's denial reason for an active session. A resync in transfer has no WAL range yet
 * (start and target print `-`); once committed its range is base → frozen consistent LSN.
 */
function gateReason(s: SessionSnapshot): string {
  const target = s.frozenTargetLsn !== 0n ? s.frozenTargetLsn : s.targetLsn;
  const r = s.resync;
  if (r === null) {
    return `active_${s.kind}_session phase=${s.phase} start=${s.startLsn} target=${target} recovered=${s.recoveredTo}`;
  }
  const range = r.committed ? `start=${s.startLsn} target=${target}` : "start=- target=-";
  return `active_resync_session phase=${s.phase} pass=${r.pass} blocks_left=${r.blocksLeft} fork=${r.forkLsn} ${range}`;
}

/** Only senders whose ID is `<volumeId>/…` belong to the volume; others are ignored. */
export function deriveVolumeExecutionState(
  volumeId: string,
  senders: readonly SenderSnapshot[],
): VolumeExecutionState {
  const ids = senders
    .filter((s) => belongsToVolume(s.replicaId, volumeId))
    .sort((a, b) => (a.replicaId < b.replicaId ? -1 : a.replicaId > b.replicaId ? 1 : 0));
  const replicas = new Map<string, ReplicaExecutionState>();
  for (const s of ids) replicas.set(s.replicaId, deriveReplicaExecutionState(s));
  return Object.freeze({ volumeId, replicas });
}

/** The gate for one replica: unknown replica ⇒ allow; active session ⇒ deny with the state's reason. */
export function decideLiveShipping(
  state: VolumeExecutionState | undefined,
  replicaId: string,
  entryLsn: Lsn,
): LiveShippingDecision {
  const replica = state?.replicas.get(replicaId);
  if (replica === undefined || replica.liveEligible) return ALLOW;
  return { allow: false, reason: replica.reason || `live_tail_not_allowed lsn=${entryLsn}` };
}

/**
 * The node's cache of execution states, one entry per volume. The policy it hands out reads the
 * latest state at call time, so it survives shipper reconfiguration and can be installed before
 * any shipper starts.
 */
export class ExecutionStateStore {
  private readonly volumes = new Map<string, VolumeExecutionState>();

  /** Re-derive a volume's state (after every assignment batch, session event and core event). */
  sync(volumeId: string, senders: readonly SenderSnapshot[]): VolumeExecutionState {
    const state = deriveVolumeExecutionState(volumeId, senders);
    if (state.replicas.size === 0) this.volumes.delete(volumeId);
    else this.volumes.set(volumeId, state);
    return state;
  }

  get(volumeId: string): VolumeExecutionState | undefined {
    return this.volumes.get(volumeId);
  }

  remove(volumeId: string): void {
    this.volumes.delete(volumeId);
  }

  policyFor(volumeId: string): LiveShippingPolicy {
    return (replicaId, entryLsn) => decideLiveShipping(this.volumes.get(volumeId), replicaId, entryLsn);
  }
}
