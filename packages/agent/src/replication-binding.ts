// The real data plane: @blockship/replication's cursor shippers, receiver and durable flush, over
// gRPC clients from @blockship/rpc.
import {
  connectReplication,
  durableFlush,
  ReplicaReceiver,
  replicationServiceHandlers,
  ShipperGroup,
} from "@blockship/replication";
import { RpcError } from "@blockship/rpc";
import type { ReceiverPort, ReplicationBinding, ShipperGroupPort } from "./replication-port";
import { roleToWire } from "./roles";

export const grpcReplication: ReplicationBinding = {
  name: "grpc",
  createShipperGroup: (p) =>
    new ShipperGroup({
      volume: p.volume,
      volumeId: p.volumeId,
      primaryServerId: p.primaryServerId,
      epoch: p.epoch,
      durabilityMode: p.durabilityMode,
      barrierTimeoutMs: p.barrierTimeoutMs,
      connect: (address) => connectReplication(address),
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
    replicationServiceHandlers((volumeId) => {
      const receiver: ReceiverPort | undefined = resolve(volumeId);
      if (receiver === undefined) {
        throw new RpcError(
          "volume_not_found",
          `no replica copy of ${JSON.stringify(volumeId)} on this agent`,
        );
      }
      return receiver as ReplicaReceiver;
    }),
};

/** Compile-time check that the real group satisfies the port. */
export const _groupPortCheck: (g: ShipperGroup) => ShipperGroupPort = (g) => g;
