// One recovery attempt for one replica. Mutated only through its Sender, which
// performs the authority checks; outsiders only ever see a frozen SessionSnapshot.
import { type BudgetTracker, type CatchUpBudget, validateBudget } from "./budget";
import { type RebuildSnapshot, RebuildState } from "./rebuild";
import {
  assert,
  type Epoch,
  type Lsn,
  ProtocolError,
  type SessionId,
  type SessionKind,
  type SessionPhase,
  type TimeMs,
} from "./types";

/** Allowed `advance` transitions; completed and invalidated are terminal. */
const PHASE_TRANSITIONS: Readonly<Record<SessionPhase, readonly SessionPhase[]>> = {
  init: ["connecting", "invalidated"],
  connecting: ["handshake", "invalidated"],
  handshake: ["transfer", "catchup", "completed", "invalidated"],
  transfer: ["catchup", "invalidated"],
  catchup: ["completed", "invalidated"],
  completed: [],
  invalidated: [],
};

export function canAdvancePhase(from: SessionPhase, to: SessionPhase): boolean {
  return PHASE_TRANSITIONS[from].includes(to);
}

export function isTerminalPhase(phase: SessionPhase): boolean {
  return phase === "completed" || phase === "invalidated";
}

/** A resync session's progress (phase transfer: pass/blocksLeft; phase catchup: base/consistent). */
export interface ResyncSnapshot {
  readonly forkLsn: Lsn;
  /** The pass being sent (1 = the changed blocks since the fork; 0 = none reported yet). */
  readonly pass: number;
  readonly blocksLeft: bigint;
  /** Set once committed: the replica's log ends at baseLsn; consistent once durable ≥ consistentLsn. */
  readonly committed: boolean;
  readonly baseLsn: Lsn;
  readonly consistentLsn: Lsn;
}

export interface SessionSnapshot {
  readonly id: SessionId;
  readonly replicaId: string;
  readonly epoch: Epoch;
  readonly kind: SessionKind;
  readonly phase: SessionPhase;
  readonly active: boolean;
  readonly invalidateReason: string;
  readonly startLsn: Lsn;
  readonly targetLsn: Lsn;
  readonly frozenTargetLsn: Lsn;
  readonly recoveredTo: Lsn;
  readonly budget: CatchUpBudget | null;
  readonly tracker: BudgetTracker;
  readonly rebuild: RebuildSnapshot | null;
  /** Non-null exactly for kind `resync`. */
  readonly resync: ResyncSnapshot | null;
}

export interface SessionOptions {
  readonly budget?: CatchUpBudget;
}

export class Session {
  readonly id: SessionId;
  readonly replicaId: string;
  readonly epoch: Epoch;
  /** Fixed at creation, except that a catch-up-like session becomes `resync` (see becomeResync). */
  private kindValue: SessionKind;
  readonly budget: CatchUpBudget | null;
  readonly rebuild: RebuildState | null;
  resync: {
    forkLsn: Lsn;
    pass: number;
    blocksLeft: bigint;
    committed: boolean;
    baseLsn: Lsn;
    consistentLsn: Lsn;
  } | null = null;
  phase: SessionPhase = "init";
  invalidateReason = "";
  startLsn: Lsn = 0n;
  targetLsn: Lsn = 0n;
  frozenTargetLsn: Lsn = 0n;
  recoveredTo: Lsn = 0n;
  startMs: TimeMs = 0;
  entriesReplayed = 0n;
  lastProgressMs: TimeMs = 0;

  constructor(
    id: SessionId,
    replicaId: string,
    epoch: Epoch,
    kind: SessionKind,
    options: SessionOptions = {},
  ) {
    assert(id > 0, "session id must be positive");
    this.id = id;
    this.replicaId = replicaId;
    this.epoch = epoch;
    this.kindValue = kind;
    if (options.budget !== undefined && !validateBudget(options.budget)) {
      throw new ProtocolError("invalid_argument", "budget limits must be finite and >= 0");
    }
    this.budget = options.budget ?? null;
    this.rebuild = kind === "rebuild" ? new RebuildState() : null;
  }

  get kind(): SessionKind {
    return this.kindValue;
  }

  /** The handshake planned a changed-block resync for this catch-up-like session. */
  becomeResync(forkLsn: Lsn): void {
    assert(this.kindValue !== "rebuild" && this.phase === "connecting", "resync planned at handshake only");
    this.kindValue = "resync";
    this.resync = { forkLsn, pass: 0, blocksLeft: 0n, committed: false, baseLsn: 0n, consistentLsn: 0n };
  }

  get active(): boolean {
    return !isTerminalPhase(this.phase);
  }

  advance(to: SessionPhase): void {
    if (!canAdvancePhase(this.phase, to)) throw new ProtocolError("invalid_phase", `${this.phase} -> ${to}`);
    this.phase = to;
  }

  /** The replay range; recoveredTo starts at the replica's own durable point. */
  setRange(startLsn: Lsn, targetLsn: Lsn): void {
    assert(targetLsn >= startLsn, "range checked by the sender before any phase change");
    this.startLsn = startLsn;
    this.targetLsn = targetLsn;
    this.recoveredTo = startLsn;
  }

  invalidate(reason: string): void {
    if (!this.active) return;
    this.phase = "invalidated";
    this.invalidateReason = reason;
    this.rebuild?.abort();
  }

  complete(): void {
    assert(this.active, "completing a terminal session");
    this.phase = "completed";
  }

  snapshot(): SessionSnapshot {
    return Object.freeze({
      id: this.id,
      replicaId: this.replicaId,
      epoch: this.epoch,
      kind: this.kind,
      phase: this.phase,
      active: this.active,
      invalidateReason: this.invalidateReason,
      startLsn: this.startLsn,
      targetLsn: this.targetLsn,
      frozenTargetLsn: this.frozenTargetLsn,
      recoveredTo: this.recoveredTo,
      budget: this.budget === null ? null : Object.freeze({ ...this.budget }),
      tracker: Object.freeze({
        startMs: this.startMs,
        entriesReplayed: this.entriesReplayed,
        lastProgressMs: this.lastProgressMs,
      }),
      rebuild: this.rebuild === null ? null : Object.freeze(this.rebuild.snapshot()),
      resync: this.resync === null ? null : Object.freeze({ ...this.resync }),
    });
  }
}
