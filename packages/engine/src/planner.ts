// Planning = classify + reserve ("check, then reserve, then recover").
// Resource pins go through RetentionPort, which the agent implements over packages/storage.
// Every pin a plan holds is released exactly once: on success, failure, cancel or invalidation.
import type { ResyncFacts } from "./decide";
import type { RecoveryOrchestrator } from "./orchestrator";
import { decideRebuildSource, type RecoverabilityProof, type RetainedHistory } from "./recoverability";
import { assert, type Lsn, ProtocolError, type RebuildSource, type SessionId } from "./types";

export type PinKind = "wal" | "snapshot" | "full_base";

export interface ResourcePin {
  readonly kind: PinKind;
  readonly replicaId: string;
  readonly lsn: Lsn;
  readonly pinId: number;
}

export type PinResult =
  | { readonly ok: true; readonly pin: ResourcePin }
  | { readonly ok: false; readonly reason: string };

/** Storage-side reservations the planner needs. Implemented by the agent; calls are synchronous. */
export interface RetentionPort {
  /** The primary's retained WAL facts right now. */
  retainedHistory(): RetainedHistory;
  /** Keep every WAL entry with LSN > fromLsn until released. */
  pinWal(replicaId: string, fromLsn: Lsn): PinResult;
  /** Keep the checkpoint (base image) at `lsn` until released. */
  pinSnapshot(replicaId: string, lsn: Lsn): PinResult;
  /** Keep a consistent full image at ≥ `lsn` available until released. */
  pinFullBase(replicaId: string, lsn: Lsn): PinResult;
  release(pin: ResourcePin): void;
}

/** The pins of one plan; release is idempotent and each pin is released at most once. */
export class PinSet {
  private readonly pins: ResourcePin[] = [];
  private readonly port: RetentionPort;

  constructor(port: RetentionPort) {
    this.port = port;
  }

  add(pin: ResourcePin): void {
    this.pins.push(pin);
  }

  held(): readonly ResourcePin[] {
    return [...this.pins];
  }

  releaseAll(): number {
    const n = this.pins.length;
    while (this.pins.length > 0) this.port.release(this.pins.pop()!);
    return n;
  }
}

interface PlanBase {
  readonly replicaId: string;
  readonly sessionId: SessionId;
  readonly proof: RecoverabilityProof;
  readonly pins: PinSet;
}

export interface ZeroGapPlan extends PlanBase {
  readonly kind: "zero_gap";
}
/** Replay (start, target] from the WAL, pinned from start. */
export interface CatchUpPlan extends PlanBase {
  readonly kind: "catchup";
  readonly startLsn: Lsn;
  readonly targetLsn: Lsn;
}
/**
 * Send the blocks changed since forkLsn (on both copies), then catch up from the resync's base. No
 * pin at planning: the host's resync pins the WAL of its own passes; the catch-up pin is taken when
 * the resync commits (base known). targetLsn is the committed LSN at the handshake (a provisional
 * volume target until the commit names the frozen one).
 */
export interface ResyncPlan extends PlanBase {
  readonly kind: "resync";
  readonly forkLsn: Lsn;
  readonly targetLsn: Lsn;
}
export interface NeedsRebuildPlan extends PlanBase {
  readonly kind: "needs_rebuild";
}
export interface RebuildPlan extends PlanBase {
  readonly kind: "rebuild";
  readonly source: RebuildSource;
  readonly snapshotLsn: Lsn;
  readonly targetLsn: Lsn;
  readonly reason: string;
}
export type RecoveryPlan = ZeroGapPlan | CatchUpPlan | ResyncPlan | NeedsRebuildPlan | RebuildPlan;

export type PlanResult =
  | { readonly ok: true; readonly plan: RecoveryPlan }
  | { readonly ok: false; readonly error: string };

export class RecoveryPlanner {
  readonly orchestrator: RecoveryOrchestrator;
  readonly port: RetentionPort;

  constructor(orchestrator: RecoveryOrchestrator, port: RetentionPort) {
    this.orchestrator = orchestrator;
    this.port = port;
  }

