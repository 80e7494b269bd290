// One Sender per stable replica ID: owns at most one active recovery session and fences every
// session-scoped call by session ID (engine-spec §1.3, §2.2, §3). Rejected calls throw a
// ProtocolError and change nothing. After every call the session is either absent or active.
import { type BudgetViolation, checkBudget } from "./budget";
import type { SessionIdSource } from "./identity";
import {
  classifyRecoveryOutcome,
  decideRebuildSource,
  type HandshakeResult,
  type RetainedHistory,
} from "./recoverability";
import { Session, type SessionOptions, type SessionSnapshot } from "./session";
import {
  assert,
  type Endpoint,
  type Epoch,
  endpointChanged,
  type Lsn,
  ProtocolError,
  type RecoveryOutcome,
  type ReplicaState,
  type SessionId,
  type SessionKind,
  type TimeMs,
} from "./types";

export interface SenderSnapshot {
  readonly replicaId: string;
  readonly state: ReplicaState;
  readonly epoch: Epoch;
  readonly endpoint: Endpoint;
  readonly stopped: boolean;
  readonly session: SessionSnapshot | null;
}

export class Sender {
  readonly replicaId: string;
  private currentState: ReplicaState = "disconnected";
  private currentEpoch: Epoch;
  private currentEndpoint: Endpoint;
  private isStopped = false;
  private session: Session | null = null;
  private readonly ids: SessionIdSource;

  constructor(replicaId: string, endpoint: Endpoint, epoch: Epoch, ids: SessionIdSource) {
    this.replicaId = replicaId;
    this.currentEndpoint = endpoint;
    this.currentEpoch = epoch;
    this.ids = ids;
  }

  get state(): ReplicaState {
    return this.currentState;
  }
  get epoch(): Epoch {
    return this.currentEpoch;
  }
  get endpoint(): Endpoint {
    return this.currentEndpoint;
  }
  get stopped(): boolean {
    return this.isStopped;
  }
  get sessionId(): SessionId {
    return this.session?.id ?? 0;
  }
  hasActiveSession(): boolean {
    return this.session?.active === true;
  }

  sessionSnapshot(): SessionSnapshot | null {
    return this.session === null ? null : this.session.snapshot();
  }

  snapshot(): SenderSnapshot {
    return Object.freeze({
      replicaId: this.replicaId,
      state: this.currentState,
      epoch: this.currentEpoch,
      endpoint: this.currentEndpoint,
      stopped: this.isStopped,
      session: this.sessionSnapshot(),
    });
  }

  // ---- session lifecycle -------------------------------------------------------------------------

  attachSession(epoch: Epoch, kind: SessionKind, options: SessionOptions = {}): SessionId {
    if (this.isStopped) throw new ProtocolError("sender_stopped");
    if (epoch !== this.currentEpoch) {
      throw new ProtocolError(
        "epoch_mismatch",
        `session epoch ${epoch} != sender epoch ${this.currentEpoch}`,
      );
    }
    if (this.session?.active) throw new ProtocolError("session_already_active", `session ${this.session.id}`);
    this.session = new Session(this.ids.next(), this.replicaId, epoch, kind, options);
    return this.session.id;
  }

  /** Replaces any current session with a new one at the sender's epoch. Returns 0 when stopped. */
  supersedeSession(kind: SessionKind, reason: string, options: SessionOptions = {}): SessionId {
    if (this.isStopped) return 0;
    this.session?.invalidate(reason);
    this.session = new Session(this.ids.next(), this.replicaId, this.currentEpoch, kind, options);
    return this.session.id;
  }

  /** Works even when stopped: tearing down is always allowed. */
  invalidateSession(reason: string, target: ReplicaState): void {
    this.detach(reason);
    this.currentState = target;
  }

  stop(): void {
    if (this.isStopped) return;
    this.isStopped = true;
    this.detach("sender_stopped");
  }

  /** Epochs only move up; a higher epoch kills the current session (it belongs to the old authority). */
  updateEpoch(epoch: Epoch): boolean {
    if (this.isStopped || epoch <= this.currentEpoch) return false;
    const old = this.currentEpoch;
    this.currentEpoch = epoch;
    if (this.session !== null) {
      this.detach(`epoch_advanced_${old}_to_${epoch}`);
      this.currentState = "disconnected";
      return true;
    }
    return false;
  }

