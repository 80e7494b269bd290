// connect_replica: dial the replica's Replication service and ask for its recovery facts.
import { serverOfReplica } from "@blockship/engine";
import {
  closeClient,
  createReplicationClient,
  deadlineIn,
  type HandshakeResponse__Output,
  u64FromWire,
  unary,
} from "@blockship/rpc";
import type { HandshakeFn } from "./runtime";

export function grpcHandshake(localServerId: string, timeoutMs: number): HandshakeFn {
  return async (req) => {
    const client = createReplicationClient(req.address);
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
      return Number(u64FromWire(res.durable_lsn, "durable_lsn"));
    } finally {
      closeClient(client);
    }
  };
}
