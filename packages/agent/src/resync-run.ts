// Executes the engine's start_resync on the primary: sends the replica the current content of the
// blocks that changed since the fork point (Replication.Resync), in passes until what is left fits
// the WAL, and reports the outcome as engine events. After the commit the replica's log ends at the
// pass's base LSN; the cursor shipper streams from there and the session's catch-up phase completes
// when the replica's durable LSN reaches the consistent LSN. A failed resync ends its session; the
// lost-replica retry (lost-replicas.ts) starts a fresh one (handshake, plan) with back-off.
import type { EngineEvent, SessionId } from "@blockship/engine";
import { serverOfReplica } from "@blockship/engine";
import { runResync } from "@blockship/replication";
import { type ClientCredentialsFactory, closeClient, createReplicationClient } from "@blockship/rpc";
import type { Volume } from "@blockship/storage";
import type { Clock } from "./clock";
import type { Logger } from "./log";

export interface ResyncRequest {
  readonly volume: Volume;
  readonly volumeId: string;
  readonly replicaId: string;
  readonly address: string;
  readonly epoch: number;
  readonly forkLsn: number;
  readonly rateBytesPerSecond: number;
  readonly signal: AbortSignal;
  readonly onProgress: (p: ResyncProgressView) => void;
}

export interface ResyncOutcome {
  readonly baseLsn: number;
  readonly consistentLsn: number;
  readonly passes: number;
  readonly blocksSent: number;
  readonly bytesSent: number;
}

/** Runs one resync against a replica (injected: tests and the RF=1 binding may replace it). */
export type ResyncFn = (req: ResyncRequest) => Promise<ResyncOutcome>;

export interface ResyncProgressView {
  readonly pass: number;
  readonly blocksLeft: number;
  readonly blocksSent: number;
  readonly bytesSent: number;
}

export interface ResyncRunsDeps {
  readonly volumeId: string;
  readonly volume: Volume;
  readonly epoch: () => number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly resync: ResyncFn;
  /** Bytes/s (0 = unlimited). */
  readonly rateBytesPerSecond: number;
  /** Feeds an engine event (never re-entrant: called from promise callbacks and timers). */
  readonly observe: (event: EngineEvent) => void;
  /** The committed replica's log ends at its base: the shipper may stream to it again. */
  readonly onCommitted: (replicaId: string) => void;
  readonly onProgress: () => void;
}

interface Running {
  readonly sessionId: SessionId;
  readonly forkLsn: number;
  readonly abort: AbortController;
  readonly startedMs: number;
  progress: ResyncProgressView | undefined;
}

/** What GetStatus and metrics show of a replica's resync. */
export interface ResyncView {
  readonly replicaId: string;
  readonly sessionId: SessionId;
  readonly forkLsn: number;
  readonly progress: ResyncProgressView | undefined;
}

export interface ResyncCompleted extends ResyncOutcome {
  readonly replicaId: string;
  /** The engine session the resync ran in (its catch-up phase follows the commit). */
  readonly sessionId: SessionId;
  readonly durationMs: number;
}

export class ResyncRuns {
  private readonly running = new Map<string, Running>();
  private closed = false;
  /** The last resync that committed, per replica (GetStatus). */
  readonly last = new Map<string, ResyncCompleted>();
  completed = 0;
  failed = 0;

  constructor(private readonly deps: ResyncRunsDeps) {}

  views(): ResyncView[] {
    return [...this.running].map(([replicaId, r]) => ({
      replicaId,
      sessionId: r.sessionId,
      forkLsn: r.forkLsn,
      progress: r.progress,
    }));
  }

  /** The replica's running resync (undefined when none runs). */
  view(replicaId: string): ResyncView | undefined {
    const r = this.running.get(replicaId);
    return r === undefined
      ? undefined
      : { replicaId, sessionId: r.sessionId, forkLsn: r.forkLsn, progress: r.progress };
  }