  /** Same sender, new address; a session aimed at the old address is no longer valid. */
  updateEndpoint(endpoint: Endpoint): boolean {
    if (this.isStopped || !endpointChanged(this.currentEndpoint, endpoint)) return false;
    this.currentEndpoint = endpoint;
    if (this.session !== null) {
      this.detach("endpoint_changed");
      this.currentState = "disconnected";
      return true;
    }
    return false;
  }

  // ---- connection and handshake ------------------------------------------------------------------

  beginConnect(id: SessionId): void {
    const s = this.authorize(id);
    s.advance("connecting");
    this.currentState = "connecting";
  }

  recordHandshake(id: SessionId, startLsn: Lsn, targetLsn: Lsn): void {
    const s = this.authorize(id);
    if (s.phase !== "connecting") throw new ProtocolError("invalid_phase", `handshake in ${s.phase}`);
    if (targetLsn < startLsn)
      throw new ProtocolError("invalid_range", `target ${targetLsn} < start ${startLsn}`);
    s.advance("handshake");
    s.setRange(startLsn, targetLsn);
  }

  /**
   * Classifies the handshake and sets the range. A gap beyond retention is not an error: the session
   * ends, the sender waits for a rebuild assignment, and the outcome says so.
   */
  recordHandshakeWithOutcome(id: SessionId, handshake: HandshakeResult): RecoveryOutcome {
    const s = this.authorize(id);
    if (s.phase !== "connecting") throw new ProtocolError("invalid_phase", `handshake in ${s.phase}`);
    const outcome = classifyRecoveryOutcome(handshake);
    const f = handshake.replicaFlushedLsn;
    const c = handshake.committedLsn;
    if (outcome === "needs_rebuild") {
      this.invalidateSession("gap_exceeds_retention", "needs_rebuild");
      return outcome;
    }
    s.advance("handshake");
    if (f <= c) {
      s.setRange(f, c);
    } else {
      // The replica holds entries the primary never committed: it must cut back to C first.
      s.setRange(c, c);
      s.truncateRequired = true;
      s.truncateToLsn = c;
    }
    return outcome;
  }

  // ---- catch-up ----------------------------------------------------------------------------------

  beginCatchUp(id: SessionId, startMs: TimeMs = 0): void {
    const s = this.authorizeNonRebuild(id, "begin catch-up");
    if (s.phase !== "handshake") throw new ProtocolError("invalid_phase", `begin catch-up in ${s.phase}`);
    s.advance("catchup");
    s.frozenTargetLsn = s.targetLsn;
    s.startMs = startMs;
    s.lastProgressMs = startMs;
    this.currentState = "catching_up";
  }

  recordCatchUpProgress(id: SessionId, lsn: Lsn, nowMs?: TimeMs): void {
    const s = this.authorizeNonRebuild(id, "catch-up progress");
    if (s.phase !== "catchup") throw new ProtocolError("invalid_phase", `progress in ${s.phase}`);
    if (lsn <= s.recoveredTo) throw new ProtocolError("progress_regression", `${lsn} <= ${s.recoveredTo}`);
    if (s.frozenTargetLsn > 0n && lsn > s.frozenTargetLsn) {
      throw new ProtocolError("exceeds_frozen_target", `${lsn} > ${s.frozenTargetLsn}`);
    }
    if (s.budget !== null && s.budget.progressDeadlineMs > 0 && nowMs === undefined) {
      throw new ProtocolError("tick_required", "stall budget needs a timestamp on progress");
    }
    s.entriesReplayed += lsn - s.recoveredTo;
    s.recoveredTo = lsn;
    if (nowMs !== undefined) s.lastProgressMs = nowMs;
  }

  recordTruncation(id: SessionId, lsn: Lsn): void {
    const s = this.authorize(id);
    if (!s.truncateRequired) throw new ProtocolError("truncation_not_required");
    if (lsn !== s.truncateToLsn)
      throw new ProtocolError("truncation_lsn_mismatch", `${lsn} != ${s.truncateToLsn}`);
    s.truncateRecorded = true;
  }

