// The NBD server on node:net: one negotiation and one transmission per connection, a cap on
// connections per export, STARTTLS with the configured secure context, and fencing: every
// connection of an export can be closed at once, without replying to pending requests. A broken
// or hostile connection ends only itself; nothing a client sends can throw out of here.
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type SecureContext, TLSSocket } from "node:tls";
import type { NbdBackend, NbdExport } from "./export";
import { negotiate } from "./handshake";
import { SocketReader } from "./reader";
import { type RequestEvent, Transmission, type TransmissionEnd } from "./transmission";

export interface NbdTlsOptions {
  readonly secureContext: SecureContext;
  /** Require and verify a client certificate. */
  readonly requestClientCert: boolean;
}

export interface NbdServerOptions {
  readonly backend: NbdBackend;
  /** When set, plaintext is refused (NBD_REP_ERR_TLS_REQD) until the client does STARTTLS. */
  readonly tls?: NbdTlsOptions;
  readonly maxConnectionsPerExport?: number;
  readonly maxRequestsInFlight?: number;
  readonly maxBytesInFlight?: number;
  /** A connection that has not picked an export by then is closed. */
  readonly handshakeTimeoutMs?: number;
  readonly onRequest?: (exportName: string, e: RequestEvent) => void;
  readonly onConnection?: (e: ConnectionEvent) => void;
}

export interface ConnectionEvent {
  readonly kind: "open" | "close";
  readonly exportName: string;
  readonly remoteAddress: string;
  /** On close: why. */
  readonly reason?: string;
}

export interface ConnectionInfo {
  readonly id: number;
  readonly exportName: string;
  readonly remoteAddress: string;
  readonly tls: boolean;
  readonly structuredReplies: boolean;
  readonly connectedAtMs: number;
  readonly requestsInFlight: number;
}

export const DEFAULT_MAX_CONNECTIONS_PER_EXPORT = 16;
export const DEFAULT_MAX_REQUESTS_IN_FLIGHT = 128;
/** Payload bytes in flight per connection: two maximum-size requests. */
export const DEFAULT_MAX_BYTES_IN_FLIGHT = 64 * 1024 * 1024;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;
/** Reply bytes queued in a socket beyond which no more requests are read (the client must read). */
const MAX_REPLY_BACKLOG_BYTES = 4 * 1024 * 1024;
/** After DISC/ABORT: how long queued replies may take to leave before the socket is destroyed. */
const GRACEFUL_CLOSE_MS = 5000;

interface Conn {
  readonly id: number;
  readonly raw: Socket;
  readonly remote: string;
  socket: Duplex;
  tls: boolean;
  exportName: string;
  exp: NbdExport | undefined;
  structured: boolean;
  readonly connectedAtMs: number;
  transmission: Transmission | undefined;
  closed: boolean;
}

export class NbdServer {
  private readonly server: Server;
  private readonly conns = new Set<Conn>();
  private nextId = 1;
  private stopping = false;