  isRunning(replicaId: string, sessionId: SessionId): boolean {
    return this.running.get(replicaId)?.sessionId === sessionId;
  }

  start(replicaId: string, sessionId: SessionId, forkLsn: number, address: string): void {
    this.stop(replicaId);
    const d = this.deps;
    const run: Running = {
      sessionId,
      forkLsn,
      abort: new AbortController(),
      startedMs: d.clock.now(),
      progress: undefined,
    };
    this.running.set(replicaId, run);
    const log = d.log.child({ replicaId, sessionId, forkLsn });
    log.info(
      { rateBytesPerSecond: d.rateBytesPerSecond },
      "resync: sending the blocks changed since the fork",
    );
    const current = (): boolean => this.running.get(replicaId) === run && !this.closed;
    d.resync({
      volume: d.volume,
      volumeId: d.volumeId,
      replicaId,
      address,
      epoch: d.epoch(),
      forkLsn,
      rateBytesPerSecond: d.rateBytesPerSecond,
      signal: run.abort.signal,
      onProgress: (p) => {
        if (!current()) return;
        run.progress = p;
        d.observe({
          type: "resync_progress",
          replicaId,
          sessionId,
          pass: p.pass,
          blocksLeft: BigInt(p.blocksLeft),
          nowMs: d.clock.now(),
        });
        d.onProgress();
      },
    }).then(
      (r) => {
        if (!current()) return;
        this.running.delete(replicaId);
        this.completed++;
        const durationMs = Math.max(0, Math.round(d.clock.now() - run.startedMs));
        const done: ResyncCompleted = { ...r, replicaId, sessionId, durationMs };
        this.last.set(replicaId, done);
        log.info(done, "resync committed; the shipper streams from its base");
        d.observe({
          type: "resync_committed",
          replicaId,
          sessionId,
          baseLsn: BigInt(r.baseLsn),
          consistentLsn: BigInt(r.consistentLsn),
          nowMs: d.clock.now(),
        });
        d.onCommitted(replicaId);
      },
      (err: unknown) => {
        if (!current()) return;
        this.running.delete(replicaId);
        this.failed++;
        const reason = err instanceof Error ? err.message : String(err);
        log.warn({ err: reason }, "resync failed; a new session will try again");
        d.observe({ type: "recovery_failed", replicaId, sessionId, reason: `resync_failed: ${reason}` });
      },
    );
  }

  /** Aborts the replica's running resync (the session ended). */
  stop(replicaId: string, sessionId?: SessionId): void {
    const run = this.running.get(replicaId);
    if (run === undefined || (sessionId !== undefined && run.sessionId !== sessionId)) return;
    this.running.delete(replicaId);
    run.abort.abort();
  }

  /** Stops everything (demotion, close). */
  clear(): void {
    for (const id of [...this.running.keys()]) this.stop(id);
  }

  close(): void {
    this.closed = true;
    this.clear();
  }
}

/** Resync over gRPC (the replica's Replication service; with TLS the replica's identity is checked). */
export function grpcResync(localServerId: string, credentials?: ClientCredentialsFactory): ResyncFn {
  return async (req) => {
    const client = createReplicationClient(req.address, {
      channelOptions: { "grpc.use_local_subchannel_pool": 1 },
      ...(credentials === undefined
        ? {}
        : { credentials: credentials({ expectServerIdentity: serverOfReplica(req.replicaId) }) }),
    });
    try {
      return await runResync({
        volume: req.volume,
        client,
        volumeId: req.volumeId,
        epoch: req.epoch,
        primaryServerId: localServerId,
        replicaServerId: serverOfReplica(req.replicaId),
        replicaId: req.replicaId,
        forkLsn: req.forkLsn,
        rateBytesPerSecond: req.rateBytesPerSecond,
        signal: req.signal,
        onProgress: req.onProgress,
      });
    } finally {
      closeClient(client);
    }
  };
}
