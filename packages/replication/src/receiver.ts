import {
  type HandshakeRequest__Output,
  type HandshakeResponse,
  invalidArgument,
  type ResyncRequest__Output,
  RpcError,
  requireServerId,
  requireVolumeId,
  type ShipRequest__Output,
} from "@blockship/rpc";
import type { Volume } from "@blockship/storage";
import { status } from "@grpc/grpc-js";
import { type ResyncServerCall, serveResyncStream } from "./resync-target";
import { resyncStateOf } from "./resync-volume";
import { type ShipCall, ShipSession } from "./ship-session";
import { generationsToWire, numFromWire, numToWire, recordRefToWire, resyncStateToWire } from "./wire";

/** The agent's fencing view of one replica volume, read at every decision. */
export interface ReceiverAuthority {
  /** The epoch the master assigned (persisted by the agent before it takes effect). */
  readonly epoch: number;
  /** The server ID of the primary the master assigned, or null when none is. */
  readonly primaryServerId: string | null;
  /** Whether the current role accepts entries (REPLICA; not NONE/STALE/REBUILDING...). */
  readonly accepting: boolean;
  /** The role reported by Handshake (default ROLE_REPLICA when accepting, else ROLE_NONE). */
  readonly role?: HandshakeResponse["role"];
}

/** The identity fields every stream's first message carries (Ship, Resync). */
type StreamIdentity = Pick<
  ShipRequest__Output,
  "volume_id" | "epoch" | "primary_server_id" | "replica_server_id"
>;

/**
 * The verified TLS identity of a caller: a string (mutual TLS, certificate verified), null (the
 * server checks identities but the caller presented none), undefined (identities are not checked:
 * plaintext or TLS without client certificates).
 */
export type PeerIdentity = string | null | undefined;

export interface ReplicaReceiverOptions {
  readonly volume: Volume;
  readonly volumeId: string;
  readonly localServerId: string;
  readonly authority: () => ReceiverAuthority;
  /** An ack goes out when the input queue is empty or after this many appended bytes (default 1 MiB). */
  readonly ackEveryBytes?: number;
}

export interface ReceiverStats {
  handshakes: number;
  streams: number;
  batches: number;
  recordsAppended: number;
  recordsSkipped: number;
  barriers: number;
  rejectedStreams: number;
}

/**
 * The replica side of one volume. Rules: a stream is accepted only from the assigned primary at the
 * current epoch (rechecked at every message); batches are CRC-verified and appended by storage with
 * duplicates skipped and gaps refused (the stream then ends with needs_rebuild: the primary's next
 * handshake re-finds the cursor); barriers are answered in order once an fsync covers barrier.lsn,
 * with this copy's durable LSN. A bad stream ends; the volume and other streams are unaffected.
 */
export class ReplicaReceiver {
  readonly volume: Volume;
  readonly volumeId: string;
  readonly stats: ReceiverStats = {
    handshakes: 0,
    streams: 0,
    batches: 0,
    recordsAppended: 0,
    recordsSkipped: 0,
    barriers: 0,
    rejectedStreams: 0,
  };
  private readonly ackEveryBytes: number;
  private stopError: RpcError | undefined;
  private readonly stoppers = new Set<(err: unknown) => void>();

  constructor(private readonly opts: ReplicaReceiverOptions) {
    this.volume = opts.volume;
    this.volumeId = opts.volumeId;
    this.ackEveryBytes = opts.ackEveryBytes ?? 1024 * 1024;
  }

