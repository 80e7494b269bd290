import { assert } from "./errors";

/**
 * Bytes sent on a stream and not yet acknowledged, as parallel queues of (last LSN, bytes) per
 * batch: an ack with received LSN r releases every batch ending at or below r.
 */
export class InFlightWindow {
  bytes = 0;
  /** Highest `bytes` ever reached (metrics and tests). */
  peakBytes = 0;
  private lastLsns: number[] = [];
  private sizes: number[] = [];

  add(lastLsn: number, sizeBytes: number): void {
    this.bytes += sizeBytes;
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
    this.lastLsns.push(lastLsn);
    this.sizes.push(sizeBytes);
  }

  /** Releases batches covered by `receivedLsn`; true when room was freed. */
  ack(receivedLsn: number): boolean {
    let n = 0;
    while (n < this.lastLsns.length && (this.lastLsns[n] ?? 0) <= receivedLsn) {
      this.bytes -= this.sizes[n] ?? 0;
      n++;
    }
    if (n === 0) return false;
    this.lastLsns.splice(0, n);
    this.sizes.splice(0, n);
    assert(this.bytes >= 0, "in-flight bytes went negative");
    return true;
  }

  /** The stream is gone: nothing is in flight any more. */
  clear(): void {
    this.bytes = 0;
    this.lastLsns = [];
    this.sizes = [];
  }
}
