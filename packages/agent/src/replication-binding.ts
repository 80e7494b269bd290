// The real data plane: @blockship/replication's cursor shippers, receiver and durable flush, over
// gRPC clients from @blockship/rpc.
import {
  connectRebuild,
  connectReplication,
  durableFlush,
  pullRebuild,
  ReplicaReceiver,
  rebuildServiceHandlers,
  replicationServiceHandlers,
  ShipperGroup,
} from "@blockship/replication";
import { type ClientCredentialsFactory, RpcError, type ServerCallLike } from "@blockship/rpc";
import type { ReceiverPort, ReplicationBinding, ShipperGroupPort } from "./replication-port";
import { roleToWire } from "./roles";

/** How the data plane's gRPC clients and services are secured (see AgentSecurity). */
export interface ReplicationSecurity {
  /** Credentials of every client this agent dials (ship, handshake, rebuild); default plaintext. */
  readonly clientCredentials?: ClientCredentialsFactory;
  /**
   * Mutual TLS: the verified certificate identity of a server call's peer. Replication admits
   * only the assigned primary's identity; Rebuild only the replica's.
   */
  readonly peerIdentity?: (call: ServerCallLike) => string | undefined;
}

/** The real data plane over gRPC, plaintext (tests; the agent passes its security). */
export const grpcReplication: ReplicationBinding = grpcReplicationBinding({});

export function grpcReplicationBinding(
  security: ReplicationSecurity,
  /** Cap on the rate of every rebuild this agent serves (bytes/s, 0 = none). */
  rebuildRateLimitBytesPerSecond = 0,
): ReplicationBinding {
  const credentials = security.clientCredentials;
  return {
    name: "grpc",
    createShipperGroup: (p) =>
      new ShipperGroup({
        volume: p.volume,
        volumeId: p.volumeId,
        primaryServerId: p.primaryServerId,
        epoch: p.epoch,
        durabilityMode: p.durabilityMode,
        barrierTimeoutMs: p.barrierTimeoutMs,
        // With TLS the replica's certificate must name the server_id the master assigned.
        connect: (address, serverId) =>
          connectReplication(
            address,
            credentials === undefined ? {} : { credentials: credentials({ expectServerIdentity: serverId }) },
          ),
      }),
    createReceiver: (p) =>
      new ReplicaReceiver({
        volume: p.volume,
        volumeId: p.volumeId,
        localServerId: p.localServerId,
        authority: () => {
          const a = p.authority();
          return {
            epoch: a.epoch,
            primaryServerId: a.primaryServerId === "" ? null : a.primaryServerId,
            accepting: a.accepting,
            role: roleToWire(a.role),
          };
        },
      }),
    durableFlush: (volume, group, mode) => durableFlush(volume, group as ShipperGroup | null, mode),
    serviceHandlers: (resolve) =>
      replicationServiceHandlers(
        (volumeId) => {
          const receiver: ReceiverPort | undefined = resolve(volumeId);
          if (receiver === undefined) {
            throw new RpcError(
              "volume_not_found",
              `no replica copy of ${JSON.stringify(volumeId)} on this agent`,
            );
          }
          return receiver as ReplicaReceiver;
        },
        security.peerIdentity === undefined ? {} : { peerIdentity: security.peerIdentity },
      ),
    rebuildHandlers: (resolve) => {
      const peerIdentity = security.peerIdentity;
      return rebuildServiceHandlers(
        (volumeId) => {
          const source = resolve(volumeId);
          if (source === undefined) {
            throw new RpcError("volume_not_found", `no volume ${JSON.stringify(volumeId)} on this agent`);
          }
          return {
            volume: source.volume,
            authority: () => source.authority(),
            maxRateBytesPerSecond: rebuildRateLimitBytesPerSecond,
          };
        },
        // Only the replica itself may pull its image (its certificate names its server_id).
        peerIdentity === undefined ? {} : { peerIdentity },
      );
    },
    pullRebuild: (p) =>
      pullRebuild({
        volume: p.volume,
        volumeId: p.volumeId,
        epoch: p.epoch,
        replicaServerId: p.replicaServerId,
        primaryAddress: p.primaryAddress,
        sourceId: p.primaryServerId === "" ? p.primaryAddress : p.primaryServerId,
        connect: (address) =>
          connectRebuild(
            address,
            credentials === undefined
              ? {}
              : { credentials: credentials({ expectServerIdentity: p.primaryServerId }) },
          ),
        rateLimitBytesPerSecond: p.rateLimitBytesPerSecond,
        signal: p.signal,
        onProgress: p.onProgress,
      }),
  };
}

/** Compile-time check that the real group satisfies the port. */
export const _groupPortCheck: (g: ShipperGroup) => ShipperGroupPort = (g) => g;