  /**
   * Recovery facts for the primary (returned even when the epochs differ; the primary compares).
   * `peer`: the caller's verified TLS identity (see PeerIdentity).
   */
  handshake(req: HandshakeRequest__Output, peer?: PeerIdentity): HandshakeResponse {
    this.stats.handshakes++;
    requireVolumeId(req.volume_id);
    numFromWire(req.epoch, "epoch");
    this.checkPeer(requireServerId(req.primary_server_id, "primary_server_id"), req.replica_server_id, peer);
    const v = this.volume;
    const auth = this.opts.authority();
    const headLsn = v.headLsn;
    const durableLsn = v.durableLsn;
    // The records at head and durable LSN let the primary compare histories, not just numbers.
    const headRecord = recordRefToWire(v.recordAt(headLsn));
    const durableRecord = recordRefToWire(v.recordAt(durableLsn));
    const tracking = v.changeTracking();
    return {
      epoch: numToWire(v.epoch),
      durable_lsn: numToWire(durableLsn),
      head_lsn: numToWire(headLsn),
      checkpoint_lsn: numToWire(v.checkpointLsn),
      role: auth.role ?? (auth.accepting ? "ROLE_REPLICA" : "ROLE_NONE"),
      ...(headRecord === undefined ? {} : { head_record: headRecord }),
      ...(durableRecord === undefined ? {} : { durable_record: durableRecord }),
      generations: generationsToWire(v.history()),
      change_base_lsn: numToWire(tracking.baseLsn),
      change_tracking: tracking.persistent,
      resync: resyncStateToWire(resyncStateOf(v)),
    };
  }

  /**
   * Serves one Ship stream whose first message (`first`) was already read; `next` reads the rest.
   * `peer`: the caller's verified TLS identity, rechecked against the assigned primary at every message.
   */
  async serveShip(
    call: ShipCall,
    first: ShipRequest__Output,
    next: () => Promise<IteratorResult<ShipRequest__Output>>,
    peer?: PeerIdentity,
  ): Promise<void> {
    if (this.stopError) throw this.stopError;
    let epoch: number;
    try {
      epoch = this.admit(first, peer);
    } catch (err) {
      this.stats.rejectedStreams++;
      throw err;
    }
    this.stats.streams++;
    let stop: (err: unknown) => void = () => {};
    const stopped = new Promise<never>((_, reject) => {
      stop = reject;
    });
    stopped.catch(() => {});
    this.stoppers.add(stop);
    // A cancelled call (the primary dropped it) may never end its readable side.
    const onCancelled = (): void => stop(new RpcError("shutting_down", "stream cancelled by the primary"));
    call.once("cancelled", onCancelled);
    const session = new ShipSession(this, call, epoch, this.ackEveryBytes, (err) => stop(err));
    try {
      if (first.body !== undefined) await session.handle(first);
      for (;;) {
        const n = next();
        n.catch(() => {}); // when `stopped` wins the race, a later rejection of n is nobody's business
        const r = await Promise.race([n, stopped]);
        if (r.done) break;
        this.recheck(r.value, epoch, peer);
        await session.handle(r.value);
      }
      await session.finish();
    } catch (err) {
      session.abandon();
      throw err;
    } finally {
      this.stoppers.delete(stop);
      call.off("cancelled", onCancelled);
    }
  }

  /**
   * Serves one Resync stream whose first message (`first`) was read already (resync-target.ts). Every
   * message is fenced like the first message of a Ship stream: assigned primary, epoch, role.
   */
  async serveResync(
    call: ResyncServerCall,
    first: ResyncRequest__Output,
    next: () => Promise<IteratorResult<ResyncRequest__Output>>,
    peer?: PeerIdentity,
  ): Promise<void> {
    if (this.stopError) throw this.stopError;
    let stop: (err: unknown) => void = () => {};
    const stopped = new Promise<never>((_, reject) => {
      stop = reject;
    });
    stopped.catch(() => {});
    this.stoppers.add(stop);
    const onCancelled = (): void => stop(new RpcError("shutting_down", "stream cancelled by the primary"));
    call.once("cancelled", onCancelled);
    try {
      await serveResyncStream(
        {
          call,
          volume: this.volume,
          volumeId: this.volumeId,
          fence: (msg) => this.admit(msg, peer),
          stopped,
        },
        first,
        next,
      );
    } catch (err) {
      this.stats.rejectedStreams++;
      throw err;
    } finally {
      this.stoppers.delete(stop);
      call.off("cancelled", onCancelled);
    }
  }