  constructor(private readonly options: NbdServerOptions) {
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Binds `host:port` (port 0 = any free port); resolves with the bound `host:port`. */
  listen(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve(this.address);
      });
    });
  }

  get address(): string {
    const a = this.server.address() as AddressInfo | null;
    if (a === null) throw new Error("NBD server not listening");
    return a.family === "IPv6" ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  connections(exportName?: string): ConnectionInfo[] {
    return [...this.conns]
      .filter((c) => c.exportName !== "" && (exportName === undefined || c.exportName === exportName))
      .map((c) => ({
        id: c.id,
        exportName: c.exportName,
        remoteAddress: c.remote,
        tls: c.tls,
        structuredReplies: c.structured,
        connectedAtMs: c.connectedAtMs,
        requestsInFlight: c.transmission?.requestsInFlight ?? 0,
      }));
  }

  /** The export objects that connections are using (each once). */
  exportsInUse(): NbdExport[] {
    const out = new Set<NbdExport>();
    for (const c of this.conns) if (c.exp !== undefined) out.add(c.exp);
    return [...out];
  }

  /**
   * Closes every connection of an export now — by name, or only those using one export object —
   * and pending requests get no reply. Returns how many were closed.
   */
  closeExport(which: string | NbdExport, reason: string): number {
    let n = 0;
    for (const c of [...this.conns]) {
      if (typeof which === "string" ? c.exportName !== which : c.exp !== which) continue;
      this.closeConn(c, reason);
      n++;
    }
    return n;
  }

  /** Stops accepting, closes every connection (no replies to pending requests). */
  async close(): Promise<void> {
    this.stopping = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of [...this.conns]) this.closeConn(c, "server stopping");
    await closed;
  }

  private accept(raw: Socket): void {
    if (this.stopping) {
      raw.destroy();
      return;
    }
    raw.setNoDelay(true);
    raw.on("error", () => {}); // reported through the reader as end of stream
    const c: Conn = {
      id: this.nextId++,
      raw,
      remote: `${raw.remoteAddress ?? "?"}:${raw.remotePort ?? 0}`,
      socket: raw,
      tls: false,
      exportName: "",
      exp: undefined,
      structured: false,
      connectedAtMs: Date.now(),
      transmission: undefined,
      closed: false,
    };
    this.conns.add(c);
    raw.once("close", () => this.closeConn(c, "peer closed"));
    this.serve(c).then(
      // After DISC or ABORT the replies already queued still go out: end, not destroy.
      (end) => this.closeConn(c, end, end === "disconnect" || end === "client aborted"),
      (err: unknown) => this.closeConn(c, err instanceof Error ? err.message : String(err)),
    );
  }

  private async serve(c: Conn): Promise<TransmissionEnd | string> {
    const reader = new SocketReader(c.raw);
    const timer = setTimeout(
      () => this.closeConn(c, "handshake timeout"),
      this.options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    );
    let negotiated: Awaited<ReturnType<typeof negotiate>>;
    try {
      negotiated = await negotiate(
        {
          reader,
          send: (b) => this.write(c, [b]),
          isTls: () => c.tls,
          admit: (exp) => this.admit(c, exp),
          ...(this.options.tls === undefined
            ? {}
            : { startTls: () => this.startTls(c, this.options.tls as NbdTlsOptions) }),
        },
        this.options.backend,
      );
    } finally {
      clearTimeout(timer);
    }
    if (negotiated === undefined) return "client aborted";
    c.structured = negotiated.structuredReplies;
    this.options.onConnection?.({ kind: "open", exportName: c.exportName, remoteAddress: c.remote });
    const onRequest = this.options.onRequest;
    const name = c.exportName;
    const t = new Transmission(
      {
        reader,
        send: (parts, done) => this.write(c, parts, done),
        close: (reason) => this.closeConn(c, reason),
        closed: () => c.closed,
        backlogged: () => c.socket.writableLength > MAX_REPLY_BACKLOG_BYTES,
        ...(onRequest === undefined ? {} : { onRequest: (e: RequestEvent) => onRequest(name, e) }),
      },
      negotiated.export,
      negotiated.structuredReplies,
      {
        maxRequestsInFlight: this.options.maxRequestsInFlight ?? DEFAULT_MAX_REQUESTS_IN_FLIGHT,
        maxBytesInFlight: this.options.maxBytesInFlight ?? DEFAULT_MAX_BYTES_IN_FLIGHT,
      },
    );
    c.transmission = t;
    c.socket.on("drain", () => t.wakeUp());
    return t.run();
  }

  /** Counts the connection against the export's cap; a refusal message when it is full. */
  private admit(c: Conn, exp: NbdExport): string | null {
    const cap = this.options.maxConnectionsPerExport ?? DEFAULT_MAX_CONNECTIONS_PER_EXPORT;
    const used = [...this.conns].filter((o) => o.exportName === exp.name).length;
    if (used >= cap) return `export ${exp.name} has ${used} connections already (the limit is ${cap})`;
    c.exportName = exp.name;
    c.exp = exp;
    return null;
  }

  private startTls(c: Conn, tls: NbdTlsOptions): Promise<Duplex> {
    return new Promise<Duplex>((resolve, reject) => {
      const s = new TLSSocket(c.raw, {
        isServer: true,
        secureContext: tls.secureContext,
        requestCert: tls.requestClientCert,
        rejectUnauthorized: tls.requestClientCert,
      });
      s.on("error", () => {});
      s.once("secure", () => {
        c.socket = s;
        c.tls = true;
        resolve(s);
      });
      s.once("close", () => reject(new Error("TLS handshake failed")));
      c.socket = s;
    });
  }

  private write(c: Conn, parts: readonly Buffer[], done?: () => void): void {
    if (c.closed) {
      done?.();
      return;
    }
    const s = c.socket;
    if (parts.length === 1) {
      s.write(parts[0] as Buffer, done === undefined ? undefined : () => done());
      return;
    }
    s.cork();
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1;
      s.write(parts[i] as Buffer, last && done !== undefined ? () => done() : undefined);
    }
    process.nextTick(() => s.uncork());
  }

  private closeConn(c: Conn, reason: string, graceful = false): void {
    if (c.closed) return;
    c.closed = true;
    this.conns.delete(c);
    if (graceful) {
      c.socket.end();
      setTimeout(() => c.raw.destroy(), GRACEFUL_CLOSE_MS).unref();
    } else {
      c.socket.destroy();
      c.raw.destroy();
    }
    c.transmission?.wakeUp();
    if (c.exportName !== "")
      this.options.onConnection?.({
        kind: "close",
        exportName: c.exportName,
        remoteAddress: c.remote,
        reason,
      });
  }
}
