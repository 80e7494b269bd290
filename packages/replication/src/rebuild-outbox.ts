import { once } from "node:events";
import type { StreamBaseResponse } from "@blockship/rpc";
import type { ServerWritableStream } from "@grpc/grpc-js";
import { assert } from "./errors";

export type StreamBaseCall = ServerWritableStream<unknown, StreamBaseResponse>;

/**
 * Bounded sending on a server stream: at most `maxInFlight` messages handed to grpc-js and not yet
 * written to the HTTP/2 stream (their write callbacks have not fired), and `write()` false waits
 * for 'drain'. grpc-js's own buffer would take 16 messages (64 MiB of 4 MiB chunks) before saying
 * no; counting callbacks keeps memory at a couple of chunks and follows the peer's flow control.
 * A cancelled call never calls back: every wait also ends on `signal`.
 */
export class Outbox {
  private inFlight = 0;
  private wakeUp: (() => void) | undefined;
  sentBytes = 0;
  messages = 0;

  constructor(
    private readonly call: StreamBaseCall,
    private readonly maxInFlight: number,
    private readonly signal: AbortSignal,
  ) {
    assert(maxInFlight >= 1, "outbox needs room for one message");
    signal.addEventListener("abort", () => this.wake(), { once: true });
  }

  /** Sends one message once there is room; resolves when it was handed over (not yet written). */
  async send(msg: StreamBaseResponse, payloadBytes: number): Promise<void> {
    while (this.inFlight >= this.maxInFlight && !this.signal.aborted) {
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
      });
    }
    if (this.signal.aborted) return;
    this.inFlight++;
    this.messages++;
    this.sentBytes += payloadBytes;
    const ok = this.call.write(msg, () => {
      this.inFlight--;
      this.wake();
    });
    if (!ok && !this.signal.aborted) await this.drain();
  }

  /** Waits until every message handed over was written (or the call is gone). */
  async flushed(): Promise<void> {
    while (this.inFlight > 0 && !this.signal.aborted) {
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
      });
    }
  }

  private async drain(): Promise<void> {
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    this.signal.addEventListener("abort", stop, { once: true });
    try {
      await once(this.call, "drain", { signal: ac.signal });
    } catch {
      // aborted: the caller checks the signal
    } finally {
      this.signal.removeEventListener("abort", stop);
    }
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }
}
