// VolumeEngine: the one entry point the agent hosts per volume (etcd-raft style: events in, commands
// out). It composes the per-volume registry + orchestrator + planner (sender/session layer) with the
// volume core, so the host never has to glue them itself. Deterministic: time arrives in events.

import { VolumeCore } from "./core";
import type { CoreEvent, PublicationProjection } from "./core-types";
import { needsRebuildSessionReason } from "./decide";
import { RejectedEvent, TrackedAttempts } from "./engine-attempts";
import { routeCoreCommand } from "./engine-routing";
import type { EngineCommand, EngineEvent, EngineOutput, VolumeEngineOptions } from "./engine-types";
import { CatchUpExecution, RebuildExecution, ResyncExecution, type StepResult } from "./execution";
import { deriveVolumeExecutionState, type VolumeExecutionState } from "./execution-state";
import { SessionIdSource } from "./identity";
import { RecoveryLog } from "./log";
import { RecoveryOrchestrator } from "./orchestrator";
import { RecoveryPlanner } from "./planner";
import { Registry } from "./registry";
import type { SenderSnapshot } from "./sender";
import { checkEventBounds, coalescePublishes, observationToCore, translateAssignment } from "./translate";
import { type Epoch, ProtocolError } from "./types";

export interface VolumeEngineSnapshot {
  readonly volumeId: string;
  readonly epoch: Epoch;
  readonly senders: readonly SenderSnapshot[];
  readonly projection: PublicationProjection;
  readonly execution: VolumeExecutionState;
}

export class VolumeEngine {
  readonly volumeId: string;
  readonly registry: Registry;
  readonly orchestrator: RecoveryOrchestrator;
  readonly planner: RecoveryPlanner;
  readonly core: VolumeCore;
  private epoch: Epoch = 0n;
  /** Sessions the host is working on (connect, catch-up or rebuild), per replica. */
  private readonly tracked: TrackedAttempts;
  private out: EngineCommand[] = [];

  constructor(options: VolumeEngineOptions) {
    this.volumeId = options.volumeId;
    this.registry = new Registry(
      options.volumeId,
      options.ids ?? new SessionIdSource(),
      options.catchUpBudget === undefined ? {} : { budget: options.catchUpBudget },
    );
    this.orchestrator = new RecoveryOrchestrator(this.registry, new RecoveryLog(options.logCapacity));
    this.planner = new RecoveryPlanner(this.orchestrator, options.retention);
    this.core = new VolumeCore(options.volumeId);
    this.tracked = new TrackedAttempts(this.registry);
  }

  get log(): RecoveryLog {
    return this.orchestrator.log;
  }

  snapshot(): VolumeEngineSnapshot {
    const senders = this.registry.snapshot();
    return Object.freeze({
      volumeId: this.volumeId,
      epoch: this.epoch,
      senders: Object.freeze(senders),
      projection: this.core.projection(),
      execution: deriveVolumeExecutionState(this.volumeId, senders),
    });
  }

  apply(event: EngineEvent): EngineOutput {
    this.out = [];
    let rejected: string | null = null;
    try {
      checkEventBounds(event);
      this.dispatch(event);
    } catch (err) {
      if (!(err instanceof RejectedEvent || err instanceof ProtocolError)) throw err;
      rejected = err.message;
    }
    this.reap(event.type);
    this.clearRecoveredNeedsRebuild();
    const commands = coalescePublishes(this.out);
    this.out = [];
    const snap = this.snapshot();
    return Object.freeze({
      commands: Object.freeze(commands),
      projection: snap.projection,
      execution: snap.execution,
      rejected,
    });
  }

