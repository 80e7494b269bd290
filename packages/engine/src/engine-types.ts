// The host-facing API of VolumeEngine: what the agent feeds in and what it must execute.
import type { CatchUpBudget } from "./budget";
import type { CoreCommand, PublicationProjection } from "./core-types";
import type { ResyncFacts } from "./decide";
import type { VolumeExecutionState } from "./execution-state";
import type { SessionIdSource } from "./identity";
import type { RetentionPort } from "./planner";
import type { Endpoint, Epoch, Lsn, RebuildSource, SessionId, SessionKind, TimeMs } from "./types";

/** Role as the master sends it (wire values 0..5). */
export type MasterRole = "none" | "primary" | "replica" | "stale" | "rebuilding" | "draining";

export interface AssignedReplica {
  readonly serverId: string;
  readonly dataAddr: string;
  readonly ctrlAddr: string;
  /** The master's address-version counter; 0 when unknown. */
  readonly addressVersion?: number;
}

export type EngineEvent =
  /** A master assignment for this volume. Replica/rebuilding roles list exactly the local server. */
  | {
      readonly type: "assignment";
      readonly epoch: Epoch;
      readonly role: MasterRole;
      readonly replicas: readonly AssignedReplica[];
    }
  | { readonly type: "role_applied" }
  | { readonly type: "receiver_ready" }
  | { readonly type: "shipper_configured" }
  | { readonly type: "shipper_connected" }
  | { readonly type: "committed_advanced"; readonly committedLsn: Lsn }
  | { readonly type: "checkpoint_advanced"; readonly checkpointLsn: Lsn }
  /** Diagnostic only: shipped is never durable. */
  | { readonly type: "shipped_advanced"; readonly shippedLsn: Lsn }
  | { readonly type: "barrier_accepted"; readonly flushedLsn: Lsn }
  | { readonly type: "barrier_rejected"; readonly reason: string }
  /**
   * The replica answered the handshake of `connect_replica` with its real durable LSN and, if both
   * peers exchanged histories, the resync facts (absent = WAL-only decision, as with an old peer).
   */
  | {
      readonly type: "handshake";
      readonly replicaId: string;
      readonly sessionId: SessionId;
      readonly replicaDurableLsn: Lsn;
      readonly nowMs: TimeMs;
      readonly resync?: ResyncFacts;
    }
  /** Resync transfer: pass `pass` is being sent, `blocksLeft` blocks of it remain. */
  | {
      readonly type: "resync_progress";
      readonly replicaId: string;
      readonly sessionId: SessionId;
      readonly pass: number;
      readonly blocksLeft: bigint;
      readonly nowMs: TimeMs;
    }
  /**
   * The replica committed the resync: its log ends at baseLsn (the primary's record there) and it is
   * consistent once durable ≥ consistentLsn. The session moves to its catch-up phase (answered with
   * `start_catchup` from baseLsn to the frozen consistentLsn), fed and ended like any catch-up
   * (`catchup_progress`, `catchup_done`); when consistentLsn == baseLsn it completes at once.
   */
  | {
      readonly type: "resync_committed";
      readonly replicaId: string;
      readonly sessionId: SessionId;
      readonly baseLsn: Lsn;
      readonly consistentLsn: Lsn;
      readonly nowMs: TimeMs;
    }
  /** The replica confirmed everything ≤ durableLsn durable during catch-up. */
  | {
      readonly type: "catchup_progress";
      readonly replicaId: string;
      readonly sessionId: SessionId;
      readonly durableLsn: Lsn;
      readonly nowMs: TimeMs;
    }
  /** Deprecated: no plan truncates any more (a replica ahead is resynced); always rejected. */
  | {
      readonly type: "truncation_done";
      readonly replicaId: string;
      readonly sessionId: SessionId;
      readonly lsn: Lsn;
    }
  /** Deprecated: no plan truncates any more; always rejected. */
  | { readonly type: "truncation_unsafe"; readonly replicaId: string; readonly sessionId: SessionId }
  /**
   * Streaming finished; complete the session (a catch-up, or a resync in its catch-up phase). Report
   * `catchup_progress` up to the target first: completing before convergence fails the attempt.
   */
  | { readonly type: "catchup_done"; readonly replicaId: string; readonly sessionId: SessionId }
  | {
      readonly type: "rebuild_progress";
      readonly replicaId: string;
      readonly sessionId: SessionId;
      /** `base` = base image transferred up to lsn; `tail` = WAL tail replayed up to lsn. */
      readonly stage: "base" | "tail";
      readonly lsn: Lsn;
    }
  | {
      readonly type: "rebuild_done";
      readonly replicaId: string;
      readonly sessionId: SessionId;
      readonly flushedLsn: Lsn;
      readonly checkpointLsn: Lsn;
    }
  /** The host's attempt failed (dial, I/O, stream error, a resync that broke off…): the session ends. */
  | {
      readonly type: "recovery_failed";
      readonly replicaId: string;
      readonly sessionId: SessionId;
      readonly reason: string;
    }
  /**
   * The data plane found, outside or inside a session, that this replica cannot catch up (its
   * retention pin was released over budget, its WAL position was recycled, it is ahead/diverged):
   * its session ends and the sender waits in needs_rebuild.
   */
  | { readonly type: "replica_needs_rebuild"; readonly replicaId: string; readonly reason: string }
  /** Budget clock: detects catch-ups that stall or run too long. */
  | { readonly type: "budget_tick"; readonly nowMs: TimeMs }
  /** A newer epoch became known outside an assignment: every older session dies. */
  | { readonly type: "epoch_bump"; readonly epoch: Epoch }
  /** Operator (Control.StartRecovery): a fresh session of this kind for one replica. */
  | {
      readonly type: "start_recovery";
      readonly replicaId: string;
      readonly kind: SessionKind;
    }
  /** Operator (Control.CancelRecovery). */
  | { readonly type: "cancel_recovery"; readonly replicaId: string; readonly reason: string };

