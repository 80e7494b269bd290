// Plan-bound, host-driven execution of a catch-up, resync or rebuild. The host streams the
// data and reports each observation; these objects apply it to the session, re-checking before every
// step that the session is still the plan's own (async I/O can interleave with invalidation).
// Executors use plan values only (never re-read history) and release the plan's pins on every exit.
// REF-QUIRK decided: a failed catch-up ENDS its session (the reference leaves it active and the live
// tail gated until something else invalidates it).
import type { BudgetViolation } from "./budget";
import type { RecoveryLog } from "./log";
import type { CatchUpPlan, RebuildPlan, ResyncPlan, RetentionPort } from "./planner";
import type { Registry } from "./registry";
import type { Sender } from "./sender";
import { type Lsn, ProtocolError, type ReplicaState, type TimeMs } from "./types";

export type ExecutionStatus =
  | "pending"
  | "running"
  | "completed"
  | "escalated"
  | "failed"
  | "cancelled"
  | "superseded";

export interface StepResult {
  readonly status: ExecutionStatus;
  readonly error: string | null;
  readonly violation: BudgetViolation | null;
}

const RUNNING: StepResult = Object.freeze({ status: "running", error: null, violation: null });

abstract class Execution {
  protected statusValue: ExecutionStatus = "pending";
  protected readonly registry: Registry;
  protected readonly log: RecoveryLog;
  protected abstract readonly plan: CatchUpPlan | RebuildPlan | ResyncPlan;

  constructor(registry: Registry, log: RecoveryLog) {
    this.registry = registry;
    this.log = log;
  }

  get status(): ExecutionStatus {
    return this.statusValue;
  }

  get finished(): boolean {
    return this.statusValue !== "pending" && this.statusValue !== "running";
  }

  /** The target the plan announced to the volume core. */
  get plannedTargetLsn(): Lsn {
    return this.plan.targetLsn;
  }

  /** Stop: release pins and end the session if it is still ours. */
  cancel(reason: string): StepResult {
    if (this.finished) return this.result(null, null);
    const sender = this.ownSender();
    if (sender !== null) sender.invalidateSession(reason, "disconnected");
    return this.finish("cancelled", reason, null);
  }

  /** The host's data path failed (I/O error, disconnect…): the attempt is over. */
  fail(reason: string): StepResult {
    if (this.finished) return this.result(null, null);
    return this.endWithFailure(reason, this.failureState());
  }

  protected abstract failureState(): ReplicaState;

  /** The sender, if the plan's session is still its current one; otherwise finishes as superseded. */
  protected ownSender(): Sender | null {
    const sender = this.registry.get(this.plan.replicaId);
    if (sender === undefined || sender.sessionId !== this.plan.sessionId || !sender.hasActiveSession())
      return null;
    return sender;
  }

  /** Runs a step against the session; a protocol rejection ends the attempt. */
  protected step(run: (sender: Sender) => StepResult | undefined): StepResult {
    if (this.finished) return this.result("execution finished", null);
    const sender = this.ownSender();
    if (sender === null) return this.finish("superseded", "session_superseded", null);
    try {
      return run(sender) ?? RUNNING;
    } catch (err) {
      if (err instanceof ProtocolError) return this.endWithFailure(err.code, this.failureState());
      throw err;
    }
  }

  protected endWithFailure(reason: string, state: ReplicaState): StepResult {
    this.ownSender()?.invalidateSession(reason, state);
    this.log.record(this.plan.replicaId, "exec_failed", reason);
    return this.finish("failed", reason, null);
  }

  protected finish(
    status: ExecutionStatus,
    error: string | null,
    violation: BudgetViolation | null,
  ): StepResult {
    this.statusValue = status;
    const released = this.plan.pins.releaseAll();
    this.log.record(this.plan.replicaId, "exec_resources_released", `${status} pins=${released}`);
    return this.result(error, violation);
  }

