// connect_replica: dial the replica's Replication service and ask for its recovery facts.

import type { EngineEvent, SessionId } from "@blockship/engine";
import { serverOfReplica } from "@blockship/engine";
import {
  classifyHandshake,
  findForkPoint,
  type ReplicaFacts,
  replicaFactsFromWire,
} from "@blockship/replication";
import {
  type ClientCredentialsFactory,
  closeClient,
  createReplicationClient,
  deadlineIn,
  type HandshakeResponse__Output,
  unary,
} from "@blockship/rpc";
import type { Volume } from "@blockship/storage";
import type { Clock } from "./clock";
import type { Fence } from "./fence";
import type { Logger } from "./log";

/** Dials a replica and returns its recovery facts (Replication.Handshake). */
export type HandshakeFn = (req: {
  volumeId: string;
  replicaId: string;
  address: string;
  epoch: number;
  headLsn: number;
  retainedStartLsn: number;
}) => Promise<ReplicaFacts>;

/**
 * Executes connect_replica in the background: the replica's real durable LSN and the facts of
 * both histories come back as a `handshake` event (the engine plans catch-up, resync or rebuild
 * from them), a failure as `recovery_failed` (the engine ends the session). A replica whose
 * records differ from the primary's and that shares no history with it at all is reported as
 * `replica_needs_rebuild` instead.
 */
export function runHandshake(
  deps: {
    readonly volumeId: string;
    readonly volume: Volume;
    readonly fence: Fence;
    readonly clock: Clock;
    readonly log: Logger;
    readonly handshake: HandshakeFn;
  },
  target: { replicaId: string; sessionId: SessionId; address: string },
  observe: (event: EngineEvent) => void,
): void {
  const { replicaId, sessionId } = target;
  const v = deps.volume;
  const request = {
    volumeId: deps.volumeId,
    replicaId,
    address: target.address,
    epoch: deps.fence.masterEpoch,
    headLsn: v.headLsn,
    retainedStartLsn: v.tailLsn + 1,
  };
  deps.handshake(request).then(
    (facts) => {
      const resync = resyncFacts(v, facts);
      const history = historyProblem(v, request.epoch, facts);
      if (history !== undefined && resync.forkLsn === undefined) {
        // No common history at all: nothing but a full rebuild can help.
        deps.log.warn({ replicaId, sessionId, reason: history }, "replica history does not match");
        observe({ type: "replica_needs_rebuild", replicaId, reason: history });
        return;
      }
      if (history !== undefined)
        deps.log.info(
          { replicaId, sessionId, reason: history, forkLsn: String(resync.forkLsn) },
          "replica diverged after the fork point",
        );
      observe({
        type: "handshake",
        replicaId,
        sessionId,
        replicaDurableLsn: BigInt(facts.durableLsn),
        nowMs: deps.clock.now(),
        resync,
      });
    },
    (err: unknown) => {
      const reason = err instanceof Error ? err.message : String(err);
      deps.log.warn({ replicaId, sessionId, err: reason }, "replica handshake failed");
      observe({ type: "recovery_failed", replicaId, sessionId, reason: `handshake_failed: ${reason}` });
    },
  );
}

type HandshakeResyncFacts = NonNullable<Extract<EngineEvent, { type: "handshake" }>["resync"]>;

/**
 * What the engine needs to choose between catch-up, resync and rebuild: where the two histories
 * fork, both tracking bases, and whether the copy is in the middle of a resync.
 */
function resyncFacts(v: Volume, facts: ReplicaFacts): HandshakeResyncFacts {
  const forkLsn = findForkPoint(
    { generations: v.history(), headLsn: v.headLsn, recordAt: (lsn) => v.recordAt(lsn) },
    {
      generations: facts.generations ?? [],
      headLsn: facts.headLsn,
      headRecord: facts.headRecord,
      durableLsn: facts.durableLsn,
      durableRecord: facts.durableRecord,
    },
  );
  return {
    forkLsn: forkLsn === undefined ? undefined : BigInt(forkLsn),
    replicaHeadLsn: BigInt(facts.headLsn),
    primaryChangeBaseLsn: BigInt(v.changeTracking().baseLsn),
    replicaChangeBaseLsn:
      facts.changeTracking === true && facts.changeBaseLsn !== undefined
        ? BigInt(facts.changeBaseLsn)
        : undefined,
    replicaResyncPending: facts.resync?.pending === true,
  };
}

/**
 * The data plane's history verdict on the replica's facts: divergent or unverifiable history, or
 * undefined. Numbers alone (replica ahead, recycled WAL) stay the engine's to plan.
 */
function historyProblem(v: Volume, epoch: number, facts: ReplicaFacts): string | undefined {
  const verdict = classifyHandshake(
    { epoch, headLsn: v.headLsn, tailLsn: v.tailLsn, recordAt: (lsn) => v.recordAt(lsn) },
    facts,
  );
  if (verdict.kind !== "needs_rebuild") return undefined;
  if (verdict.divergentAt !== undefined || verdict.reason.startsWith("unverified_history"))
    return verdict.reason;
  return undefined;
}

/**
 * Handshake over gRPC. With `credentials` (TLS), the replica's certificate must also carry the
 * replica's server_id as its identity, besides matching the dialled host name.
 */
export function grpcHandshake(
  localServerId: string,
  timeoutMs: number,
  credentials?: ClientCredentialsFactory,
): HandshakeFn {
  return async (req) => {
    // A local subchannel pool: each attempt dials afresh instead of waiting out grpc-js's shared
    // reconnect back-off (up to minutes) left behind by earlier failed attempts.
    const client = createReplicationClient(req.address, {
      channelOptions: { "grpc.use_local_subchannel_pool": 1 },
      ...(credentials === undefined
        ? {}
        : { credentials: credentials({ expectServerIdentity: serverOfReplica(req.replicaId) }) }),
    });
    try {
      const res = await unary<HandshakeResponse__Output>((cb) =>
        client.Handshake(
          {
            volume_id: req.volumeId,
            epoch: String(req.epoch),
            primary_server_id: localServerId,
            replica_server_id: serverOfReplica(req.replicaId),
            primary_head_lsn: String(req.headLsn),
            primary_retained_start_lsn: String(req.retainedStartLsn),
          },
          deadlineIn(timeoutMs),
          cb,
        ),
      );
      return replicaFactsFromWire(res);
    } finally {
      closeClient(client);
    }
  };
}