  private dispatch(ev: EngineEvent): void {
    const observed = observationToCore(ev);
    if (observed !== null) {
      this.feed(observed);
      return;
    }
    switch (ev.type) {
      case "assignment":
        this.onAssignment(ev);
        break;
      case "handshake":
        this.onHandshake(ev);
        break;
      case "catchup_progress":
      case "catchup_done":
        this.onCatchUpEvent(ev);
        break;
      case "truncation_done":
      case "truncation_unsafe":
        // No plan truncates any more (a replica ahead is resynced): nothing to apply.
        throw new RejectedEvent(`truncation_not_supported: session ${ev.sessionId}`);
      case "resync_progress":
      case "resync_committed":
        this.onResyncEvent(ev);
        break;
      case "rebuild_progress":
      case "rebuild_done":
        this.onRebuildEvent(ev);
        break;
      case "recovery_failed": {
        const t = this.tracked.of(ev.replicaId, ev.sessionId);
        this.tracked.hostEnded(ev.replicaId);
        if (t.exec !== null) this.afterStep(ev.replicaId, t.exec.fail(ev.reason));
        else this.registry.get(ev.replicaId)?.invalidateSession(ev.reason, "disconnected");
        break;
      }
      case "replica_needs_rebuild": {
        const sender = this.registry.get(ev.replicaId);
        if (sender === undefined) throw new RejectedEvent(`unknown_replica ${ev.replicaId}`);
        // reap() then stops the host's work for the session and releases its pins.
        sender.invalidateSession(ev.reason, "needs_rebuild");
        this.feed({ type: "needs_rebuild_observed", replicaId: ev.replicaId, reason: ev.reason });
        break;
      }
      case "budget_tick":
        for (const id of this.tracked.replicaIds()) {
          const exec = this.tracked.get(id)!.exec;
          if (exec instanceof CatchUpExecution || exec instanceof ResyncExecution)
            this.afterStep(id, exec.tick(ev.nowMs));
        }
        break;
      case "epoch_bump":
        if (ev.epoch > this.epoch) this.epoch = ev.epoch;
        this.orchestrator.invalidateEpoch(ev.epoch);
        for (const s of this.registry.all()) this.orchestrator.updateSenderEpoch(s.replicaId, ev.epoch);
        break;
      case "start_recovery":
        // The decider plans a resync at the handshake; an operator asks for a catch-up (or rebuild).
        if (ev.kind === "resync") throw new RejectedEvent("resync_is_planned_at_handshake: start a catchup");
        this.orchestrator.startRecovery(ev.replicaId, ev.kind);
        this.beginRecovery(ev.replicaId);
        break;
      case "cancel_recovery": {
        const sender = this.registry.get(ev.replicaId);
        if (sender === undefined) throw new RejectedEvent(`unknown_replica ${ev.replicaId}`);
        sender.invalidateSession(ev.reason, "disconnected");
        break;
      }
      default:
        // Only the plain observations reach here, and observationToCore handled them above.
        throw new Error(`unrouted engine event ${ev.type}`);
    }
  }

  private onCatchUpEvent(ev: Extract<EngineEvent, { type: "catchup_progress" | "catchup_done" }>): void {
    const exec = this.tracked.catchUpOf(ev.replicaId, ev.sessionId);
    let r: StepResult;
    if (ev.type === "catchup_progress") {
      r = exec.progress(ev.durableLsn, ev.nowMs);
      if (r.status === "running") {
        this.feed({
          type: "recovery_progress_observed",
          replicaId: ev.replicaId,
          achievedLsn: ev.durableLsn,
        });
      }
    } else {
      const target = this.registry.get(ev.replicaId)!.sessionSnapshot()!.frozenTargetLsn;
      this.tracked.hostEnded(ev.replicaId);
      r = exec.complete();
      if (r.status === "completed") {
        this.feed({ type: "catchup_completed", replicaId: ev.replicaId, achievedLsn: target });
      }
    }
    this.afterStep(ev.replicaId, r);
  }

  /** Resync transfer progress, and the commit that moves it to its catch-up phase. */
  private onResyncEvent(ev: Extract<EngineEvent, { type: "resync_progress" | "resync_committed" }>): void {
    const exec = this.tracked.resyncOf(ev.replicaId, ev.sessionId);
    if (ev.type === "resync_progress") {
      this.afterStep(ev.replicaId, exec.transferProgress(ev.pass, ev.blocksLeft));
      return;
    }
    const r = exec.committed(ev.baseLsn, ev.consistentLsn, ev.nowMs);
    if (r.status === "completed") {
      this.tracked.hostEnded(ev.replicaId);
      this.feed({ type: "catchup_completed", replicaId: ev.replicaId, achievedLsn: ev.consistentLsn });
    } else if (r.status === "running") {
      // The volume's recovery target is now the frozen consistent LSN.
      this.feed({ type: "catchup_planned", replicaId: ev.replicaId, targetLsn: ev.consistentLsn });
      this.emit({
        type: "start_catchup",
        volumeId: this.volumeId,
        replicaId: ev.replicaId,
        sessionId: ev.sessionId,
        fromLsn: ev.baseLsn,
        targetLsn: ev.consistentLsn,
        truncateToLsn: 0n,
      });
    }
    this.afterStep(ev.replicaId, r);
  }