  /** Completes a converged catch-up (or a zero-gap / truncation-only session straight from handshake). */
  completeSessionById(id: SessionId): boolean {
    const s = this.session;
    if (this.isStopped || s === null || s.id !== id || !s.active || s.kind === "rebuild") return false;
    if (s.truncateRequired && !s.truncateRecorded) return false;
    const converged =
      (s.phase === "catchup" && s.targetLsn > 0n && s.recoveredTo >= s.targetLsn) ||
      (s.phase === "handshake" && s.targetLsn === s.startLsn);
    if (!converged) return false;
    s.complete();
    this.session = null;
    this.currentState = "in_sync";
    return true;
  }

  /** A violation is an explicit escalation, never a silent continuation. */
  checkBudget(id: SessionId, nowMs: TimeMs): BudgetViolation | null {
    const s = this.authorize(id);
    if (s.budget === null) return null;
    const violation = checkBudget(
      s.budget,
      { startMs: s.startMs, entriesReplayed: s.entriesReplayed, lastProgressMs: s.lastProgressMs },
      nowMs,
    );
    if (violation !== null) this.invalidateSession(`budget_${violation}`, "needs_rebuild");
    return violation;
  }

  // ---- rebuild -----------------------------------------------------------------------------------

  selectRebuildSource(id: SessionId, snapshotLsn: Lsn, snapshotValid: boolean, committedLsn: Lsn): void {
    const s = this.authorizeRebuild(id);
    if (s.phase !== "handshake") throw new ProtocolError("invalid_phase", `select source in ${s.phase}`);
    this.rebuildOf(s).selectSource(snapshotLsn, snapshotValid, committedLsn);
  }

  selectRebuildFromHistory(id: SessionId, history: RetainedHistory): void {
    const decision = decideRebuildSource(history);
    this.selectRebuildSource(
      id,
      decision.snapshotLsn,
      decision.source === "snapshot_tail",
      decision.targetLsn,
    );
  }

  beginRebuildTransfer(id: SessionId): void {
    this.rebuildOf(this.authorizeRebuild(id)).beginTransfer();
  }

  recordRebuildTransferProgress(id: SessionId, lsn: Lsn): void {
    this.rebuildOf(this.authorizeRebuild(id)).recordTransferProgress(lsn);
  }

  beginRebuildTailReplay(id: SessionId): void {
    this.rebuildOf(this.authorizeRebuild(id)).beginTailReplay();
  }

  recordRebuildTailProgress(id: SessionId, lsn: Lsn): void {
    this.rebuildOf(this.authorizeRebuild(id)).recordTailProgress(lsn);
  }

  completeRebuild(id: SessionId): Lsn {
    const s = this.authorizeRebuild(id);
    const rebuild = this.rebuildOf(s);
    const achieved = rebuild.complete();
    s.recoveredTo = achieved;
    s.complete();
    this.session = null;
    this.currentState = "in_sync";
    return achieved;
  }

  // ---- guards ------------------------------------------------------------------------------------

  /** stopped → absent → ID mismatch → not active; the first failure wins. */
  private authorize(id: SessionId): Session {
    if (this.isStopped) throw new ProtocolError("sender_stopped");
    const s = this.session;
    if (s === null) throw new ProtocolError("no_active_session");
    if (s.id !== id) throw new ProtocolError("session_id_mismatch", `${id} != ${s.id}`);
    assert(s.active, "a terminal session must never stay attached");
    return s;
  }

  private authorizeNonRebuild(id: SessionId, what: string): Session {
    const s = this.authorize(id);
    if (s.kind === "rebuild") throw new ProtocolError("wrong_session_kind", `${what} on a rebuild session`);
    return s;
  }

  private authorizeRebuild(id: SessionId): Session {
    const s = this.authorize(id);
    if (s.kind !== "rebuild")
      throw new ProtocolError("wrong_session_kind", `rebuild step on a ${s.kind} session`);
    return s;
  }

  private rebuildOf(s: Session): NonNullable<Session["rebuild"]> {
    assert(s.rebuild !== null, "rebuild session without rebuild state");
    return s.rebuild;
  }

  private detach(reason: string): void {
    if (this.session === null) return;
    this.session.invalidate(reason);
    this.session = null;
  }
}
