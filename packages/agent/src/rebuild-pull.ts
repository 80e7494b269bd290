// Executes the engine's start_rebuild on a copy in role REBUILDING: pulls base image + WAL tail from
// the primary (the binding resumes broken transfers and commits atomically), reports the outcome as
// engine events, and retries a failed rebuild with back-off while the copy stays REBUILDING.
import type { EngineEvent, SessionId } from "@blockship/engine";
import type { Volume } from "@blockship/storage";
import type { ParsedAssignment } from "./assignment";
import type { Clock } from "./clock";
import type { Fence } from "./fence";
import type { Logger } from "./log";
import type { RebuildProgressView, RebuildPullResult, ReplicationBinding } from "./replication-port";

/** Back-off between failed rebuild attempts of a copy that stays REBUILDING. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

export interface RebuildPullDeps {
  readonly volumeId: string;
  readonly volume: Volume;
  readonly fence: Fence;
  readonly localServerId: string;
  readonly binding: ReplicationBinding;
  readonly clock: Clock;
  readonly log: Logger;
  /** The assignment that asked for the rebuild (primary address, per-rebuild rate). */
  readonly assignment: () => ParsedAssignment | undefined;
  /** Default rate (bytes/s, 0 = the primary's default). */
  readonly defaultRateBytesPerSecond: number;
  /** Feeds an engine event (never re-entrant: called from promise callbacks and timers). */
  readonly observe: (event: EngineEvent) => void;
  readonly onProgress: () => void;
  /** The image is committed: the copy may become REPLICA. */
  readonly onCommitted: () => void;
}

interface Running {
  readonly sessionId: SessionId;
  readonly abort: AbortController;
  progress: RebuildProgressView | undefined;
}

export class RebuildPull {
  private running: Running | undefined;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The last rebuild of this copy that committed. */
  last: (RebuildPullResult & { readonly durationMs: number }) | undefined;

  constructor(private readonly deps: RebuildPullDeps) {}

  get progress(): RebuildProgressView | undefined {
    return this.running?.progress;
  }

  isRunning(sessionId: SessionId): boolean {
    return this.running?.sessionId === sessionId;
  }

  start(replicaId: string, sessionId: SessionId): void {
    this.stop();
    const d = this.deps;
    const a = d.assignment();
    const run: Running = { sessionId, abort: new AbortController(), progress: undefined };
    this.running = run;
    const startedMs = d.clock.now();
    const rate =
      a !== undefined && a.rebuildRateLimitBytesPerSecond > 0
        ? a.rebuildRateLimitBytesPerSecond
        : d.defaultRateBytesPerSecond;
    const log = d.log.child({ replicaId, sessionId, primary: a?.primaryAddress });
    log.info({ rateLimitBytesPerSecond: rate }, "rebuild: pulling base image and WAL tail");
    d.binding
      .pullRebuild({
        volume: d.volume,
        volumeId: d.volumeId,
        epoch: d.fence.masterEpoch,
        replicaServerId: d.localServerId,
        primaryServerId: a?.primaryServerId ?? "",
        primaryAddress: a?.primaryAddress ?? "",
        rateLimitBytesPerSecond: rate,
        signal: run.abort.signal,
        onProgress: (p) => {
          run.progress = p;
          d.onProgress();
        },
      })
      .then(
        (r) => {
          if (this.running !== run || this.closed) return;
          this.running = undefined;
          this.retryMs = RETRY_MIN_MS;
          // The clock may have sub-millisecond resolution; the wire field is whole milliseconds.
          this.last = { ...r, durationMs: Math.max(0, Math.round(d.clock.now() - startedMs)) };
          log.info(this.last, "rebuild committed");
          // A full base reports its progress as the LSN it reached (an empty volume reaches 0).
          if (r.lastLsn > 0)
            d.observe({
              type: "rebuild_progress",
              replicaId,
              sessionId,
              stage: "base",
              lsn: BigInt(r.lastLsn),
            });
          d.observe({
            type: "rebuild_done",
            replicaId,
            sessionId,
            flushedLsn: BigInt(r.lastLsn),
            checkpointLsn: BigInt(r.baseLsn),
          });
          d.onCommitted();
        },
        (err: unknown) => {
          if (this.running !== run || this.closed) return;
          this.running = undefined;
          const reason = err instanceof Error ? err.message : String(err);
          log.warn({ err: reason, retryInMs: this.retryMs }, "rebuild failed; the copy keeps its old state");
          d.observe({ type: "recovery_failed", replicaId, sessionId, reason: `rebuild_failed: ${reason}` });
          this.scheduleRetry(replicaId);
        },
      );
  }

  /** Aborts the running pull (its install is discarded, the old state stays) and any retry. */
  stop(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const run = this.running;
    this.running = undefined;
    run?.abort.abort();
  }

  close(): void {
    this.closed = true;
    this.stop();
  }

  /** A copy that stays REBUILDING tries again, with back-off, until it succeeds or is reassigned. */
  private scheduleRetry(replicaId: string): void {
    clearTimeout(this.retryTimer);
    const { fence } = this.deps;
    const epoch = fence.masterEpoch;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed || this.running !== undefined) return;
      if (fence.role !== "rebuilding" || fence.masterEpoch !== epoch) return;
      this.deps.observe({ type: "start_recovery", replicaId, kind: "rebuild" });
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }
}
