// Exact-length reads from a socket with back-pressure: bytes are buffered only up to a small
// high-water mark unless a read asks for more; beyond that the socket is paused, so a client that
// sends faster than we serve is slowed by TCP, not by our memory. The reader can move from one
// socket to another (STARTTLS wraps the raw socket in a TLS one).
import type { Duplex } from "node:stream";

/** Bytes buffered ahead of the current read before the socket is paused. */
const HIGH_WATER_BYTES = 256 * 1024;

export class StreamClosed extends Error {
  constructor(message = "connection closed") {
    super(message);
    this.name = "StreamClosed";
  }
}

export class SocketReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private want: { bytes: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private closed: Error | undefined;
  private source: Duplex | undefined;
  private readonly onData = (b: Buffer): void => {
    this.chunks.push(b);
    this.buffered += b.length;
    this.settle();
  };
  private readonly onEnd = (): void => this.fail(new StreamClosed());

  constructor(source: Duplex) {
    this.attach(source);
  }

  /** Reads from `source` from now on (the previous source is left paused and unlistened). */
  attach(source: Duplex): void {
    this.detach();
    this.source = source;
    source.on("data", this.onData);
    source.on("end", this.onEnd);
    source.on("close", this.onEnd);
    source.on("error", this.onEnd);
    this.settle();
  }

  /** Stops reading the current source; bytes already buffered stay. */
  detach(): void {
    const s = this.source;
    if (s === undefined) return;
    s.off("data", this.onData);
    s.off("end", this.onEnd);
    s.off("close", this.onEnd);
    s.off("error", this.onEnd);
    s.pause();
    this.source = undefined;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Exactly `bytes` bytes (0 gives an empty buffer); rejects with StreamClosed at end of stream. */
  read(bytes: number): Promise<Buffer> {
    if (this.want !== undefined) return Promise.reject(new Error("concurrent read"));
    if (bytes === 0) return Promise.resolve(Buffer.alloc(0));
    return new Promise<Buffer>((resolve, reject) => {
      this.want = { bytes, resolve, reject };
      this.settle();
    });
  }

  /** Reads and drops `bytes` bytes in bounded pieces (an oversized payload never sits in memory). */
  async skip(bytes: number): Promise<void> {
    let left = bytes;
    while (left > 0) {
      const n = Math.min(left, HIGH_WATER_BYTES);
      await this.read(n);
      left -= n;
    }
  }

  fail(err: Error): void {
    if (this.closed === undefined) this.closed = err;
    this.settle();
  }

  private settle(): void {
    const w = this.want;
    if (w !== undefined && this.buffered >= w.bytes) {
      this.want = undefined;
      w.resolve(this.take(w.bytes));
    } else if (w !== undefined && this.closed !== undefined) {
      this.want = undefined;
      w.reject(this.closed);
    }
    const s = this.source;
    if (s === undefined || this.closed !== undefined) return;
    const needed = this.want === undefined ? HIGH_WATER_BYTES : Math.max(HIGH_WATER_BYTES, this.want.bytes);
    if (this.buffered >= needed) s.pause();
    else s.resume();
  }

  private take(bytes: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= bytes) {
      const out = first.subarray(0, bytes);
      if (first.length === bytes) this.chunks.shift();
      else this.chunks[0] = first.subarray(bytes);
      this.buffered -= bytes;
      return out;
    }
    const out = Buffer.allocUnsafe(bytes);
    let at = 0;
    while (at < bytes) {
      const c = this.chunks[0] as Buffer;
      const n = Math.min(c.length, bytes - at);
      c.copy(out, at, 0, n);
      at += n;
      if (n === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(n);
    }
    this.buffered -= bytes;
    return out;
  }
}
