import type { ReplicationClient } from "@blockship/rpc";
import type { Volume } from "@blockship/storage";
import type { ClientUnaryCall } from "@grpc/grpc-js";
import type { ReplicaTarget } from "./api";
import { classifyHandshake, type HandshakeVerdict, type ReplicaFacts } from "./handshake";
import { Disconnect, handshake, type ShipIdentity } from "./ship-stream";

export interface HandshakeResult {
  readonly replica: ReplicaFacts;
  readonly verdict: HandshakeVerdict;
}

/**
 * One shipper's connection to its replica: a fresh client per attempt (so the shipper's back-off,
 * not the channel's, decides retries) and the handshake that says where the replica stands.
 */
export class ReplicaDialer {
  private client: ReplicationClient | undefined;
  private handshakeCall: ClientUnaryCall | undefined;

  constructor(
    private readonly connect: (address: string, serverId: string) => ReplicationClient,
    private readonly target: ReplicaTarget,
    private readonly identity: ShipIdentity,
    private readonly handshakeTimeoutMs: number,
  ) {}

  /** The client of the current attempt; the ship stream opens on it. */
  get current(): ReplicationClient | undefined {
    return this.client;
  }

  /** Replaces the client, then handshakes at `epoch`; throws Disconnect when the volume moved on. */
  async dial(volume: Volume, epoch: number): Promise<HandshakeResult> {
    this.close();
    const client = this.connect(this.target.address, this.target.serverId);
    this.client = client;
    if (epoch !== volume.epoch)
      throw new Disconnect(`epoch_mismatch: assigned epoch ${epoch}, volume epoch ${volume.epoch}`);
    const replica = await handshake(
      client,
      this.identity,
      { epoch, headLsn: volume.headLsn, tailLsn: volume.tailLsn },
      this.handshakeTimeoutMs,
      (call) => {
        this.handshakeCall = call;
      },
    );
    // Judged against the volume as it is after the round trip: appends may have landed meanwhile.
    const verdict = classifyHandshake(
      { epoch, headLsn: volume.headLsn, tailLsn: volume.tailLsn, recordAt: (lsn) => volume.recordAt(lsn) },
      replica,
    );
    return { replica, verdict };
  }

  cancelHandshake(): void {
    this.handshakeCall?.cancel();
  }

  close(): void {
    const c = this.client;
    this.client = undefined;
    c?.close();
  }
}
