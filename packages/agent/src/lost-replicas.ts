// Replicas a primary lost after they were in sync (or never reached): the live tail stays gated
// for them until a catch-up session planned their gap from the replica's real durable LSN and
// brought them back to in_sync. While one stays away, a new session is tried with back-off; a
// replica the engine found needs a rebuild is left alone (the shipper's probe notices when it was rebuilt).
import type { ReplicaExecutionState } from "@blockship/engine";
import type { Logger } from "./log";

const RETRY_MIN_MS = 100;
/** A dial to a replica that is still down costs little; a replica that came back waits at most this long. */
const RETRY_MAX_MS = 250;

interface Retry {
  timer: NodeJS.Timeout | undefined;
  delayMs: number;
}

export class LostReplicas {
  private readonly lost = new Set<string>();
  private readonly retries = new Map<string, Retry>();

  constructor(
    private readonly log: Logger,
    /** Starts a catch-up session for the replica (if it has none). */
    private readonly startSession: (replicaId: string) => void,
  ) {}

  has(replicaId: string): boolean {
    return this.lost.has(replicaId);
  }

  /** The shipper lost a replica it had in sync; true when it was not lost already. */
  markLost(replicaId: string): boolean {
    if (this.lost.has(replicaId)) return false;
    this.lost.add(replicaId);
    return true;
  }

  /**
   * After every engine event: a lost replica whose session brought it to in_sync is found again;
   * one whose session ended otherwise gets a new session after a back-off.
   */
  reconcile(replicas: ReadonlyMap<string, ReplicaExecutionState>): void {
    // A replica whose first session failed (it was not up yet) is lost as well.
    for (const [id, st] of replicas) {
      if (!st.sessionActive && (st.senderState === "disconnected" || st.senderState === "degraded"))
        this.lost.add(id);
    }
    for (const id of [...this.lost]) {
      const st = replicas.get(id);
      if (st === undefined) {
        this.forget(id);
        continue;
      }
      // A copy the shipper cannot stream to is retried too: the engine decides (from a fresh
      // handshake) whether a resync brings it back; only the engine's own verdict stops that.
      if (st.sessionActive || st.senderState === "needs_rebuild") continue;
      if (st.senderState === "in_sync") {
        this.forget(id);
        this.log.info({ replicaId: id }, "replica caught up: live tail open again");
        continue;
      }
      const retry = this.retries.get(id) ?? { timer: undefined, delayMs: RETRY_MIN_MS };
      if (retry.timer !== undefined) continue;
      retry.timer = setTimeout(() => {
        retry.timer = undefined;
        if (this.lost.has(id)) this.startSession(id);
      }, retry.delayMs);
      retry.timer.unref();
      retry.delayMs = Math.min(retry.delayMs * 2, RETRY_MAX_MS);
      this.retries.set(id, retry);
    }
  }

  clear(): void {
    for (const id of [...this.lost]) this.forget(id);
  }

  private forget(replicaId: string): void {
    this.lost.delete(replicaId);
    clearTimeout(this.retries.get(replicaId)?.timer);
    this.retries.delete(replicaId);
  }
}
