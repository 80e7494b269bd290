import {
  type HandshakeRequest__Output,
  type HandshakeResponse,
  RpcError,
  requireServerId,
  requireVolumeId,
  type ShipRequest__Output,
  type ShipResponse,
} from "@blockship/rpc";
import { isStorageError, type RawAppendResult, type Volume } from "@blockship/storage";
import { type ServerDuplexStream, status } from "@grpc/grpc-js";
import { messageOf } from "./errors";
import { numFromWire, numToWire } from "./wire";

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

export interface ReplicaReceiverOptions {
  readonly volume: Volume;
  readonly volumeId: string;
  readonly localServerId: string;
  readonly authority: () => ReceiverAuthority;
  /** An ack goes out when the input queue is empty or after this many appended bytes (default 1 MiB). */
  readonly ackEveryBytes?: number;
}

export type ShipCall = ServerDuplexStream<ShipRequest__Output, ShipResponse>;

export interface ReceiverStats {
  handshakes: number;
  streams: number;
  batches: number;
  recordsAppended: number;
  recordsSkipped: number;
  barriers: number;
  rejectedStreams: number;
}

const FAILED_PRECONDITION = 9;
/** Batches whose append may be in progress at once on one stream. */
const MAX_PIPELINED_APPENDS = 8;
const INTERNAL = 13;

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

  /** Recovery facts for the primary (returned even when the epochs differ; the primary compares). */
  handshake(req: HandshakeRequest__Output): HandshakeResponse {
    this.stats.handshakes++;
    requireVolumeId(req.volume_id);
    numFromWire(req.epoch, "epoch");
    this.checkPeer(requireServerId(req.primary_server_id, "primary_server_id"), req.replica_server_id);
    const v = this.volume;
    const auth = this.opts.authority();
    return {
      epoch: numToWire(v.epoch),
      durable_lsn: numToWire(v.durableLsn),
      head_lsn: numToWire(v.headLsn),
      checkpoint_lsn: numToWire(v.checkpointLsn),
      role: auth.role ?? (auth.accepting ? "ROLE_REPLICA" : "ROLE_NONE"),
    };
  }

  /** Serves one Ship stream whose first message (`first`) was already read; `next` reads the rest. */
  async serveShip(
    call: ShipCall,
    first: ShipRequest__Output,
    next: () => Promise<IteratorResult<ShipRequest__Output>>,
  ): Promise<void> {
    if (this.stopError) throw this.stopError;
    let epoch: number;
    try {
      epoch = this.admit(first);
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
        this.recheck(r.value, epoch);
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

  /** Ends every open stream with `shutting_down` and refuses new ones. */
  close(): void {
    this.stopError ??= new RpcError("shutting_down", `replica receiver for ${this.volumeId} stopped`);
    for (const s of this.stoppers) s(this.stopError);
  }

  // ---- fencing ----------------------------------------------------------------------------------

  private checkPeer(primaryServerId: string, replicaServerId: string): void {
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
  }

  /** Validates the first message; returns the stream's epoch. */
  private admit(first: ShipRequest__Output): number {
    const volumeId = requireVolumeId(first.volume_id);
    if (volumeId !== this.volumeId) {
      throw new RpcError("invalid_argument", `volume_id: stream for ${volumeId} reached ${this.volumeId}`);
    }
    this.checkPeer(requireServerId(first.primary_server_id, "primary_server_id"), first.replica_server_id);
    const auth = this.opts.authority();
    if (!auth.accepting) {
      throw new RpcError("not_replica", `${this.volumeId} does not accept entries in its current role`, {
        code: status.FAILED_PRECONDITION,
      });
    }
    const epoch = numFromWire(first.epoch, "epoch");
    if (epoch !== auth.epoch || epoch !== this.volume.epoch) {
      throw new RpcError(
        "epoch_mismatch",
        `primary epoch ${epoch}, replica epoch ${auth.epoch} (persisted ${this.volume.epoch})`,
      );
    }
    return epoch;
  }

  /** Later messages: identity may only be repeated; the authority must still hold. */
  private recheck(msg: ShipRequest__Output, epoch: number): void {
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

/** Per-stream state: ack coalescing and the ordered chain of barrier answers. */
class ShipSession {
  private bytesSinceAck = 0;
  private lastAcked = -1;
  private barrierChain: Promise<void> = Promise.resolve();
  private dead = false;
  private readonly pending: Promise<void>[] = [];
  private failure: unknown;

  constructor(
    private readonly r: ReplicaReceiver,
    private readonly call: ShipCall,
    readonly epoch: number,
    private readonly ackEveryBytes: number,
    /** Ends the stream now (an append failed while the reader waits for the next message). */
    private readonly fail: (err: unknown) => void,
  ) {}

  async handle(msg: ShipRequest__Output): Promise<void> {
    if (msg.body === "batch" && msg.batch) return this.onBatch(msg.batch);
    if (msg.body === "barrier" && msg.barrier) return this.onBarrier(msg.barrier);
    throw new RpcError("invalid_argument", "body: a ShipRequest after the first needs a batch or a barrier");
  }

  async finish(): Promise<void> {
    await this.settle();
    this.ack();
    await this.barrierChain;
  }

  abandon(): void {
    this.dead = true;
  }

  private async onBatch(b: NonNullable<ShipRequest__Output["batch"]>): Promise<void> {
    const first = numFromWire(b.first_lsn, "batch.first_lsn");
    const last = numFromWire(b.last_lsn, "batch.last_lsn");
    if (first < 1 || last < first || b.record_count !== last - first + 1 || b.records.length === 0) {
      throw new RpcError(
        "invalid_argument",
        `batch: first_lsn ${first}, last_lsn ${last}, record_count ${b.record_count}, ${b.records.length} bytes disagree`,
      );
    }
    this.throwIfFailed();
    // Appends are pipelined: storage queues them in order (and coalesces them into fewer writes),
    // so the next message is read while this one is written. A failure ends the stream at the
    // next message, barrier or the end.
    const done = this.r.volume.appendRecords(b.records).then(
      (res) => this.appended(res, b.records.length, b.record_count, first, last),
      (err: unknown) => {
        this.failure ??= mapAppendError(err, first);
        this.fail(this.failure);
      },
    );
    this.pending.push(done);
    if (this.pending.length >= MAX_PIPELINED_APPENDS) await this.pending.shift();
    this.throwIfFailed();
  }

  private appended(res: RawAppendResult, bytes: number, count: number, first: number, last: number): void {
    if (res.appended + res.skipped !== count || res.headLsn < last) {
      this.failure ??= new RpcError(
        "invalid_argument",
        `batch: header says LSNs ${first}..${last}, records held ${res.appended + res.skipped} (head now ${res.headLsn})`,
      );
      this.fail(this.failure);
      return;
    }
    const st = this.r.stats;
    st.batches++;
    st.recordsAppended += res.appended;
    st.recordsSkipped += res.skipped;
    this.bytesSinceAck += bytes;
    if (this.bytesSinceAck >= this.ackEveryBytes || this.call.readableLength === 0) this.ack();
  }

  /** Waits for every pipelined append; throws the first failure. */
  private async settle(): Promise<void> {
    while (this.pending.length > 0) await this.pending.shift();
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private async onBarrier(b: NonNullable<ShipRequest__Output["barrier"]>): Promise<void> {
    const id = numFromWire(b.barrier_id, "barrier.barrier_id");
    const lsn = numFromWire(b.lsn, "barrier.lsn");
    await this.settle();
    const v = this.r.volume;
    this.r.stats.barriers++;
    this.ack();
    // Everything sent before the barrier is appended by now (in-band order). Start the fsync now so
    // it covers exactly that, and answer in order.
    const head = v.headLsn;
    const flushed = lsn <= head ? v.flush() : undefined;
    flushed?.catch(() => {});
    this.barrierChain = this.barrierChain.then(async () => {
      let response: ShipResponse;
      if (flushed === undefined) {
        response = barrierResponse(
          id,
          v.durableLsn,
          FAILED_PRECONDITION,
          "needs_rebuild",
          `barrier LSN ${lsn} is beyond the received LSN ${head}`,
        );
      } else {
        try {
          await flushed;
          const durable = v.durableLsn;
          response =
            durable >= lsn
              ? barrierResponse(id, durable, 0, "", "")
              : barrierResponse(id, durable, INTERNAL, "internal", `durable ${durable} < ${lsn} after fsync`);
        } catch (err) {
          response = barrierResponse(
            id,
            v.durableLsn,
            INTERNAL,
            "internal",
            `fsync failed: ${messageOf(err)}`,
          );
        }
      }
      this.write(response);
    });
  }

  private ack(): void {
    const head = this.r.volume.headLsn;
    this.bytesSinceAck = 0;
    if (head === this.lastAcked) return;
    this.lastAcked = head;
    this.write({ ack: { received_lsn: numToWire(head) } });
  }

  private write(msg: ShipResponse): void {
    if (this.dead) return;
    try {
      this.call.write(msg);
    } catch {
      this.dead = true;
    }
  }
}

function barrierResponse(
  id: number,
  durable: number,
  code: number,
  reason: string,
  message: string,
): ShipResponse {
  return {
    barrier: {
      barrier_id: numToWire(id),
      durable_lsn: numToWire(durable),
      status: { code, reason, message },
    },
  };
}

function mapAppendError(err: unknown, first: number): unknown {
  if (isStorageError(err, "corrupt") || isStorageError(err, "invalid_argument")) {
    return new RpcError("invalid_argument", `batch.records: ${messageOf(err)}`, { cause: err });
  }
  if (isStorageError(err, "lsn_gap")) {
    return new RpcError("needs_rebuild", `gap before batch at LSN ${first}: ${messageOf(err)}`, {
      cause: err,
    });
  }
  if (isStorageError(err, "log_mismatch")) {
    // The replica's log does not continue the primary's at this LSN (divergent history).
    return new RpcError("needs_rebuild", `log_mismatch at LSN ${first}: ${messageOf(err)}`, { cause: err });
  }
  if (isStorageError(err, "epoch_mismatch")) {
    // The stream's epoch matched (checked per message), so these records carry an older epoch
    // (written before a promotion): storage's exact-epoch rule refuses them and no cursor position
    // changes that. The copy needs a rebuild.
    return new RpcError("needs_rebuild", `record_epoch at LSN ${first}: ${messageOf(err)}`, { cause: err });
  }
  return err;
}