  /** Ends every open stream with `shutting_down` and refuses new ones. */
  close(): void {
    this.stopError ??= new RpcError("shutting_down", `replica receiver for ${this.volumeId} stopped`);
    for (const s of this.stoppers) s(this.stopError);
  }

  // ---- fencing ----------------------------------------------------------------------------------

  private checkPeer(primaryServerId: string, replicaServerId: string, peer: PeerIdentity): void {
    if (replicaServerId !== this.opts.localServerId) {
      throw new RpcError(
        "unauthenticated_peer",
        `stream meant for server ${JSON.stringify(replicaServerId)}, this is ${this.opts.localServerId}`,
      );
    }
    const assigned = this.opts.authority().primaryServerId;
    if (assigned === null || primaryServerId !== assigned) {
      throw new RpcError(
        "unauthenticated_peer",
        `${primaryServerId} is not the assigned primary of ${this.volumeId} (${assigned ?? "none assigned"})`,
      );
    }
    this.checkPeerIdentity(peer, assigned);
  }

  /** With mutual TLS, the certificate identity must be the assigned primary's server_id. */
  private checkPeerIdentity(peer: PeerIdentity, assigned: string | null): void {
    if (peer === undefined) return;
    if (peer === null) {
      throw new RpcError(
        "unauthenticated_peer",
        `${this.volumeId}: the caller presented no verified certificate`,
      );
    }
    if (peer !== assigned) {
      throw new RpcError(
        "unauthenticated_peer",
        `certificate identity ${JSON.stringify(peer)} is not the assigned primary of ${this.volumeId} (${assigned ?? "none assigned"})`,
      );
    }
  }

  /** Validates the first message of a stream (every Resync message); returns its epoch. */
  private admit(first: StreamIdentity, peer: PeerIdentity): number {
    const volumeId = requireVolumeId(first.volume_id);
    if (volumeId !== this.volumeId) {
      throw new RpcError("invalid_argument", `volume_id: stream for ${volumeId} reached ${this.volumeId}`);
    }
    const epoch = numFromWire(first.epoch, "epoch");
    if (epoch < 1) throw invalidArgument("epoch", "must be >= 1 on the first message of a stream");
    this.checkPeer(
      requireServerId(first.primary_server_id, "primary_server_id"),
      first.replica_server_id,
      peer,
    );
    const auth = this.opts.authority();
    if (!auth.accepting) {
      throw new RpcError("not_replica", `${this.volumeId} does not accept entries in its current role`, {
        code: status.FAILED_PRECONDITION,
      });
    }
    if (epoch !== auth.epoch || epoch !== this.volume.epoch) {
      throw new RpcError(
        "epoch_mismatch",
        `primary epoch ${epoch}, replica epoch ${auth.epoch} (persisted ${this.volume.epoch})`,
      );
    }
    return epoch;
  }

  /** Later messages: identity may only be repeated; the authority must still hold. */
  private recheck(msg: ShipRequest__Output, epoch: number, peer: PeerIdentity): void {
    if (
      (msg.volume_id !== "" && msg.volume_id !== this.volumeId) ||
      (msg.replica_server_id !== "" && msg.replica_server_id !== this.opts.localServerId) ||
      (msg.epoch !== "0" && msg.epoch !== "" && msg.epoch !== String(epoch))
    ) {
      throw new RpcError("invalid_argument", "identity changed mid-stream");
    }
    const auth = this.opts.authority();
    if (msg.primary_server_id !== "" && msg.primary_server_id !== auth.primaryServerId) {
      throw new RpcError("invalid_argument", "identity changed mid-stream");
    }
    // A reassignment to another primary ends this caller's stream.
    this.checkPeerIdentity(peer, auth.primaryServerId);
    if (auth.epoch !== epoch || this.volume.epoch !== epoch) {
      throw new RpcError(
        "epoch_mismatch",
        `replica epoch moved to ${auth.epoch} under a stream of epoch ${epoch}`,
      );
    }
    if (!auth.accepting) {
      throw new RpcError("not_replica", `${this.volumeId} stopped accepting entries`, {
        code: status.FAILED_PRECONDITION,
      });
    }
  }
}
