import { type ClientOptions, createReplicationClient, type ReplicationClient } from "@blockship/rpc";

/**
 * A Replication client suited to ShipperGroup's `connect`. The shipper makes a fresh client per
 * connection attempt so that its own back-off decides when to retry; grpc-js shares subchannels
 * between clients of one address by default, which would carry the channel's own (up to 120 s)
 * reconnect back-off over to the new client. A local subchannel pool per client avoids that.
 */
export function connectReplication(address: string, options: ClientOptions = {}): ReplicationClient {
  return createReplicationClient(address, {
    ...options,
    channelOptions: { "grpc.use_local_subchannel_pool": 1, ...options.channelOptions },
  });
}
