// The volume core: one event in → ordered, de-duplicated commands + projection.
// Deterministic and side-effect free. Every command is guarded by a "last issued" latch, which is what
// makes redelivery of the same event emit nothing; publish_projection only on a projection change.
import {
  type HostSetupLatches,
  issueHostSetup,
  type Resolution,
  readinessAfterAssignment,
  reconcileRecoveryTasks,
  resolveReplica,
  type TaskLatch,
} from "./core-assignment";
import { CatchUpObservations } from "./core-catchups";
import {
  deepEqual,
  INITIAL_BOUNDARY,
  INITIAL_READINESS,
  recomputeMode,
  sameReplicas,
} from "./core-projection";
import type {
  Boundary,
  CoreCommand,
  CoreEvent,
  CoreResult,
  Mode,
  Publication,
  PublicationProjection,
  Readiness,
  RecoveryView,
  VolumeRole,
} from "./core-types";
import type { ReplicaTarget } from "./registry";
import { type Epoch, type Lsn, maxLsn, type SessionKind } from "./types";

export class VolumeCore {
  readonly volumeId: string;
  private epoch: Epoch = 0n;
  private role: VolumeRole = "unknown";
  private desired: readonly ReplicaTarget[] = [];
  private recoveryTarget: SessionKind | null = null;
  private readiness: Readiness = INITIAL_READINESS;
  private boundary: Boundary = INITIAL_BOUNDARY;
  private recovery: RecoveryView = { phase: "idle", targetLsn: 0n, achievedLsn: 0n, reason: "" };
  private mode: Mode = { name: "allocated_only", reason: "", authority: "constrained_v1" };
  private publication: Publication = { healthy: false, reason: "allocated_only" };
  private degraded = false;
  private degradeReason = "";
  private needsRebuild = false;
  private rebuildReason = "";
  private readonly catchUps = new CatchUpObservations();
  // Last-issued latches.
  private readonly setupLatches: HostSetupLatches = { role: null, receiverEpoch: null, shipper: null };
  private readonly taskLatch = new Map<string, TaskLatch>();
  private readonly catchUpLatch = new Map<string, Lsn>();
  private readonly rebuildLatch = new Map<string, Lsn>();
  private invalidation: { issued: boolean; reason: string } = { issued: false, reason: "" };
  private lastProjection: PublicationProjection | null = null;

  constructor(volumeId: string) {
    this.volumeId = volumeId;
    this.recompute();
  }

  projection(): PublicationProjection {
    return this.project();
  }

  /** True while the core waits for this replica's planned catch-up to complete. */
  hasCatchUpPlan(replicaId: string): boolean {
    return this.catchUps.pending(replicaId);
  }

  /** Replica IDs the last assignment asked for, in assignment order. */
  desiredReplicas(): readonly ReplicaTarget[] {
    return this.desired;
  }

