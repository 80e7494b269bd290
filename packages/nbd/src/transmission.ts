// The transmission phase of one connection: requests are read in order, run concurrently and
// answered as they complete (out of order, matched by cookie). Bounded: at most
// `maxRequestsInFlight` requests and `maxBytesInFlight` payload bytes (write data held plus read
// data not yet handed to the socket); at either bound the request loop stops reading and the
// socket is paused by the reader, so TCP slows the client.
import { errnoOf, type NbdExport, NbdFencedError } from "./export";
import {
  CmdFlag,
  type CommandName,
  commandName,
  encodeErrorChunk,
  encodeReadChunkHeader,
  encodeSimpleReply,
  parseRequestHeader,
  REQUEST_HEADER_BYTES,
  REQUEST_MAGIC,
  type Request,
  validateRequest,
} from "./protocol";
import type { SocketReader } from "./reader";

export interface TransmissionLimits {
  readonly maxRequestsInFlight: number;
  readonly maxBytesInFlight: number;
}

/** One finished request, for metrics. */
export interface RequestEvent {
  readonly command: CommandName | "unknown";
  readonly ok: boolean;
  readonly errno: number;
  readonly bytes: number;
  readonly durationMs: number;
}

export interface TransmissionIo {
  readonly reader: SocketReader;
  /** Sends bytes; `done` runs once the socket took them (used to release the byte budget). */
  send(parts: readonly Buffer[], done?: () => void): void;
  /** Closes the connection at once (no further replies). */
  close(reason: string): void;
  readonly closed: () => boolean;
  /** True while replies wait in the socket beyond its bound (a client that does not read them). */
  readonly backlogged: () => boolean;
  readonly onRequest?: (e: RequestEvent) => void;
}

/** Why the request loop ended. */
export type TransmissionEnd = "disconnect" | "closed" | "bad_magic" | "fenced";

export class Transmission {
  private inFlight = 0;
  private bytesInFlight = 0;
  private wake: (() => void) | undefined;
  private fenced = false;

  constructor(
    private readonly io: TransmissionIo,
    private readonly exp: NbdExport,
    private readonly structured: boolean,
    private readonly limits: TransmissionLimits,
  ) {}

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Reads and dispatches requests until DISC, a bad magic, a fence or the end of the stream. */
  async run(): Promise<TransmissionEnd> {
    for (;;) {
      await this.capacity(0);
      if (this.io.closed()) return this.fenced ? "fenced" : "closed";
      const header = await this.io.reader.read(REQUEST_HEADER_BYTES);
      const r = parseRequestHeader(header);
      if (r.magic !== REQUEST_MAGIC) return "bad_magic";
      const name = commandName(r.type);
      if (name === "disc") {
        await this.drained();
        return "disconnect";
      }
      const problem = validateRequest(r, this.exp);
      if (name === "write") {
        if (problem !== null) {
          await this.io.reader.skip(r.length);
          this.reply(r, problem.errno, problem.message, performance.now());
          continue;
        }
        await this.capacity(r.length);
        const data = await this.io.reader.read(r.length);
        this.dispatch(r, name, r.length, () => this.exp.write(Number(r.offset), data, fua(r)));
        continue;
      }
      if (problem !== null || name === undefined) {
        this.reply(r, problem?.errno ?? 22, problem?.message ?? "unknown command", performance.now());
        continue;
      }
      await this.capacity(name === "read" ? r.length : 0);
      this.dispatchCommand(r, name);
    }
  }

  private dispatchCommand(r: Request, name: Exclude<CommandName, "write" | "disc">): void {
    const offset = Number(r.offset);
    switch (name) {
      case "read":
        this.dispatchRead(r, offset);
        return;
      case "flush":
        this.dispatch(r, name, 0, () => this.exp.flush());
        return;
      case "trim":
        this.dispatch(r, name, 0, () => this.exp.trim(offset, r.length, fua(r)));
        return;
      case "write_zeroes":
        this.dispatch(r, name, 0, () =>
          this.exp.writeZeroes(offset, r.length, fua(r), {
            noHole: (r.flags & CmdFlag.NO_HOLE) !== 0,
            fastZero: (r.flags & CmdFlag.FAST_ZERO) !== 0,
          }),
        );
        return;
      case "cache":
        this.dispatch(r, name, 0, () => this.exp.cache(offset, r.length));
        return;
    }
  }