  /**
   * Handshake the current session with the replica's durable LSN (and the histories' resync facts)
   * and reserve what the replay needs. The plan is the decider's (decideRecovery).
   */
  planRecovery(
    replicaId: string,
    replicaFlushedLsn: Lsn,
    expectedSessionId?: SessionId,
    resync?: ResyncFacts,
  ): PlanResult {
    const history = this.port.retainedHistory();
    const log = this.orchestrator.log;
    const r = this.orchestrator.executeRecovery(
      replicaId,
      replicaFlushedLsn,
      history,
      expectedSessionId,
      resync,
    );
    if (r.error !== null || r.outcome === null || r.proof === null)
      return { ok: false, error: r.error ?? "no outcome" };
    const pins = new PinSet(this.port);
    const base = { replicaId, sessionId: r.sessionId, proof: r.proof, pins };
    if (r.outcome === "zero_gap") {
      log.record(replicaId, "plan_zero_gap");
      return { ok: true, plan: { ...base, kind: "zero_gap" } };
    }
    if (r.outcome === "needs_rebuild") return { ok: true, plan: { ...base, kind: "needs_rebuild" } };
    if (r.decision?.kind === "resync") {
      log.record(replicaId, "plan_resync", `fork=${r.decision.forkLsn} ${r.decision.reason}`);
      return {
        ok: true,
        plan: { ...base, kind: "resync", forkLsn: r.decision.forkLsn, targetLsn: history.committedLsn },
      };
    }
    const snap = this.orchestrator.registry.get(replicaId)!.sessionSnapshot()!;
    const pinned = this.port.pinWal(replicaId, replicaFlushedLsn);
    if (!pinned.ok) {
      log.record(replicaId, "wal_pin_failed", pinned.reason);
      this.orchestrator.registry.get(replicaId)!.invalidateSession("wal_pin_failed", "disconnected");
      return { ok: false, error: `wal_pin_failed: ${pinned.reason}` };
    }
    pins.add(pinned.pin);
    log.record(
      replicaId,
      "plan_catchup",
      `replay=${replicaFlushedLsn}→${snap.targetLsn} pin=${pinned.pin.pinId}`,
    );
    return {
      ok: true,
      plan: {
        ...base,
        kind: "catchup",
        startLsn: snap.startLsn,
        targetLsn: snap.targetLsn,
      },
    };
  }

  /** Choose the rebuild source and pin it; the session is not advanced (the executor does that). */
  planRebuild(replicaId: string): PlanResult {
    const sender = this.orchestrator.registry.get(replicaId);
    if (sender === undefined) return { ok: false, error: "unknown_replica" };
    const snap = sender.sessionSnapshot();
    if (snap === null) return { ok: false, error: "no_active_session" };
    if (snap.kind !== "rebuild") return { ok: false, error: `wrong_session_kind: ${snap.kind}` };
    const log = this.orchestrator.log;
    const history = this.port.retainedHistory();
    const decision = decideRebuildSource(history);
    const pins = new PinSet(this.port);
    const failWith = (
      event: "snapshot_pin_failed" | "wal_pin_failed_during_rebuild" | "full_base_pin_failed",
      why: string,
    ) => {
      pins.releaseAll();
      log.record(replicaId, event, why);
      sender.invalidateSession(event, "needs_rebuild");
      return { ok: false as const, error: `${event}: ${why}` };
    };
    if (decision.source === "snapshot_tail") {
      const snapPin = this.port.pinSnapshot(replicaId, decision.snapshotLsn);
      if (!snapPin.ok) return failWith("snapshot_pin_failed", snapPin.reason);
      pins.add(snapPin.pin);
      const walPin = this.port.pinWal(replicaId, decision.snapshotLsn);
      if (!walPin.ok) return failWith("wal_pin_failed_during_rebuild", walPin.reason);
      pins.add(walPin.pin);
      log.record(
        replicaId,
        "plan_rebuild_snapshot_tail",
        `snapshot=${decision.snapshotLsn} committed=${decision.targetLsn}`,
      );
    } else {
      const basePin = this.port.pinFullBase(replicaId, decision.targetLsn);
      if (!basePin.ok) return failWith("full_base_pin_failed", basePin.reason);
      pins.add(basePin.pin);
      log.record(
        replicaId,
        "plan_rebuild_full_base",
        `reason=${decision.reason} committed=${decision.targetLsn}`,
      );
    }
    const proof = { recoverable: false, reason: decision.reason };
    return {
      ok: true,
      plan: {
        kind: "rebuild",
        replicaId,
        sessionId: snap.id,
        proof,
        pins,
        source: decision.source,
        snapshotLsn: decision.snapshotLsn,
        targetLsn: decision.targetLsn,
        reason: decision.reason,
      },
    };
  }

  /** Release the plan's pins; invalidate the session only if it is still the plan's own. */
  cancelPlan(plan: RecoveryPlan, reason: string): void {
    plan.pins.releaseAll();
    const sender = this.orchestrator.registry.get(plan.replicaId);
    if (sender !== undefined && sender.sessionId === plan.sessionId && plan.sessionId !== 0) {
      sender.invalidateSession(reason, "disconnected");
    }
    this.orchestrator.log.record(plan.replicaId, "plan_cancelled", reason);
  }
}

export function requireCatchUpPlan(plan: RecoveryPlan): CatchUpPlan {
  if (plan.kind !== "catchup") throw new ProtocolError("wrong_session_kind", `plan ${plan.kind}`);
  return plan;
}

export function requireResyncPlan(plan: RecoveryPlan): ResyncPlan {
  if (plan.kind !== "resync") throw new ProtocolError("wrong_session_kind", `plan ${plan.kind}`);
  return plan;
}

export function requireRebuildPlan(plan: RecoveryPlan): RebuildPlan {
  if (plan.kind !== "rebuild") throw new ProtocolError("wrong_session_kind", `plan ${plan.kind}`);
  assert(plan.targetLsn >= plan.snapshotLsn, "rebuild target below snapshot");
  return plan;
}
