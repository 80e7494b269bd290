import type { BarrierBook } from "./barriers";
import { type ShipCall, writeBarrier } from "./ship-stream";
import { traceStage } from "./stage-trace";

/**
 * Decides when a barrier goes out on the ship stream, right behind the entries it covers. Waiters'
 * barriers go as soon as their LSN is sent; background barriers bound how much sent data may sit
 * unfsynced on the replica (by bytes, or by idle time) so durableLsn keeps moving without a flush.
 */
export class BarrierPacer {
  /** Batch bytes written since the last barrier of any kind: one barrier covers them all. */
  private bytesSinceBarrier = 0;

  constructor(
    private readonly book: BarrierBook,
    private readonly backgroundBarrierBytes: number,
    private readonly idleBarrierMs: number,
  ) {}

  noteSent(bytes: number): void {
    this.bytesSinceBarrier += bytes;
  }

  /** The waiters' barrier covering everything through `sentThrough`, if one is due. */
  sendDue(call: ShipCall, sentThrough: number): void {
    const b = this.book.takeBarrierToSend(sentThrough, Date.now());
    if (b !== undefined) this.send(call, b.id, b.lsn);
  }

  /** A background barrier once enough bytes went out unconfirmed or the stream went idle. */
  sendBackground(call: ShipCall, sentThrough: number): void {
    const b = this.book.takeBackgroundBarrier(
      sentThrough,
      this.bytesSinceBarrier >= this.backgroundBarrierBytes,
      this.idleBarrierMs,
      Date.now(),
    );
    if (b !== undefined) this.send(call, b.id, b.lsn);
  }

  /**
   * The gate closed on the next entry: what went out before it must still become durable (a
   * catch-up session stops at its frozen target and completes on this barrier's answer).
   */
  sendBeforeGate(call: ShipCall, sentThrough: number): void {
    const b = this.book.takeBackgroundBarrier(sentThrough, true, this.idleBarrierMs, Date.now());
    if (b !== undefined) this.send(call, b.id, b.lsn);
  }

  private send(call: ShipCall, id: number, lsn: number): void {
    this.bytesSinceBarrier = 0;
    writeBarrier(call, id, lsn);
    traceStage("primary_barrier_sent", id, lsn);
  }
}