  private onRebuildEvent(ev: Extract<EngineEvent, { type: "rebuild_progress" | "rebuild_done" }>): void {
    const exec = this.tracked.rebuildOf(ev.replicaId, ev.sessionId);
    if (ev.type === "rebuild_done") {
      this.tracked.hostEnded(ev.replicaId);
      const r = exec.complete();
      if (r.status === "completed") {
        this.feed({
          type: "rebuild_committed",
          replicaId: ev.replicaId,
          achievedLsn: r.achievedLsn,
          flushedLsn: ev.flushedLsn,
          checkpointLsn: ev.checkpointLsn,
        });
      }
      this.afterStep(ev.replicaId, r);
      return;
    }
    let r: StepResult;
    if (ev.stage === "base") {
      r = exec.transferProgress(ev.lsn);
    } else {
      const phase = this.registry.get(ev.replicaId)!.sessionSnapshot()!.rebuild!.phase;
      r = phase === "transfer" ? exec.beginTailReplay() : exec.tailProgress(ev.lsn);
      if (phase === "transfer" && r.status === "running") r = exec.tailProgress(ev.lsn);
    }
    if (r.status === "running") {
      this.feed({ type: "recovery_progress_observed", replicaId: ev.replicaId, achievedLsn: ev.lsn });
    }
    this.afterStep(ev.replicaId, r);
  }

  // ---- assignment ----------------------------------------------------------------------------------

  private onAssignment(ev: Extract<EngineEvent, { type: "assignment" }>): void {
    if (ev.epoch < this.epoch) throw new RejectedEvent(`epoch_regression: ${ev.epoch} < ${this.epoch}`);
    const t = translateAssignment(this.volumeId, ev.epoch, ev.role, ev.replicas);
    this.epoch = ev.epoch;
    const result = this.orchestrator.processAssignment(t.intent);
    if (t.coreEvent !== null) {
      this.feed(t.coreEvent);
      this.reannounceRunningRecoveries();
    }
    for (const id of [...result.sessionsCreated, ...result.sessionsSuperseded].sort()) this.beginRecovery(id);
  }

  /**
   * A new assignment resets the core's recovery view, but a catch-up or resync of a replica the
   * assignment kept (same epoch and endpoint) keeps running: announce it again, so the volume stays
   * recovering (never publish_healthy) until that session completes.
   */
  private reannounceRunningRecoveries(): void {
    for (const id of this.tracked.replicaIds()) {
      const { exec, sessionId } = this.tracked.get(id)!;
      if (!(exec instanceof CatchUpExecution || exec instanceof ResyncExecution) || exec.finished) continue;
      const snap = this.registry.get(id)?.sessionSnapshot();
      if (snap?.id !== sessionId || !snap.active) continue;
      const target = snap.frozenTargetLsn > 0n ? snap.frozenTargetLsn : exec.plannedTargetLsn;
      this.feed({ type: "catchup_planned", replicaId: id, targetLsn: target });
    }
  }

  /** A fresh session exists for the replica: a catch-up-like one needs a connection, a rebuild a plan. */
  private beginRecovery(replicaId: string): void {
    const sender = this.registry.get(replicaId)!;
    const snap = sender.sessionSnapshot()!;
    const old = this.tracked.get(replicaId);
    if (old !== undefined) {
      this.tracked.untrack(replicaId);
      old.exec?.cancel("superseded");
      this.emit({
        type: "stop_recovery",
        volumeId: this.volumeId,
        replicaId,
        sessionId: old.sessionId,
        reason: "superseded",
      });
    }
    if (snap.kind !== "rebuild") {
      sender.beginConnect(snap.id);
      this.tracked.set(replicaId, { sessionId: snap.id, exec: null });
      this.emit({
        type: "connect_replica",
        volumeId: this.volumeId,
        replicaId,
        sessionId: snap.id,
        endpoint: sender.endpoint,
      });
      return;
    }
    const planned = this.planner.planRebuild(replicaId);
    if (!planned.ok || planned.plan.kind !== "rebuild") {
      this.feed({
        type: "needs_rebuild_observed",
        replicaId,
        reason: planned.ok ? "rebuild_plan_invalid" : planned.error,
      });
      return;
    }
    const plan = planned.plan;
    const exec = new RebuildExecution(this.registry, this.log, plan);
    this.tracked.set(replicaId, { sessionId: plan.sessionId, exec });
    this.feed({ type: "rebuild_started", replicaId, targetLsn: plan.targetLsn });
    exec.start();
    this.emit({
      type: "start_rebuild",
      volumeId: this.volumeId,
      replicaId,
      sessionId: plan.sessionId,
      source: plan.source,
      snapshotLsn: plan.snapshotLsn,
      targetLsn: plan.targetLsn,
    });
  }

