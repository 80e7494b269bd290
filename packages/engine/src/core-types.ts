// Events, commands and the outward projection of the volume core.
// Exhaustive discriminated unions on `type`; everything the host sees is readonly.
import type { ReplicaTarget } from "./registry";
import type { Epoch, Lsn, SessionKind } from "./types";

export type VolumeRole = "unknown" | "primary" | "replica";
export type ModeName =
  | "allocated_only"
  | "bootstrap_pending"
  | "replica_ready"
  | "publish_healthy"
  | "degraded"
  | "needs_rebuild";
export type RecoveryPhase = "idle" | "catching_up" | "needs_rebuild" | "rebuilding";
export type RuntimeAuthority = "constrained_v1" | "v2_core";

export type CoreEvent =
  | {
      readonly type: "assignment_delivered";
      readonly epoch: Epoch;
      readonly role: VolumeRole;
      readonly replicas: readonly ReplicaTarget[];
      /** The session kind each replica's recovery task should run; null = none. */
      readonly recoveryTarget: SessionKind | null;
    }
  | { readonly type: "role_applied" }
  | { readonly type: "receiver_ready_observed" }
  | { readonly type: "shipper_configured_observed" }
  | { readonly type: "shipper_connected_observed" }
  | { readonly type: "diagnostic_shipped_advanced"; readonly shippedLsn: Lsn }
  | { readonly type: "committed_lsn_advanced"; readonly committedLsn: Lsn }
  | { readonly type: "checkpoint_advanced"; readonly checkpointLsn: Lsn }
  | { readonly type: "barrier_accepted"; readonly flushedLsn: Lsn }
  | { readonly type: "barrier_rejected"; readonly reason: string }
  | { readonly type: "catchup_planned"; readonly replicaId?: string; readonly targetLsn: Lsn }
  | { readonly type: "recovery_progress_observed"; readonly replicaId?: string; readonly achievedLsn: Lsn }
  | { readonly type: "catchup_completed"; readonly replicaId?: string; readonly achievedLsn: Lsn }
  | { readonly type: "needs_rebuild_observed"; readonly replicaId?: string; readonly reason: string }
  | { readonly type: "rebuild_started"; readonly replicaId?: string; readonly targetLsn: Lsn }
  /** Every replica of a primary is in sync again (the ones that needed a rebuild got one elsewhere). */
  | { readonly type: "replicas_recovered" }
  | {
      readonly type: "rebuild_committed";
      readonly replicaId?: string;
      /** 0 = derive from max(flushed, checkpoint). */
      readonly achievedLsn: Lsn;
      readonly flushedLsn: Lsn;
      readonly checkpointLsn: Lsn;
    };

export type CoreEventType = CoreEvent["type"];

export interface Readiness {
  readonly assigned: boolean;
  readonly roleApplied: boolean;
  readonly receiverReady: boolean;
  readonly shipperConfigured: boolean;
  readonly shipperConnected: boolean;
  readonly replicaReady: boolean;
}

export interface Boundary {
  readonly committedLsn: Lsn;
  readonly durableLsn: Lsn;
  readonly checkpointLsn: Lsn;
  readonly targetLsn: Lsn;
  readonly achievedLsn: Lsn;
  /** Shipped is diagnostic only: it never counts as durable. */
  readonly diagnosticShippedLsn: Lsn;
  readonly lastBarrierOk: boolean;
  readonly lastBarrierReason: string;
}

export interface Mode {
  readonly name: ModeName;
  readonly reason: string;
  readonly authority: RuntimeAuthority;
}

export interface Publication {
  readonly healthy: boolean;
  readonly reason: string;
}

export interface RecoveryView {
  readonly phase: RecoveryPhase;
  readonly targetLsn: Lsn;
  readonly achievedLsn: Lsn;
  readonly reason: string;
}

export interface PublicationProjection {
  readonly volumeId: string;
  readonly epoch: Epoch;
  readonly role: VolumeRole;
  readonly mode: Mode;
  readonly publication: Publication;
  readonly recovery: RecoveryView;
  readonly readiness: Readiness;
  readonly boundary: Boundary;
  /** Desired replica order. */
  readonly replicaIds: readonly string[];
}

export type CoreCommand =
  | {
      readonly type: "apply_role";
      readonly volumeId: string;
      readonly epoch: Epoch;
      readonly role: VolumeRole;
    }
  | { readonly type: "start_receiver"; readonly volumeId: string }
  | {
      readonly type: "configure_shipper";
      readonly volumeId: string;
      readonly replicas: readonly ReplicaTarget[];
    }
  | {
      readonly type: "drain_recovery_task";
      readonly volumeId: string;
      readonly replicaId: string;
      readonly reason: string;
    }
  | {
      readonly type: "start_recovery_task";
      readonly volumeId: string;
      readonly replicaId: string;
      readonly kind: SessionKind;
    }
  | {
      readonly type: "start_catchup";
      readonly volumeId: string;
      readonly replicaId: string;
      readonly targetLsn: Lsn;
    }
  | {
      readonly type: "start_rebuild";
      readonly volumeId: string;
      readonly replicaId: string;
      readonly targetLsn: Lsn;
    }
  /** replicaId "" = every replica of the volume. */
  | {
      readonly type: "invalidate_session";
      readonly volumeId: string;
      readonly replicaId: string;
      readonly reason: string;
    }
  | {
      readonly type: "publish_projection";
      readonly volumeId: string;
      readonly projection: PublicationProjection;
    };

export type CoreCommandType = CoreCommand["type"];

export interface CoreResult {
  readonly commands: readonly CoreCommand[];
  readonly projection: PublicationProjection;
}