  /**
   * Waits until one more request (and `bytes` more payload) fits and the client reads its replies;
   * an empty connection always fits. Error replies are immediate, so the reply backlog bound is
   * what stops a client that floods bad requests without reading.
   */
  private async capacity(bytes: number): Promise<void> {
    while (
      !this.io.closed() &&
      (this.io.backlogged() ||
        (this.inFlight > 0 &&
          (this.inFlight >= this.limits.maxRequestsInFlight ||
            this.bytesInFlight + bytes > this.limits.maxBytesInFlight)))
    ) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private async drained(): Promise<void> {
    while (this.inFlight > 0 && !this.io.closed()) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private begin(bytes: number): void {
    this.inFlight++;
    this.bytesInFlight += bytes;
  }

  private finish(bytes: number): void {
    this.inFlight--;
    this.bytesInFlight -= bytes;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Wakes a waiting request loop so it sees that the connection closed. */
  wakeUp(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private dispatch(r: Request, name: CommandName, heldBytes: number, run: () => Promise<void>): void {
    const startedMs = performance.now();
    this.begin(heldBytes);
    run()
      .then(
        () => {
          this.finish(heldBytes);
          this.reply(r, 0, "", startedMs, name === "write" ? r.length : 0);
        },
        (err: unknown) => {
          this.finish(heldBytes);
          this.failed(r, err, startedMs);
        },
      )
      .catch((err: unknown) => this.broken(err));
  }

  private dispatchRead(r: Request, offset: number): void {
    const startedMs = performance.now();
    this.begin(r.length);
    this.exp
      .read(offset, r.length)
      .then(
        (data) => {
          if (this.io.closed()) return this.finish(r.length);
          if (data.length !== r.length) {
            this.finish(r.length);
            return this.failed(r, new Error(`read returned ${data.length} bytes`), startedMs);
          }
          const head = this.structured
            ? encodeReadChunkHeader(r.cookie, r.offset, data.length)
            : encodeSimpleReply(r.cookie, 0);
          // The budget is released when the socket took the data, not when it was queued.
          this.io.send([head, data], () => this.finish(r.length));
          this.event("read", true, 0, r.length, startedMs);
        },
        (err: unknown) => {
          this.finish(r.length);
          this.failed(r, err, startedMs);
        },
      )
      .catch((err: unknown) => this.broken(err));
  }

  /**
   * Answering a request failed (a reply or a metrics callback threw): the connection's state is
   * unknown, so it is closed (the client resends elsewhere) rather than left to an unhandled rejection.
   */
  private broken(err: unknown): void {
    this.io.close(`internal: ${err instanceof Error ? err.message : String(err)}`);
    this.wakeUp();
  }

  private failed(r: Request, err: unknown, startedMs: number): void {
    if (err instanceof NbdFencedError) {
      this.fenced = true;
      this.io.close(`fenced: ${err.message}`);
      this.wakeUp();
      return;
    }
    this.reply(r, errnoOf(err), err instanceof Error ? err.message : String(err), startedMs);
  }

  private reply(r: Request, errno: number, message: string, startedMs: number, bytes = 0): void {
    if (this.io.closed()) return;
    const name = commandName(r.type);
    if (errno !== 0 && this.structured && name === "read") {
      this.io.send([encodeErrorChunk(r.cookie, errno, message)]);
    } else {
      this.io.send([encodeSimpleReply(r.cookie, errno)]);
    }
    this.event(name ?? "unknown", errno === 0, errno, bytes, startedMs);
  }

  private event(
    command: CommandName | "unknown",
    ok: boolean,
    errno: number,
    bytes: number,
    startedMs: number,
  ): void {
    this.io.onRequest?.({ command, ok, errno, bytes, durationMs: performance.now() - startedMs });
  }
}

function fua(r: Request): boolean {
  return (r.flags & CmdFlag.FUA) !== 0;
}
