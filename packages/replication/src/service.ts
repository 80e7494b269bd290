import {
  bidiStreamHandler,
  type HandshakeRequest__Output,
  type HandshakeResponse,
  type ReplicationHandlers,
  requireVolumeId,
  type ShipRequest__Output,
  type ShipResponse,
  unaryHandler,
} from "@blockship/rpc";
import type { ReplicaReceiver } from "./receiver";

/**
 * The `Replication` service for @blockship/rpc's server: `startServer({handlers: {replication:
 * replicationServiceHandlers(resolve)}})`. `resolve(volumeId)` returns the volume's receiver or
 * throws an error with a `reason` (`volume_not_found`, `not_replica`, ...), which rpc's error
 * mapping turns into the gRPC status.
 */
export function replicationServiceHandlers(
  resolve: (volumeId: string) => ReplicaReceiver,
): Pick<ReplicationHandlers, "Handshake" | "Ship"> {
  return {
    Handshake: unaryHandler<HandshakeRequest__Output, HandshakeResponse>((request) =>
      resolve(requireVolumeId(request.volume_id)).handshake(request),
    ),
    Ship: bidiStreamHandler<ShipRequest__Output, ShipResponse>(async (call) => {
      const it = call[Symbol.asyncIterator]() as AsyncIterator<ShipRequest__Output>;
      const first = await it.next();
      if (first.done) return; // opened and closed without a word
      const receiver = resolve(requireVolumeId(first.value.volume_id));
      await receiver.serveShip(call, first.value, () => it.next());
    }),
  };
}