  apply(event: CoreEvent): CoreResult {
    const commands: CoreCommand[] = [];
    const v = this.volumeId;
    switch (event.type) {
      case "assignment_delivered":
        this.applyAssignment(event, commands);
        break;
      case "role_applied":
        this.readiness = { ...this.readiness, roleApplied: true };
        break;
      case "receiver_ready_observed":
        this.readiness = { ...this.readiness, receiverReady: true };
        break;
      case "shipper_configured_observed":
        this.readiness = { ...this.readiness, shipperConfigured: true };
        break;
      case "shipper_connected_observed":
        this.readiness = { ...this.readiness, shipperConnected: true };
        break;
      case "diagnostic_shipped_advanced":
        this.setBoundary({
          diagnosticShippedLsn: maxLsn(this.boundary.diagnosticShippedLsn, event.shippedLsn),
        });
        break;
      case "committed_lsn_advanced":
        this.setBoundary({ committedLsn: maxLsn(this.boundary.committedLsn, event.committedLsn) });
        break;
      case "checkpoint_advanced":
        this.setBoundary({ checkpointLsn: maxLsn(this.boundary.checkpointLsn, event.checkpointLsn) });
        break;
      case "barrier_accepted":
        this.setBoundary({
          durableLsn: maxLsn(this.boundary.durableLsn, event.flushedLsn),
          lastBarrierOk: true,
          lastBarrierReason: "",
        });
        this.degraded = false;
        this.degradeReason = "";
        break;
      case "barrier_rejected":
        this.setBoundary({ lastBarrierOk: false, lastBarrierReason: event.reason });
        this.degraded = true;
        this.degradeReason = event.reason;
        this.invalidate("", event.reason, commands);
        break;
      case "catchup_planned":
        this.onCatchUpPlanned(this.resolve(event.replicaId), event.targetLsn, commands);
        break;
      case "recovery_progress_observed":
        this.onProgress(this.resolve(event.replicaId), event.achievedLsn);
        break;
      case "catchup_completed":
        this.onCatchUpCompleted(this.resolve(event.replicaId), event.achievedLsn);
        break;
      case "needs_rebuild_observed": {
        const r = this.resolve(event.replicaId);
        if (r.kind === "unknown") break; // a stale report about a replica we no longer have
        this.catchUps.clear();
        this.catchUpLatch.clear();
        this.needsRebuild = true;
        this.rebuildReason = event.reason;
        this.degraded = false;
        this.degradeReason = "";
        this.recovery = { ...this.recovery, phase: "needs_rebuild", reason: event.reason };
        this.invalidate(r.kind === "resolved" ? r.id : "", event.reason, commands);
        break;
      }
      case "rebuild_started": {
        const r = this.resolve(event.replicaId);
        if (r.kind === "unknown") break;
        this.needsRebuild = true;
        this.recovery = {
          phase: "rebuilding",
          reason: this.rebuildReason,
          achievedLsn: 0n,
          targetLsn: maxLsn(this.recovery.targetLsn, event.targetLsn),
        };
        this.setBoundary({ achievedLsn: 0n, targetLsn: maxLsn(this.boundary.targetLsn, event.targetLsn) });
        if (
          r.kind === "resolved" &&
          event.targetLsn > 0n &&
          this.rebuildLatch.get(r.id) !== event.targetLsn
        ) {
          commands.push({ type: "start_rebuild", volumeId: v, replicaId: r.id, targetLsn: event.targetLsn });
          this.rebuildLatch.set(r.id, event.targetLsn);
        }
        break;
      }
      case "rebuild_committed":
        this.onRebuildCommitted(event);
        break;
      case "replicas_recovered":
        // Only a primary's needs_rebuild is about its replicas; a copy's own needs a committed rebuild.
        if (this.role !== "primary" || !this.needsRebuild) break;
        this.needsRebuild = false;
        this.rebuildReason = "";
        if (this.recovery.phase === "needs_rebuild")
          this.recovery = { ...this.recovery, phase: "idle", reason: "" };
        break;
      default: {
        const never: never = event;
        throw new Error(`unhandled core event ${JSON.stringify(never)}`);
      }
    }
    this.recompute();
    const projection = this.project();
    if (this.lastProjection === null || !deepEqual(this.lastProjection, projection)) {
      commands.push({ type: "publish_projection", volumeId: v, projection });
    }
    this.lastProjection = projection;
    return { commands, projection };
  }

  // ---- assignment (§5.7) -------------------------------------------------------------------------

  private applyAssignment(
    ev: Extract<CoreEvent, { type: "assignment_delivered" }>,
    commands: CoreCommand[],
  ): void {
    const v = this.volumeId;
    const roleChanged = this.role !== ev.role;
    const epochChanged = this.epoch !== ev.epoch;
    const replicasChanged = !sameReplicas(this.desired, ev.replicas);
    const targetChanged = this.recoveryTarget !== ev.recoveryTarget;
    this.epoch = ev.epoch;
    this.role = ev.role;
    this.desired = ev.replicas.map((r) => ({ replicaId: r.replicaId, endpoint: { ...r.endpoint } }));
    this.recoveryTarget = ev.recoveryTarget;
    this.readiness = readinessAfterAssignment(this.readiness, ev.role, {
      epochChanged,
      roleChanged,
      replicasChanged,
    });
    if (epochChanged || roleChanged || replicasChanged || targetChanged) {
      // Recovery truth from the old assignment must not leak into the new one; needsRebuild and the
      // LSN boundaries are facts about the data and stay.
      this.degraded = false;
      this.degradeReason = "";
      this.invalidation = { issued: false, reason: "" };
      this.recovery = { phase: "idle", targetLsn: 0n, achievedLsn: 0n, reason: "" };
      this.setBoundary({ targetLsn: 0n, achievedLsn: 0n });
      this.catchUps.clear();
      this.catchUpLatch.clear();
      this.rebuildLatch.clear();
    }
    issueHostSetup(
      {
        volumeId: v,
        epoch: this.epoch,
        role: this.role,
        recoveryTarget: this.recoveryTarget,
        desired: this.desired,
        readiness: this.readiness,
      },
      this.setupLatches,
      commands,
    );
    reconcileRecoveryTasks(v, this.epoch, this.recoveryTarget, this.desired, this.taskLatch, commands);
  }

  // ---- recovery observations (§6.3) --------------------------------------------------------------

  private onCatchUpPlanned(r: Resolution, targetLsn: Lsn, commands: CoreCommand[]): void {
    if (r.kind === "unknown") return;
    if (r.kind === "resolved") {
      this.catchUps.plan(r.id, targetLsn);
      const agg = this.catchUps.aggregate();
      this.recovery = { phase: "catching_up", reason: "", targetLsn: agg.target, achievedLsn: agg.achieved };
      this.setBoundary({ targetLsn: agg.target, achievedLsn: agg.achieved });
      if (targetLsn > 0n && this.catchUpLatch.get(r.id) !== targetLsn) {
        commands.push({ type: "start_catchup", volumeId: this.volumeId, replicaId: r.id, targetLsn });
        this.catchUpLatch.set(r.id, targetLsn);
      }
      return;
    }
    this.recovery = {
      phase: "catching_up",
      reason: "",
      achievedLsn: 0n,
      targetLsn: maxLsn(this.recovery.targetLsn, targetLsn),
    };
    this.setBoundary({ achievedLsn: 0n, targetLsn: maxLsn(this.boundary.targetLsn, targetLsn) });
  }