export type EngineEventType = EngineEvent["type"];

export type EngineCommand =
  // The core's role and wiring commands pass through to the host unchanged.
  | Extract<CoreCommand, { type: "apply_role" | "start_receiver" | "configure_shipper" }>
  /** Dial the replica and handshake; answer with `handshake` (or `recovery_failed`). */
  | {
      readonly type: "connect_replica";
      readonly volumeId: string;
      readonly replicaId: string;
      readonly sessionId: SessionId;
      readonly endpoint: Endpoint;
    }
  /**
   * Stream WAL (fromLsn, targetLsn] to the replica; targetLsn is frozen. Also the catch-up phase of a
   * resync (same session ID, from the resync's base). truncateToLsn is deprecated and always 0.
   */
  | {
      readonly type: "start_catchup";
      readonly volumeId: string;
      readonly replicaId: string;
      readonly sessionId: SessionId;
      readonly fromLsn: Lsn;
      readonly targetLsn: Lsn;
      readonly truncateToLsn: Lsn;
    }
  /**
   * Resync the replica from forkLsn: send the blocks changed since the fork on both copies, in passes,
   * then commit (report `resync_progress`, then `resync_committed` or `recovery_failed`).
   */
  | {
      readonly type: "start_resync";
      readonly volumeId: string;
      readonly replicaId: string;
      readonly sessionId: SessionId;
      readonly forkLsn: Lsn;
    }
  /** Ship the base image (snapshot at snapshotLsn + tail, or full base) up to ≥ targetLsn. */
  | {
      readonly type: "start_rebuild";
      readonly volumeId: string;
      readonly replicaId: string;
      readonly sessionId: SessionId;
      readonly source: RebuildSource;
      readonly snapshotLsn: Lsn;
      readonly targetLsn: Lsn;
    }
  /** The engine ended this session: stop any work for it. */
  | {
      readonly type: "stop_recovery";
      readonly volumeId: string;
      readonly replicaId: string;
      readonly sessionId: SessionId;
      readonly reason: string;
    }
  | {
      readonly type: "publish_projection";
      readonly volumeId: string;
      readonly projection: PublicationProjection;
    };

export type EngineCommandType = EngineCommand["type"];

export interface EngineOutput {
  /** In execution order. */
  readonly commands: readonly EngineCommand[];
  readonly projection: PublicationProjection;
  /** The phase-gate input, re-derived after this event. */
  readonly execution: VolumeExecutionState;
  /** Set when the event was refused (stale session, bad input); a refused event changes nothing. */
  readonly rejected: string | null;
}

export interface VolumeEngineOptions {
  readonly volumeId: string;
  readonly retention: RetentionPort;
  /** Applied to every catch-up session created from assignments. */
  readonly catchUpBudget?: CatchUpBudget;
  readonly logCapacity?: number;
  /** Share one counter across a node's volumes if wanted; default: one per engine. */
  readonly ids?: SessionIdSource;
}