  // ---- catch-up ------------------------------------------------------------------------------------

  private onHandshake(ev: Extract<EngineEvent, { type: "handshake" }>): void {
    const t = this.tracked.of(ev.replicaId, ev.sessionId);
    if (t.exec !== null) throw new RejectedEvent(`handshake already done for session ${ev.sessionId}`);
    const planned = this.planner.planRecovery(ev.replicaId, ev.replicaDurableLsn, ev.sessionId, ev.resync);
    if (!planned.ok) return; // pin failure: the planner already ended the session; reap reports it
    const plan = planned.plan;
    if (plan.kind === "zero_gap") {
      this.tracked.hostEnded(ev.replicaId);
      // A retry that finds the replica already in sync closes the catch-up an earlier attempt planned.
      if (this.core.hasCatchUpPlan(ev.replicaId)) {
        this.feed({ type: "catchup_completed", replicaId: ev.replicaId, achievedLsn: ev.replicaDurableLsn });
      }
      return;
    }
    if (plan.kind === "needs_rebuild") {
      this.tracked.hostEnded(ev.replicaId);
      this.feed({
        type: "needs_rebuild_observed",
        replicaId: ev.replicaId,
        reason: needsRebuildSessionReason(plan.proof.reason),
      });
      return;
    }
    if (plan.kind === "resync") {
      const exec = new ResyncExecution(this.registry, this.log, plan, this.planner.port);
      t.exec = exec;
      // The volume is recovering until the resync's catch-up completes (the commit names its target).
      this.feed({ type: "catchup_planned", replicaId: ev.replicaId, targetLsn: plan.targetLsn });
      exec.start();
      this.emit({
        type: "start_resync",
        volumeId: this.volumeId,
        replicaId: ev.replicaId,
        sessionId: plan.sessionId,
        forkLsn: plan.forkLsn,
      });
      return;
    }
    if (plan.kind !== "catchup") throw new Error("planRecovery never returns a rebuild plan");
    const exec = new CatchUpExecution(this.registry, this.log, plan);
    t.exec = exec;
    this.feed({ type: "catchup_planned", replicaId: ev.replicaId, targetLsn: plan.targetLsn });
    exec.start(ev.nowMs);
    this.emit({
      type: "start_catchup",
      volumeId: this.volumeId,
      replicaId: ev.replicaId,
      sessionId: plan.sessionId,
      fromLsn: plan.startLsn,
      targetLsn: plan.targetLsn,
      truncateToLsn: 0n,
    });
  }

  /** Escalations feed the core; any end of the attempt stops tracking it. */
  private afterStep(replicaId: string, r: StepResult): void {
    const escalated = r.status === "escalated" || r.status === "failed";
    if (escalated && this.registry.get(replicaId)?.state === "needs_rebuild") {
      this.feed({ type: "needs_rebuild_observed", replicaId, reason: r.error ?? "needs_rebuild" });
    }
  }

  // ---- helpers -------------------------------------------------------------------------------------

  /**
   * After every event: any tracked attempt whose session is no longer the sender's current active one
   * is over. Release its pins and tell the host to stop. Pins are thus released on every exit path.
   */
  private reap(cause: string): void {
    for (const t of this.tracked.reap()) {
      this.emit({
        type: "stop_recovery",
        volumeId: this.volumeId,
        replicaId: t.replicaId,
        sessionId: t.sessionId,
        reason: `session_ended:${cause}`,
      });
    }
  }

  /**
   * A primary whose replicas needed rebuilds (done by the copies themselves, in role REBUILDING)
   * stops reporting needs_rebuild once every replica completed a session back to in_sync.
   */
  private clearRecoveredNeedsRebuild(): void {
    if (!this.core.projection().mode.name.startsWith("needs_rebuild")) return;
    const senders = this.registry.all();
    if (senders.length === 0 || senders.some((s) => s.state !== "in_sync")) return;
    this.feed({ type: "replicas_recovered" });
  }

  /** Feed the core; translate what it asks for into host commands or engine-internal actions. */
  private feed(event: CoreEvent): void {
    for (const c of this.core.apply(event).commands) {
      const forHost = routeCoreCommand(c, this.registry);
      if (forHost !== null) this.emit(forHost);
    }
  }

  private emit(c: EngineCommand): void {
    this.out.push(c);
  }
}
