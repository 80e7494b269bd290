// The recovery attempts the host is working on for one volume (connect, catch-up or rebuild), one per
// replica. Kept apart from VolumeEngine because two safety rules live here: events naming a session
// that is not the tracked, current one are rejected, and reaping ends every attempt whose session is
// gone, so pins are released on every exit path.
import { CatchUpExecution, RebuildExecution, ResyncExecution } from "./execution";
import type { Registry } from "./registry";
import type { SessionId } from "./types";

/** An event the engine refuses without changing state (reported to the host as `rejected`). */
export class RejectedEvent extends Error {}

export interface TrackedAttempt {
  readonly sessionId: SessionId;
  /** Null while the host connects and handshakes; set once a plan starts an execution. */
  exec: CatchUpExecution | RebuildExecution | ResyncExecution | null;
}

/** An attempt reaping ended: the host must be told to stop it. */
export interface EndedAttempt {
  readonly replicaId: string;
  readonly sessionId: SessionId;
}

export class TrackedAttempts {
  private readonly byReplica = new Map<string, TrackedAttempt>();
  private readonly registry: Registry;

  constructor(registry: Registry) {
    this.registry = registry;
  }

  /** Replica IDs with an attempt, sorted so every walk over them is deterministic. */
  replicaIds(): string[] {
    return [...this.byReplica.keys()].sort();
  }

  get(replicaId: string): TrackedAttempt | undefined {
    return this.byReplica.get(replicaId);
  }

  set(replicaId: string, attempt: TrackedAttempt): void {
    this.byReplica.set(replicaId, attempt);
  }

  /** The host reported the end of this attempt itself: no stop_recovery for it. */
  hostEnded(replicaId: string): void {
    this.byReplica.delete(replicaId);
  }

  /** Stop tracking an attempt the caller ends (and tells the host about) itself. */
  untrack(replicaId: string): void {
    this.byReplica.delete(replicaId);
  }

  /** The attempt an event names, which must also be the sender's current session. */
  of(replicaId: string, sessionId: SessionId): TrackedAttempt {
    const t = this.byReplica.get(replicaId);
    const sender = this.registry.get(replicaId);
    if (t === undefined || t.sessionId !== sessionId || sender?.sessionId !== sessionId) {
      throw new RejectedEvent(`stale_session: ${replicaId} session ${sessionId}`);
    }
    return t;
  }

  /** A catch-up, or a resync in its catch-up phase (after its commit). */
  catchUpOf(replicaId: string, sessionId: SessionId): CatchUpExecution | ResyncExecution {
    const exec = this.of(replicaId, sessionId).exec;
    if (exec instanceof CatchUpExecution) return exec;
    if (exec instanceof ResyncExecution && this.phaseOf(replicaId) === "catchup") return exec;
    throw new RejectedEvent(`no catch-up running for session ${sessionId}`);
  }

  /** A resync still transferring blocks (its progress and commit are refused once committed). */
  resyncOf(replicaId: string, sessionId: SessionId): ResyncExecution {
    const exec = this.of(replicaId, sessionId).exec;
    if (!(exec instanceof ResyncExecution) || this.phaseOf(replicaId) !== "transfer")
      throw new RejectedEvent(`no resync transfer running for session ${sessionId}`);
    return exec;
  }

  private phaseOf(replicaId: string): string | undefined {
    return this.registry.get(replicaId)?.sessionSnapshot()?.phase;
  }

  rebuildOf(replicaId: string, sessionId: SessionId): RebuildExecution {
    const exec = this.of(replicaId, sessionId).exec;
    if (!(exec instanceof RebuildExecution))
      throw new RejectedEvent(`no rebuild running for session ${sessionId}`);
    return exec;
  }

  /**
   * Ends (and cancels, releasing pins) every attempt whose session is no longer the sender's current
   * active one, or whose execution finished. Returns them in replica order for stop_recovery.
   */
  reap(): EndedAttempt[] {
    const ended: EndedAttempt[] = [];
    for (const id of this.replicaIds()) {
      const t = this.byReplica.get(id)!;
      const sender = this.registry.get(id);
      const current = sender !== undefined && sender.sessionId === t.sessionId && sender.hasActiveSession();
      if (current && (t.exec === null || !t.exec.finished)) continue;
      this.byReplica.delete(id);
      t.exec?.cancel("session_ended");
      ended.push({ replicaId: id, sessionId: t.sessionId });
    }
    return ended;
  }
}
