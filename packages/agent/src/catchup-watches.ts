// The catch-up sessions this primary is executing, one per replica. The engine plans a catch-up
// (fromLsn → frozen targetLsn) but never sees the data plane: the cursor shipper replays the gap
// itself, so the only progress signal is the replica's barrier-confirmed durable LSN. This module
// turns that LSN into `catchup_progress` / `catchup_done` events and drives the engine's budget
// clock while any session runs.
import type { EngineEvent, SessionId } from "@blockship/engine";
import type { Clock } from "./clock";
import type { ShipperStatusView } from "./replication-port";

interface CatchUpWatch {
  readonly sessionId: SessionId;
  readonly targetLsn: number;
  /** Highest durable LSN already reported to the engine (never reported twice). */
  reported: number;
}

export interface CatchUpWatchesDeps {
  readonly clock: Clock;
  /** Feeds an event to the engine (synchronously: it may stop the very session being checked). */
  readonly observe: (event: EngineEvent) => void;
  /** The shipper's current view of the replica, if it ships to it. */
  readonly shipperStatus: (replicaId: string) => ShipperStatusView | undefined;
  readonly isClosed: () => boolean;
}

export class CatchUpWatches {
  private readonly watches = new Map<string, CatchUpWatch>();

  constructor(private readonly deps: CatchUpWatchesDeps) {}

  /** A planned catch-up starts; it is checked once the current engine run finished. */
  begin(replicaId: string, sessionId: SessionId, fromLsn: number, targetLsn: number): void {
    // The replica already holds everything up to the session's start.
    this.watches.set(replicaId, { sessionId, targetLsn, reported: fromLsn });
    queueMicrotask(() => this.check(replicaId));
  }

  /** The frozen target of the session this host executes for the replica (its gap ends there), 0 = none. */
  windowTargetLsn(replicaId: string): number {
    return this.watches.get(replicaId)?.targetLsn ?? 0;
  }

  /** The engine stopped a session: only that session's watch goes (a newer one stays). */
  stop(replicaId: string, sessionId: SessionId): void {
    if (this.watches.get(replicaId)?.sessionId === sessionId) this.watches.delete(replicaId);
  }

  clear(): void {
    this.watches.clear();
  }

  /** Budget clock for catch-ups (the engine never reads a clock). */
  tick(): void {
    if (this.watches.size === 0) return;
    // Barrier progress does not raise stateChange: poll it for the catch-ups being executed.
    for (const id of [...this.watches.keys()]) this.check(id);
    if (this.watches.size > 0) this.deps.observe({ type: "budget_tick", nowMs: this.deps.clock.now() });
  }

  /** The cursor shipper replays the gap itself; a barrier-confirmed durable LSN is the progress. */
  check(replicaId: string): void {
    const watch = this.watches.get(replicaId);
    if (watch === undefined || this.deps.isClosed()) return;
    const status = this.deps.shipperStatus(replicaId);
    // A shipper that cannot stream to the copy (needs_rebuild: it only probes) replays nothing, and
    // a durable LSN it reached before does not make the copy receive the live tail: no completion
    // until it streams again (the session's handshake planned a catch-up, so its probe will).
    if (status === undefined || status.state === "needs_rebuild") return;
    const durable = Math.min(status.durableLsn, watch.targetLsn);
    const nowMs = this.deps.clock.now();
    if (durable > watch.reported) {
      watch.reported = durable;
      this.deps.observe({
        type: "catchup_progress",
        replicaId,
        sessionId: watch.sessionId,
        durableLsn: BigInt(durable),
        nowMs,
      });
    }
    // The progress event may have ended this session (and a new one may have begun): re-check.
    if (durable >= watch.targetLsn && this.watches.get(replicaId) === watch) {
      this.watches.delete(replicaId);
      this.deps.observe({ type: "catchup_done", replicaId, sessionId: watch.sessionId });
    }
  }
}