  protected result(error: string | null, violation: BudgetViolation | null): StepResult {
    return { status: this.statusValue, error, violation };
  }

  /** A budget violation already ended the session (the sender chose the state): finish with it. */
  protected checkBudgetOn(sender: Sender, nowMs: TimeMs, status: ExecutionStatus): StepResult | undefined {
    const violation = sender.checkBudget(this.plan.sessionId, nowMs);
    if (violation === null) return undefined;
    this.log.record(this.plan.replicaId, "budget_escalated", violation);
    return this.finish(status, `budget_${violation}`, violation);
  }
}

export class CatchUpExecution extends Execution {
  protected readonly plan: CatchUpPlan;

  constructor(registry: Registry, log: RecoveryLog, plan: CatchUpPlan) {
    super(registry, log);
    this.plan = plan;
  }

  protected failureState(): ReplicaState {
    return "disconnected";
  }

  start(nowMs: TimeMs): StepResult {
    if (this.statusValue !== "pending") return this.result("already started", null);
    return this.step((sender) => {
      sender.beginCatchUp(this.plan.sessionId, nowMs);
      this.statusValue = "running";
      this.log.record(
        this.plan.replicaId,
        "exec_catchup_started",
        `${this.plan.startLsn}→${this.plan.targetLsn}`,
      );
      return undefined;
    });
  }

  /** The replica durably holds everything up to `lsn`. */
  progress(lsn: Lsn, nowMs: TimeMs): StepResult {
    return this.step((sender) => {
      sender.recordCatchUpProgress(this.plan.sessionId, lsn, nowMs);
      return this.checkBudgetOn(sender, nowMs, "escalated");
    });
  }

  /** Budget tick without progress (stall / duration detection). */
  tick(nowMs: TimeMs): StepResult {
    if (this.statusValue !== "running") return this.result(null, null);
    return this.step((sender) => this.checkBudgetOn(sender, nowMs, "escalated"));
  }

  complete(): StepResult {
    return this.step((sender) => {
      if (!sender.completeSessionById(this.plan.sessionId)) {
        this.log.record(this.plan.replicaId, "completion_rejected");
        return this.endWithFailure("completion_rejected", "disconnected");
      }
      this.log.record(this.plan.replicaId, "exec_completed", `target=${this.plan.targetLsn}`);
      return this.finish("completed", null, null);
    });
  }
}

/**
 * A changed-block resync: phase transfer (the host sends the blocks, pass after pass; no budget),
 * then, once committed, phase catchup from the replica's new base to the frozen consistent LSN, fed
 * and completed exactly like a catch-up. Its WAL pin is taken at the commit (from the base). Every
 * failure leaves the sender disconnected: the replica's resync marker survives, so the host's retry
 * plans a resync again.
 */
export class ResyncExecution extends Execution {
  protected readonly plan: ResyncPlan;
  private readonly port: RetentionPort;

  constructor(registry: Registry, log: RecoveryLog, plan: ResyncPlan, port: RetentionPort) {
    super(registry, log);
    this.plan = plan;
    this.port = port;
  }

  protected failureState(): ReplicaState {
    return "disconnected";
  }

  start(): StepResult {
    if (this.statusValue !== "pending") return this.result("already started", null);
    return this.step((sender) => {
      sender.beginResync(this.plan.sessionId);
      this.statusValue = "running";
      this.log.record(this.plan.replicaId, "exec_resync_started", `fork=${this.plan.forkLsn}`);
      return undefined;
    });
  }

  transferProgress(pass: number, blocksLeft: bigint): StepResult {
    return this.step((sender) => {
      sender.recordResyncProgress(this.plan.sessionId, pass, blocksLeft);
      return undefined;
    });
  }

