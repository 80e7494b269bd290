import { EventEmitter } from "node:events";
import net from "node:net";

// A TCP proxy that parses the HTTP/2 frame headers flowing through it, so a test can see
// what grpc-js does on the wire (keepalive PINGs, GOAWAY) without touching its internals.

const CLIENT_PREFACE_BYTES = 24;
const FRAME_HEADER_BYTES = 9;
export const FRAME_PING = 0x6;
export const FRAME_GOAWAY = 0x7;
const FLAG_ACK = 0x1;

export interface FrameCounts {
  clientPings: number;
  clientPingAcks: number;
  serverPings: number;
  serverPingAcks: number;
  clientGoaways: number;
  serverGoaways: number;
}

export class H2FrameProxy extends EventEmitter {
  readonly counts: FrameCounts = {
    clientPings: 0,
    clientPingAcks: 0,
    serverPings: 0,
    serverPingAcks: 0,
    clientGoaways: 0,
    serverGoaways: 0,
  };
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly target: { host: string; port: number }) {
    super();
    this.server = net.createServer((downstream) => this.pipe(downstream));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const address = this.server.address() as net.AddressInfo;
    return `127.0.0.1:${address.port}`;
  }

  /** Resolves when `predicate(counts)` holds (checked after every frame). */
  until(predicate: (counts: FrameCounts) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!predicate(this.counts)) return;
        this.off("frame", check);
        resolve();
      };
      this.on("frame", check);
      check();
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pipe(downstream: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    this.sockets.add(downstream).add(upstream);
    const fromClient = this.parser("client", CLIENT_PREFACE_BYTES);
    const fromServer = this.parser("server", 0);
    downstream.on("data", (chunk: Buffer) => {
      fromClient(chunk);
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      fromServer(chunk);
      downstream.write(chunk);
    });
    const closeBoth = () => {
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on("close", closeBoth).on("error", closeBoth);
    upstream.on("close", closeBoth).on("error", closeBoth);
  }

  private parser(side: "client" | "server", prefaceBytes: number): (chunk: Buffer) => void {
    let pending = Buffer.alloc(0);
    let skip = prefaceBytes;
    return (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      if (skip > 0) {
        const n = Math.min(skip, pending.length);
        pending = pending.subarray(n);
        skip -= n;
      }
      while (pending.length >= FRAME_HEADER_BYTES) {
        const length = pending.readUIntBE(0, 3);
        if (pending.length < FRAME_HEADER_BYTES + length) break;
        const type = pending[3]!;
        const flags = pending[4]!;
        pending = pending.subarray(FRAME_HEADER_BYTES + length);
        this.count(side, type, flags);
        this.emit("frame", { side, type, flags });
      }
    };
  }

  private count(side: "client" | "server", type: number, flags: number): void {
    const ack = (flags & FLAG_ACK) !== 0;
    if (type === FRAME_PING) {
      if (side === "client") ack ? this.counts.clientPingAcks++ : this.counts.clientPings++;
      else ack ? this.counts.serverPingAcks++ : this.counts.serverPings++;
    } else if (type === FRAME_GOAWAY) {
      if (side === "client") this.counts.clientGoaways++;
      else this.counts.serverGoaways++;
    }
  }
}
