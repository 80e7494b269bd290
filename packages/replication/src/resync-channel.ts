import { once } from "node:events";
import {
  detailOf,
  grpcCodeOf,
  type ReplicationClient,
  type ResyncRequest,
  type ResyncResponse__Output,
  reasonOf,
} from "@blockship/rpc";
import { type ClientDuplexStream, status } from "@grpc/grpc-js";

// The primary's end of one Resync stream: ordered responses for the protocol steps (ranges,
// ranges_done, committed), the acks folded into a byte counter for flow control, and the stream's
// failure as a ResyncError with a stable reason.

/** A failed resync. `reason` is stable: the replica's reason, or one of this package's. */
export class ResyncError extends Error {
  readonly reason: string;
  constructor(reason: string, detail: string, options?: { cause?: unknown }) {
    super(`${reason}: ${detail}`, options);
    this.name = "ResyncError";
    this.reason = reason;
  }
}

export function isResyncError(err: unknown, reason?: string): err is ResyncError {
  return err instanceof ResyncError && (reason === undefined || err.reason === reason);
}

type Call = ClientDuplexStream<ResyncRequest, ResyncResponse__Output>;

export class ResyncChannel {
  /** Cumulative bytes the replica reported written (its latest ack). */
  ackedBytes = 0;
  private readonly call: Call;
  private readonly queue: ResyncResponse__Output[] = [];
  private failure: ResyncError | undefined;
  private ended = false;
  private wakeUp: (() => void) | undefined;

  constructor(client: ReplicationClient, signal: AbortSignal) {
    this.call = client.Resync() as Call;
    this.call.on("data", (m: ResyncResponse__Output) => {
      if (m.body === "ack") this.ackedBytes = Math.max(this.ackedBytes, Number(m.ack?.bytes_applied ?? 0));
      else this.queue.push(m);
      this.wake();
    });
    this.call.on("error", (err) => {
      this.failure ??= streamFailure(err);
      this.wake();
    });
    this.call.on("end", () => {
      this.ended = true;
      this.wake();
    });
    const onAbort = (): void => {
      this.failure ??= abortFailure(signal.reason);
      this.call.cancel();
      this.wake();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  }

  /** Sends one request; waits for grpc-js to drain when its buffer is full. */
  async send(msg: ResyncRequest): Promise<void> {
    this.check();
    if (this.call.write(msg)) return;
    const drained = once(this.call, "drain");
    drained.catch(() => {});
    while (!(await this.until(drained))) this.check();
    this.check();
  }

  /** The next non-ack response. */
  async next(): Promise<ResyncResponse__Output> {
    for (;;) {
      const m = this.queue.shift();
      if (m !== undefined) return m;
      this.check();
      if (this.ended) throw new ResyncError("resync_disconnected", "the replica ended the stream early");
      await this.until(undefined);
    }
  }

  /** Waits until at most `maxUnackedBytes` of `sentBytes` are not acknowledged. */
  async awaitAcks(sentBytes: number, maxUnackedBytes: number): Promise<void> {
    while (sentBytes - this.ackedBytes > maxUnackedBytes) {
      this.check();
      if (this.ended) throw new ResyncError("resync_disconnected", "the replica ended the stream early");
      await this.until(undefined);
    }
  }

  /** After committed: waits for the replica's OK status (it ends the stream), then half-closes. */
  async finish(): Promise<void> {
    this.call.end();
    while (!this.ended) {
      this.check();
      await this.until(undefined);
    }
    this.check();
  }

  cancel(): void {
    this.call.cancel();
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** Resolves true when `p` settled, false when woken by an event first. */
  private until(p: Promise<unknown> | undefined): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.wakeUp = () => resolve(false);
      p?.then(
        () => resolve(true),
        () => resolve(true),
      );
    });
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }
}

function streamFailure(err: unknown): ResyncError {
  const reason = reasonOf(err);
  const code = grpcCodeOf(err);
  if (reason !== undefined) return new ResyncError(reason, detailOf(err), { cause: err });
  // No reason: the transport broke (connection reset, deadline, proxy cut).
  const what = code === undefined ? "" : ` (${status[code]})`;
  return new ResyncError("resync_disconnected", `the stream broke${what}: ${detailOf(err)}`, { cause: err });
}

function abortFailure(why: unknown): ResyncError {
  if (why instanceof ResyncError) return why;
  const reason = reasonOf(why);
  const detail = why instanceof Error ? why.message : String(why ?? "aborted");
  return new ResyncError(reason ?? "resync_cancelled", detail, { cause: why });
}