  private onProgress(r: Resolution, achievedLsn: Lsn): void {
    if (r.kind === "unknown") return;
    if (r.kind === "resolved" && this.catchUps.progress(r.id, achievedLsn)) {
      const agg = this.catchUps.aggregate();
      this.recovery = { ...this.recovery, achievedLsn: agg.achieved };
      this.setBoundary({ achievedLsn: agg.achieved });
      return;
    }
    this.recovery = { ...this.recovery, achievedLsn: maxLsn(this.recovery.achievedLsn, achievedLsn) };
    this.setBoundary({ achievedLsn: maxLsn(this.boundary.achievedLsn, achievedLsn) });
  }

  private onCatchUpCompleted(r: Resolution, achievedLsn: Lsn): void {
    if (r.kind === "unknown") return;
    if (r.kind === "resolved" && this.catchUps.complete(r.id, achievedLsn)) {
      const agg = this.catchUps.aggregate();
      this.setBoundary({ targetLsn: agg.target, achievedLsn: agg.achieved });
      if (agg.allDone) {
        this.setBoundary({ durableLsn: maxLsn(this.boundary.durableLsn, agg.achieved) });
        this.recovery = { phase: "idle", reason: "", targetLsn: agg.target, achievedLsn: agg.achieved };
        this.catchUpLatch.clear();
        this.catchUps.clear();
      } else {
        this.recovery = {
          ...this.recovery,
          phase: "catching_up",
          targetLsn: agg.target,
          achievedLsn: agg.achieved,
        };
      }
      return;
    }
    this.recovery = {
      ...this.recovery,
      phase: "idle",
      achievedLsn: maxLsn(this.recovery.achievedLsn, achievedLsn),
    };
    this.setBoundary({
      achievedLsn: maxLsn(this.boundary.achievedLsn, achievedLsn),
      durableLsn: maxLsn(this.boundary.durableLsn, achievedLsn),
    });
    this.catchUpLatch.clear();
  }

  private onRebuildCommitted(ev: Extract<CoreEvent, { type: "rebuild_committed" }>): void {
    this.needsRebuild = false;
    this.rebuildReason = "";
    this.degraded = false;
    this.degradeReason = "";
    this.invalidation = { issued: false, reason: "" };
    const achieved = ev.achievedLsn > 0n ? ev.achievedLsn : maxLsn(ev.flushedLsn, ev.checkpointLsn);
    this.recovery = {
      ...this.recovery,
      phase: "idle",
      reason: "",
      achievedLsn: maxLsn(this.recovery.achievedLsn, achieved),
    };
    this.setBoundary({
      durableLsn: maxLsn(this.boundary.durableLsn, ev.flushedLsn),
      checkpointLsn: maxLsn(this.boundary.checkpointLsn, ev.checkpointLsn),
      achievedLsn: maxLsn(this.boundary.achievedLsn, achieved),
    });
    this.rebuildLatch.clear();
  }

  // ---- helpers -----------------------------------------------------------------------------------

  /** Invalidate only on a new failure transition (same reason twice ⇒ one command). */
  private invalidate(replicaId: string, reason: string, commands: CoreCommand[]): void {
    if (this.invalidation.issued && this.invalidation.reason === reason) return;
    commands.push({ type: "invalidate_session", volumeId: this.volumeId, replicaId, reason });
    this.invalidation = { issued: true, reason };
  }

  private resolve(replicaId: string | undefined): Resolution {
    return resolveReplica(this.desired, replicaId);
  }

  private setBoundary(patch: Partial<Boundary>): void {
    this.boundary = { ...this.boundary, ...patch };
  }

  private recompute(): void {
    this.readiness = {
      ...this.readiness,
      replicaReady: this.role === "replica" && this.readiness.roleApplied && this.readiness.receiverReady,
    };
    const out = recomputeMode({
      role: this.role,
      readiness: this.readiness,
      boundary: this.boundary,
      recovery: this.recovery,
      hasReplicas: this.desired.length > 0,
      needsRebuild: this.needsRebuild,
      rebuildReason: this.rebuildReason,
      degraded: this.degraded,
      degradeReason: this.degradeReason,
      recoveryTarget: this.recoveryTarget,
    });
    this.mode = out.mode;
    this.publication = out.publication;
  }

  private project(): PublicationProjection {
    return Object.freeze({
      volumeId: this.volumeId,
      epoch: this.epoch,
      role: this.role,
      mode: Object.freeze(this.mode),
      publication: Object.freeze(this.publication),
      recovery: Object.freeze(this.recovery),
      readiness: Object.freeze(this.readiness),
      boundary: Object.freeze(this.boundary),
      replicaIds: Object.freeze(this.desired.map((d) => d.replicaId)),
    });
  }
}