  /** The replica committed: its log ends at baseLsn; the catch-up to consistentLsn begins. */
  committed(baseLsn: Lsn, consistentLsn: Lsn, nowMs: TimeMs): StepResult {
    return this.step((sender) => {
      const done = sender.commitResync(this.plan.sessionId, baseLsn, consistentLsn, nowMs);
      this.log.record(
        this.plan.replicaId,
        "exec_resync_committed",
        `base=${baseLsn} consistent=${consistentLsn}`,
      );
      if (done) {
        this.log.record(this.plan.replicaId, "exec_resync_completed", `target=${consistentLsn}`);
        return this.finish("completed", null, null);
      }
      const pinned = this.port.pinWal(this.plan.replicaId, baseLsn);
      if (!pinned.ok) return this.endWithFailure(`wal_pin_failed: ${pinned.reason}`, "disconnected");
      this.plan.pins.add(pinned.pin);
      return undefined;
    });
  }

  /** Catch-up phase: the replica durably holds everything up to `lsn`. */
  progress(lsn: Lsn, nowMs: TimeMs): StepResult {
    return this.step((sender) => {
      sender.recordCatchUpProgress(this.plan.sessionId, lsn, nowMs);
      return this.checkBudgetOn(sender, nowMs, "failed");
    });
  }

  /** Budget tick: only the catch-up phase has a (stall/duration) budget. */
  tick(nowMs: TimeMs): StepResult {
    if (this.statusValue !== "running") return this.result(null, null);
    return this.step((sender) => this.checkBudgetOn(sender, nowMs, "failed"));
  }

  complete(): StepResult {
    return this.step((sender) => {
      const target = sender.sessionSnapshot()!.frozenTargetLsn;
      if (!sender.completeSessionById(this.plan.sessionId)) {
        this.log.record(this.plan.replicaId, "completion_rejected");
        return this.endWithFailure("completion_rejected", "disconnected");
      }
      this.log.record(this.plan.replicaId, "exec_resync_completed", `target=${target}`);
      return this.finish("completed", null, null);
    });
  }
}
export class RebuildExecution extends Execution {
  protected readonly plan: RebuildPlan;

  constructor(registry: Registry, log: RecoveryLog, plan: RebuildPlan) {
    super(registry, log);
    this.plan = plan;
  }

  protected failureState(): ReplicaState {
    return "needs_rebuild";
  }

  /** Connect, handshake (0, target) and select the plan's source (never re-read from storage). */
  start(): StepResult {
    if (this.statusValue !== "pending") return this.result("already started", null);
    return this.step((sender) => {
      const id = this.plan.sessionId;
      sender.beginConnect(id);
      sender.recordHandshake(id, 0n, this.plan.targetLsn);
      sender.selectRebuildSource(
        id,
        this.plan.snapshotLsn,
        this.plan.source === "snapshot_tail",
        this.plan.targetLsn,
      );
      sender.beginRebuildTransfer(id);
      this.statusValue = "running";
      this.log.record(
        this.plan.replicaId,
        "exec_rebuild_started",
        `${this.plan.source} target=${this.plan.targetLsn}`,
      );
      return undefined;
    });
  }

  transferProgress(lsn: Lsn): StepResult {
    return this.step((sender) => {
      sender.recordRebuildTransferProgress(this.plan.sessionId, lsn);
      return undefined;
    });
  }

  beginTailReplay(): StepResult {
    return this.step((sender) => {
      sender.beginRebuildTailReplay(this.plan.sessionId);
      return undefined;
    });
  }

  tailProgress(lsn: Lsn): StepResult {
    return this.step((sender) => {
      sender.recordRebuildTailProgress(this.plan.sessionId, lsn);
      return undefined;
    });
  }

  /** Returns the achieved LSN on success (may exceed the target for a full base). */
  complete(): StepResult & { readonly achievedLsn: Lsn } {
    let achieved = 0n;
    const r = this.step((sender) => {
      achieved = sender.completeRebuild(this.plan.sessionId);
      this.log.record(this.plan.replicaId, "exec_rebuild_completed", `achieved=${achieved}`);
      return this.finish("completed", null, null);
    });
    return { ...r, achievedLsn: achieved };
  }
}
