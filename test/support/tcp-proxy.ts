import { once } from "node:events";
import net from "node:net";

// A real TCP proxy on loopback that tests put between two agents to make network faults:
// cut every open connection, refuse new ones, or stall traffic, then heal. It forwards bytes
// untouched (HTTP/2 + gRPC pass through as-is) and counts them, so a test can also wait for
// "N bytes have crossed" before cutting (e.g. half-way through a rebuild).

export interface TcpProxyStats {
  readonly connectionsAccepted: number;
  readonly bytesUpstream: number;
  readonly bytesDownstream: number;
  readonly openConnections: number;
}

export class TcpProxy {
  private readonly server: net.Server;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private refusing = false;
  private stalled = false;
  private accepted = 0;
  private upBytes = 0;
  private downBytes = 0;
  private readonly byteWaiters: Array<{ total: number; resolve: () => void }> = [];

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => this.onClient(client));
  }

  /** Listens on 127.0.0.1 (a free port unless `listenPort` is given) and forwards to `targetAddress`. */
  static async start(targetAddress: string, listenPort = 0): Promise<TcpProxy> {
    const { host, port } = splitAddress(targetAddress);
    const proxy = new TcpProxy({ host, port });
    proxy.server.listen(listenPort, "127.0.0.1");
    await once(proxy.server, "listening");
    return proxy;
  }

  get address(): string {
    const info = this.server.address();
    if (info === null || typeof info === "string") throw new Error("proxy is not listening");
    return `127.0.0.1:${info.port}`;
  }

  stats(): TcpProxyStats {
    return {
      connectionsAccepted: this.accepted,
      bytesUpstream: this.upBytes,
      bytesDownstream: this.downBytes,
      openConnections: this.pairs.size,
    };
  }

  /** Destroys every open connection (both sides see a reset). New connections still pass. */
  cutAll(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /** While refusing, new connections are closed at once and open ones are cut. */
  setRefusing(refusing: boolean): void {
    this.refusing = refusing;
    if (refusing) this.cutAll();
  }

  /** While stalled, no byte moves in either direction (sockets stay open: a "slow" peer). */
  setStalled(stalled: boolean): void {
    this.stalled = stalled;
    for (const [a, b] of this.pairs) {
      if (stalled) {
        a.pause();
        b.pause();
      } else {
        a.resume();
        b.resume();
      }
    }
  }

  /** Resolves once at least `total` bytes have gone from client to target (upstream + downstream). */
  waitForBytes(total: number): Promise<void> {
    if (this.upBytes + this.downBytes >= total) return Promise.resolve();
    return new Promise((resolve) => this.byteWaiters.push({ total, resolve }));
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onClient(client: net.Socket): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    this.accepted++;
    const upstream = net.connect(this.target.port, this.target.host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    const teardown = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on("error", teardown).on("close", teardown);
    upstream.on("error", teardown).on("close", teardown);
    client.on("data", (chunk: Buffer) => {
      this.upBytes += chunk.length;
      if (!upstream.write(chunk)) client.pause();
      this.notifyBytes();
    });
    upstream.on("data", (chunk: Buffer) => {
      this.downBytes += chunk.length;
      if (!client.write(chunk)) upstream.pause();
      this.notifyBytes();
    });
    upstream.on("drain", () => {
      if (!this.stalled) client.resume();
    });
    client.on("drain", () => {
      if (!this.stalled) upstream.resume();
    });
    if (this.stalled) {
      client.pause();
      upstream.pause();
    }
  }

  private notifyBytes(): void {
    const moved = this.upBytes + this.downBytes;
    for (let i = this.byteWaiters.length - 1; i >= 0; i--) {
      const waiter = this.byteWaiters[i]!;
      if (moved >= waiter.total) {
        this.byteWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }
}

function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`bad address ${JSON.stringify(address)}: want host:port`);
  }
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ""), port };
}
