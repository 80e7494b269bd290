import { RpcError, type ShipRequest__Output, type ShipResponse } from "@blockship/rpc";
import { isStorageError, type RawAppendResult, type Volume } from "@blockship/storage";
import type { ServerDuplexStream } from "@grpc/grpc-js";
import { messageOf } from "./errors";
import { traceStage } from "./stage-trace";
import { numFromWire, numToWire } from "./wire";

export type ShipCall = ServerDuplexStream<ShipRequest__Output, ShipResponse>;

/** What a session needs of its receiver. */
export interface SessionHost {
  readonly volume: Volume;
  readonly stats: {
    batches: number;
    recordsAppended: number;
    recordsSkipped: number;
    barriers: number;
  };
}

const FAILED_PRECONDITION = 9;
const INTERNAL = 13;
/** Batches whose append may be in progress at once on one stream. */
const MAX_PIPELINED_APPENDS = 8;

/** Per-stream state: ack coalescing and the ordered chain of barrier answers. */
export class ShipSession {
  private bytesSinceAck = 0;
  private lastAcked = -1;
  private barrierChain: Promise<void> = Promise.resolve();
  private dead = false;
  private readonly pending: Promise<void>[] = [];
  private failure: unknown;

  constructor(
    private readonly r: SessionHost,
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
    traceStage("replica_batch_received", 0, last);
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
    traceStage("replica_batch_appended", 0, last);
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
    traceStage("replica_barrier_received", id, lsn);
    await this.settle();
    traceStage("replica_appends_settled", id, lsn);
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
          traceStage("replica_fsync_done", id, durable);
          response =
            durable >= lsn
              ? barrierResponse(id, durable, 0, "", "")
              : barrierResponse(id, durable, INTERNAL, "internal", `durable ${durable} < ${lsn} after fsync`);
        } catch (err) {
          // The storage reason (io_error for the failed sync, volume_failed for every barrier after
          // it: a failed sync is sticky) tells the operator this copy's disk failed, not our code.
          response = barrierResponse(
            id,
            v.durableLsn,
            INTERNAL,
            isStorageError(err) ? err.reason : "internal",
            `fsync failed: ${messageOf(err)}`,
          );
        }
      }
      this.write(response);
      traceStage("replica_answer_written", id, lsn);
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
    // The stream's epoch matched (checked per message), yet storage refused the records' epochs
    // (newer than this copy's, or decreasing along the log): no cursor position changes that.
    // The copy needs a rebuild.
    return new RpcError("needs_rebuild", `record_epoch at LSN ${first}: ${messageOf(err)}`, { cause: err });
  }
  return err;
}
