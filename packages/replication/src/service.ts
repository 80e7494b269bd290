import {
  bidiStreamHandler,
  type HandshakeRequest__Output,
  type HandshakeResponse,
  type ReplicationHandlers,
  type ResyncRequest__Output,
  type ResyncResponse,
  requireVolumeId,
  type ServerCallLike,
  type ShipRequest__Output,
  type ShipResponse,
  unaryHandler,
} from "@blockship/rpc";
import type { PeerIdentity, ReplicaReceiver } from "./receiver";

export interface ReplicationServiceOptions {
  /**
   * The verified TLS identity of a call's peer (mutual TLS). When given, a receiver admits
   * Handshake, Ship and Resync only from a peer whose identity is the assigned primary's server_id; a call
   * without one is refused (`unauthenticated_peer`). Leave it out on plaintext or TLS without
   * client certificates: then only the server IDs the messages claim are checked.
   */
  readonly peerIdentity?: (call: ServerCallLike) => string | undefined;
}

/**
 * The `Replication` service for @blockship/rpc's server: `startServer({handlers: {replication:
 * replicationServiceHandlers(resolve)}})`. `resolve(volumeId)` returns the volume's receiver or
 * throws an error with a `reason` (`volume_not_found`, `not_replica`, ...), which rpc's error
 * mapping turns into the gRPC status. With `options.peerIdentity` (mTLS), the peer's certificate
 * identity must be the assigned primary (see ReplicaReceiver).
 */
export function replicationServiceHandlers(
  resolve: (volumeId: string) => ReplicaReceiver,
  options: ReplicationServiceOptions = {},
): Pick<ReplicationHandlers, "Handshake" | "Ship" | "Resync"> {
  const peerOf = options.peerIdentity;
  const peer = (call: ServerCallLike): PeerIdentity =>
    peerOf === undefined ? undefined : (peerOf(call) ?? null);
  return {
    Handshake: unaryHandler<HandshakeRequest__Output, HandshakeResponse>((request, call) =>
      resolve(requireVolumeId(request.volume_id)).handshake(request, peer(call)),
    ),
    Ship: bidiStreamHandler<ShipRequest__Output, ShipResponse>(async (call) => {
      const it = call[Symbol.asyncIterator]() as AsyncIterator<ShipRequest__Output>;
      const first = await it.next();
      if (first.done) return; // opened and closed without a word
      const receiver = resolve(requireVolumeId(first.value.volume_id));
      await receiver.serveShip(call, first.value, () => it.next(), peer(call));
    }),
    Resync: bidiStreamHandler<ResyncRequest__Output, ResyncResponse>(async (call) => {
      const it = call[Symbol.asyncIterator]() as AsyncIterator<ResyncRequest__Output>;
      const first = await it.next();
      if (first.done) return; // opened and closed without a word
      const receiver = resolve(requireVolumeId(first.value.volume_id));
      await receiver.serveResync(call, first.value, () => it.next(), peer(call));
    }),
  };
}
