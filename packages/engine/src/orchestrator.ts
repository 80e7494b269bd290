// Assignment entry, connect + handshake from retained history, and a log line for every lifecycle
// step. Pure: history and time arrive as arguments.

import { decideRecovery, type RecoveryDecision, type ResyncFacts } from "./decide";
import { type LogEventName, RecoveryLog } from "./log";
import { type RecoverabilityProof, type RetainedHistory, recoveryFacts } from "./recoverability";
import type { AssignmentIntent, AssignmentResult, Registry } from "./registry";
import type { Sender } from "./sender";
import {
  type Epoch,
  type Lsn,
  ProtocolError,
  type RecoveryOutcome,
  type ReplicaState,
  type SessionId,
  type SessionKind,
  type TimeMs,
} from "./types";

export interface RecoveryResult {
  readonly replicaId: string;
  readonly sessionId: SessionId;
  readonly outcome: RecoveryOutcome | null;
  readonly proof: RecoverabilityProof | null;
  readonly finalState: ReplicaState | null;
  readonly error: string | null;
  /** The decider's plan (null on error). */
  readonly decision: RecoveryDecision | null;
}

export interface CompleteCatchUpOptions {
  readonly targetLsn?: Lsn;
  readonly startMs?: TimeMs;
  readonly completeMs?: TimeMs;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class RecoveryOrchestrator {
  readonly registry: Registry;
  readonly log: RecoveryLog;

  constructor(registry: Registry, log: RecoveryLog = new RecoveryLog()) {
    this.registry = registry;
    this.log = log;
  }

  processAssignment(intent: AssignmentIntent): AssignmentResult {
    const before = new Map<
      string,
      { sessionId: SessionId; dataAddr: string; ctrlAddr: string; version: number }
    >();
    for (const r of intent.replicas) {
      const s = this.registry.get(r.replicaId);
      if (s !== undefined && s.sessionId !== 0)
        before.set(r.replicaId, { sessionId: s.sessionId, ...s.endpoint });
    }
    const result = this.registry.applyAssignment(intent);
    for (const id of result.added) this.log.record(id, "sender_added");
    for (const id of result.removed) this.log.record(id, "sender_removed");
    for (const id of result.invalidated) {
      const old = before.get(id);
      const now = this.registry.get(id);
      const moved =
        old !== undefined &&
        now !== undefined &&
        (old.dataAddr !== now.endpoint.dataAddr ||
          old.ctrlAddr !== now.endpoint.ctrlAddr ||
          old.version !== now.endpoint.version);
      this.log.record(
        id,
        "session_invalidated",
        moved ? "endpoint_changed" : `epoch_advanced_to_${intent.epoch}`,
      );
    }
    for (const id of result.sessionsCreated) this.log.record(id, "session_created", this.sessionDetail(id));
    for (const id of result.sessionsSuperseded)
      this.log.record(id, "session_superseded", this.sessionDetail(id));
    for (const id of result.sessionsFailed) this.log.record(id, "session_failed", `epoch=${intent.epoch}`);
    for (const id of result.sessionsUnchanged) this.log.record(id, "session_unchanged");
    return result;
  }

  /** Raises one sender's epoch; logs if that killed its session. */
  updateSenderEpoch(replicaId: string, epoch: Epoch): boolean {
    const killed = this.registry.get(replicaId)?.updateEpoch(epoch) ?? false;
    if (killed) this.log.record(replicaId, "session_invalidated", `epoch_advanced_to_${epoch}`);
    return killed;
  }

  /** Registry-wide sweep; does not raise sender epochs (pair with updateSenderEpoch). */
  invalidateEpoch(epoch: Epoch): number {
    const hit = this.registry.invalidateEpoch(epoch);
    for (const id of hit) this.log.record(id, "session_invalidated", `epoch_bump_to_${epoch}`);
    return hit.length;
  }

  /** Operator-driven recovery (Control.StartRecovery): always a fresh session of the given kind. */
  startRecovery(replicaId: string, kind: SessionKind, reason = "operator_start_recovery"): SessionId {
    const sender = this.requireSender(replicaId);
    const id = sender.supersedeSession(kind, reason, this.registry.sessionOptionsFor(kind));
    if (id === 0) throw new ProtocolError("sender_stopped");
    this.log.record(replicaId, "session_created", `session=${id} kind=${kind} reason=${reason}`);
    return id;
  }

  /**
   * Connect and handshake the current session against retained history with the replica's REAL durable
   * LSN (and the histories' resync facts, if the peers exchanged them). zero_gap completes at once;
   * catchup and resync leave the session in handshake; needs_rebuild escalates.
   */
  executeRecovery(
    replicaId: string,
    replicaFlushedLsn: Lsn,
    history: RetainedHistory,
    expectedSessionId?: SessionId,
    resync?: ResyncFacts,
  ): RecoveryResult {
    const sender = this.registry.get(replicaId);
    const sessionId = sender?.sessionId ?? 0;
    const fail = (event: LogEventName, error: string): RecoveryResult => {
      this.log.record(replicaId, event, error);
      return {
        replicaId,
        sessionId,
        outcome: null,
        proof: null,
        finalState: sender?.state ?? null,
        error,
        decision: null,
      };
    };
    if (sender === undefined) return fail("connect_failed", "unknown_replica");
    if (sessionId === 0) return fail("connect_failed", "no_active_session");
    if (expectedSessionId !== undefined && expectedSessionId !== sessionId) {
      return fail("connect_failed", `session_id_mismatch: ${expectedSessionId} != ${sessionId}`);
    }
    // The session is the sender's current, active one here, so connecting cannot be refused.
    if (sender.sessionSnapshot()?.phase === "init") sender.beginConnect(sessionId);
    this.log.record(replicaId, "connected", `session=${sessionId}`);
    const decision = decideRecovery(recoveryFacts(history, replicaFlushedLsn, resync));
    const proof = { recoverable: decision.kind !== "needs_rebuild", reason: decision.reason };
    let outcome: RecoveryOutcome;
    try {
      outcome = sender.recordHandshakeDecision(sessionId, decision);
    } catch (err) {
      return fail("handshake_failed", errorText(err));
    }
    this.log.record(replicaId, "handshake", `outcome=${outcome} ${proof.reason}`);
    if (outcome === "needs_rebuild") {
      this.log.record(replicaId, "escalated", proof.reason);
    } else if (outcome === "zero_gap") {
      sender.completeSessionById(sessionId);
      this.log.record(replicaId, "completed", "zero_gap");
    }
    return { replicaId, sessionId, outcome, proof, finalState: sender.state, error: null, decision };
  }

  /** Test convenience (reference `CompleteCatchUp`): run the current catch-up session to completion. */
  completeCatchUp(replicaId: string, options: CompleteCatchUpOptions = {}): void {
    const sender = this.requireSender(replicaId);
    const id = sender.sessionId;
    sender.beginCatchUp(id, options.startMs ?? 0);
    const snap = sender.sessionSnapshot()!;
    const target = options.targetLsn ?? snap.targetLsn;
    if (target > snap.recoveredTo) sender.recordCatchUpProgress(id, target, options.completeMs);
    if (options.completeMs !== undefined && options.completeMs > 0) {
      const violation = sender.checkBudget(id, options.completeMs);
      if (violation !== null) {
        this.log.record(replicaId, "budget_escalated", violation);
        throw new ProtocolError("invalid_phase", `budget_${violation}`);
      }
    }
    if (!sender.completeSessionById(id)) {
      this.log.record(replicaId, "completion_rejected");
      throw new ProtocolError("invalid_phase", "completion rejected");
    }
    this.log.record(replicaId, "completed", "in_sync");
  }

  /** Test convenience (reference `CompleteRebuild`): run the current rebuild session from history. */
  completeRebuild(replicaId: string, history: RetainedHistory): Lsn {
    const sender = this.requireSender(replicaId);
    const id = sender.sessionId;
    sender.beginConnect(id);
    this.log.record(replicaId, "connected", `session=${id}`);
    sender.recordHandshake(id, 0n, history.committedLsn);
    sender.selectRebuildFromHistory(id, history);
    sender.beginRebuildTransfer(id);
    const rebuild = sender.sessionSnapshot()!.rebuild!;
    if (rebuild.source === "snapshot_tail") {
      sender.recordRebuildTransferProgress(id, rebuild.snapshotLsn);
      sender.beginRebuildTailReplay(id);
      if (history.committedLsn > rebuild.snapshotLsn)
        sender.recordRebuildTailProgress(id, history.committedLsn);
    } else {
      sender.recordRebuildTransferProgress(id, history.committedLsn);
    }
    const achieved = sender.completeRebuild(id);
    this.log.record(replicaId, "rebuild_completed", "in_sync");
    return achieved;
  }

  private requireSender(replicaId: string): Sender {
    const sender = this.registry.get(replicaId);
    if (sender === undefined) throw new ProtocolError("unknown_replica", replicaId);
    return sender;
  }

  private sessionDetail(replicaId: string): string {
    const snap = this.registry.get(replicaId)?.sessionSnapshot();
    return snap ? `session=${snap.id} kind=${snap.kind}` : "";
  }
}
