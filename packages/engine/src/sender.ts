// One Sender per stable replica ID: owns at most one active recovery session and fences every
// session-scoped call by session ID. Rejected calls throw a
// ProtocolError and change nothing. After every call the session is either absent or active.
import { type BudgetViolation, checkBudget } from "./budget";
import { decideRecovery, needsRebuildSessionReason, type RecoveryDecision } from "./decide";
import type { SessionIdSource } from "./identity";
import {
  decideRebuildSource,
  factsFromHandshake,
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
   * Classifies the handshake (WAL facts only) and sets the range; see recordHandshakeDecision.
   * Kept for callers that have no resync facts.
   */
  recordHandshakeWithOutcome(id: SessionId, handshake: HandshakeResult): RecoveryOutcome {
    this.authorize(id);
    return this.recordHandshakeDecision(id, decideRecovery(factsFromHandshake(handshake)));
  }

  /**
   * Applies the decider's plan to the session. A plan that needs a rebuild is not an error: the
   * session ends and the sender waits in needs_rebuild. A resync turns the session into kind resync
   * (still in handshake); the executor starts its transfer.
   */
  recordHandshakeDecision(id: SessionId, decision: RecoveryDecision): RecoveryOutcome {
    const s = this.authorize(id);
    if (s.phase !== "connecting") throw new ProtocolError("invalid_phase", `handshake in ${s.phase}`);
    if (s.kind === "rebuild")
      throw new ProtocolError("wrong_session_kind", "handshake plan on a rebuild session");
    switch (decision.kind) {
      case "needs_rebuild": {
        this.invalidateSession(needsRebuildSessionReason(decision.reason), "needs_rebuild");
        break;
      }
      case "resync":
        s.becomeResync(decision.forkLsn);
        s.advance("handshake");
        break;
      case "catchup":
        if (decision.targetLsn < decision.startLsn)
          throw new ProtocolError(
            "invalid_range",
            `target ${decision.targetLsn} < start ${decision.startLsn}`,
          );
        s.advance("handshake");
        s.setRange(decision.startLsn, decision.targetLsn);
        break;
      case "zero_gap":
        s.advance("handshake");
        s.setRange(decision.lsn, decision.lsn);
        break;
    }
    return decision.kind;
  }

  // ---- catch-up ----------------------------------------------------------------------------------

  beginCatchUp(id: SessionId, startMs: TimeMs = 0): void {
    const s = this.authorizeNonRebuild(id, "begin catch-up");
    if (s.resync !== null)
      throw new ProtocolError("wrong_session_kind", "a resync catches up after its commit");
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

  /** Completes a converged catch-up (also a resync's), or a zero-gap session straight from handshake. */
  completeSessionById(id: SessionId): boolean {
    const s = this.session;
    if (this.isStopped || s === null || s.id !== id || !s.active || s.kind === "rebuild") return false;
    const converged =
      (s.phase === "catchup" && s.targetLsn > 0n && s.recoveredTo >= s.targetLsn) ||
      (s.phase === "handshake" && s.resync === null && s.targetLsn === s.startLsn);
    if (!converged) return false;
    s.complete();
    this.session = null;
    this.currentState = "in_sync";
    return true;
  }

  /**
   * A violation is an explicit escalation, never a silent continuation. A resync has no budget while
   * it transfers (it has no time limit) and no entries budget in its catch-up (the resync itself made
   * sure the rest fits the WAL); a stalled or overlong resync catch-up ends as disconnected, so the
   * host's retry resumes it (the replica's resync marker survives) instead of asking for a rebuild.
   */
  checkBudget(id: SessionId, nowMs: TimeMs): BudgetViolation | null {
    const s = this.authorize(id);
    if (s.budget === null) return null;
    const resync = s.resync !== null;
    if (resync && s.phase !== "catchup") return null;
    const violation = checkBudget(
      resync ? { ...s.budget, maxEntries: 0n } : s.budget,
      { startMs: s.startMs, entriesReplayed: s.entriesReplayed, lastProgressMs: s.lastProgressMs },
      nowMs,
    );
    if (violation !== null)
      this.invalidateSession(`budget_${violation}`, resync ? "disconnected" : "needs_rebuild");
    return violation;
  }

  // ---- resync ------------------------------------------------------------------------------------

  /** The host starts sending changed blocks: phase transfer, the sender is catching up. */
  beginResync(id: SessionId): void {
    const s = this.authorizeResync(id);
    if (s.phase !== "handshake") throw new ProtocolError("invalid_phase", `begin resync in ${s.phase}`);
    s.advance("transfer");
    this.currentState = "catching_up";
  }

  recordResyncProgress(id: SessionId, pass: number, blocksLeft: bigint): void {
    const s = this.authorizeResync(id);
    const r = s.resync!;
    if (s.phase !== "transfer") throw new ProtocolError("invalid_phase", `resync progress in ${s.phase}`);
    if (!Number.isSafeInteger(pass) || pass < 1) throw new ProtocolError("invalid_argument", `pass ${pass}`);
    if (pass < r.pass) throw new ProtocolError("progress_regression", `pass ${pass} < ${r.pass}`);
    r.pass = pass;
    r.blocksLeft = blocksLeft;
  }

  /**
   * The replica committed the resync: its log ends at baseLsn (≥ fork) and it is consistent once its
   * durable LSN reaches consistentLsn, the catch-up's frozen target. Returns true when that already
   * holds (nothing was written during the last pass): the session completed, the sender is in sync.
   */
  commitResync(id: SessionId, baseLsn: Lsn, consistentLsn: Lsn, nowMs: TimeMs): boolean {
    const s = this.authorizeResync(id);
    const r = s.resync!;
    if (s.phase !== "transfer") throw new ProtocolError("invalid_phase", `resync commit in ${s.phase}`);
    if (baseLsn < r.forkLsn) throw new ProtocolError("invalid_range", `base ${baseLsn} < fork ${r.forkLsn}`);
    if (consistentLsn < baseLsn)
      throw new ProtocolError("invalid_range", `consistent ${consistentLsn} < base ${baseLsn}`);
    r.committed = true;
    r.baseLsn = baseLsn;
    r.consistentLsn = consistentLsn;
    r.blocksLeft = 0n;
    s.advance("catchup");
    s.setRange(baseLsn, consistentLsn);
    s.frozenTargetLsn = consistentLsn;
    s.startMs = nowMs;
    s.lastProgressMs = nowMs;
    s.entriesReplayed = 0n;
    if (consistentLsn > baseLsn) return false;
    s.complete();
    this.session = null;
    this.currentState = "in_sync";
    return true;
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

  /** A session whose handshake planned a resync (an operator-made `resync` kind has no plan). */
  private authorizeResync(id: SessionId): Session {
    const s = this.authorize(id);
    if (s.resync === null)
      throw new ProtocolError("wrong_session_kind", `resync step on a ${s.kind} session`);
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
