// Test helpers: an in-memory export (with hooks to delay or fail operations) and a raw NBD
// client that speaks the wire format byte by byte, so tests can send anything, including garbage.
import { connect, type Socket } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import type { NbdBackend, NbdExport, OpenResult, ZeroOptions } from "../src/export";
import {
  IHAVEOPT,
  OPTION_REPLY_MAGIC,
  REQUEST_MAGIC,
  SIMPLE_REPLY_MAGIC,
  STRUCTURED_REPLY_MAGIC,
} from "../src/protocol";
import { SocketReader } from "../src/reader";

export interface MemoryOp {
  readonly op: string;
  readonly offset: number;
  readonly length: number;
  readonly fua?: boolean;
  readonly zero?: ZeroOptions;
}

export class MemoryExport implements NbdExport {
  readonly data: Buffer;
  readonly ops: MemoryOp[] = [];
  readonly description = "memory";
  readonly preferredBlockBytes = 4096;
  readonly multiConn = true;
  /** Runs before each operation; may await or throw. */
  hook: ((op: MemoryOp) => Promise<void>) | undefined;

  constructor(
    readonly name: string,
    readonly sizeBytes: number,
    readonly minBlockBytes = 4096,
    readonly maxPayloadBytes = 1024 * 1024,
  ) {
    this.data = Buffer.alloc(sizeBytes);
  }

  private async run(op: MemoryOp): Promise<void> {
    this.ops.push(op);
    await this.hook?.(op);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    await this.run({ op: "read", offset, length });
    return Buffer.from(this.data.subarray(offset, offset + length));
  }
  async write(offset: number, data: Buffer, fua: boolean): Promise<void> {
    await this.run({ op: "write", offset, length: data.length, fua });
    data.copy(this.data, offset);
  }
  async flush(): Promise<void> {
    await this.run({ op: "flush", offset: 0, length: 0 });
  }
  async trim(offset: number, length: number, fua: boolean): Promise<void> {
    await this.run({ op: "trim", offset, length, fua });
    this.data.fill(0, offset, offset + length);
  }
  async writeZeroes(offset: number, length: number, fua: boolean, zero: ZeroOptions): Promise<void> {
    await this.run({ op: "write_zeroes", offset, length, fua, zero });
    this.data.fill(0, offset, offset + length);
  }
  async cache(offset: number, length: number): Promise<void> {
    await this.run({ op: "cache", offset, length });
  }
}

export class MemoryBackend implements NbdBackend {
  readonly exports = new Map<string, MemoryExport>();
  refusals = new Map<string, OpenResult>();

  add(e: MemoryExport): MemoryExport {
    this.exports.set(e.name, e);
    return e;
  }
  list() {
    return [...this.exports.values()].map((e) => ({ name: e.name, description: e.description }));
  }
  open(name: string): OpenResult {
    const refused = this.refusals.get(name);
    if (refused !== undefined) return refused;
    const e = this.exports.get(name);
    return e === undefined
      ? { ok: false, refusal: "unknown", message: `no export ${name}` }
      : { ok: true, export: e };
  }
}

export interface OptionReply {
  readonly option: number;
  readonly type: number;
  readonly data: Buffer;
}

export interface Reply {
  readonly cookie: bigint;
  readonly error: number;
  readonly data?: Buffer;
  readonly structured: boolean;
  readonly message?: string;
}

/** A raw client: every byte is the test's choice. */
export class RawClient {
  reader: SocketReader;
  private constructor(public socket: Socket | TLSSocket) {
    this.reader = new SocketReader(socket);
  }

  static async connect(address: string): Promise<RawClient> {
    const port = Number(address.slice(address.lastIndexOf(":") + 1));
    const s = connect(port, "127.0.0.1");
    s.on("error", () => {});
    await new Promise<void>((resolve, reject) => {
      s.once("connect", resolve);
      s.once("error", reject);
    });
    return new RawClient(s);
  }

  /** Greeting + client flags; returns the handshake flags. */
  async hello(clientFlags = 3): Promise<number> {
    const g = await this.reader.read(18);
    if (g.readBigUInt64BE(8) !== IHAVEOPT) throw new Error("no IHAVEOPT");
    const f = Buffer.alloc(4);
    f.writeUInt32BE(clientFlags);
    this.send(f);
    return g.readUInt16BE(16);
  }

  send(b: Buffer): void {
    this.socket.write(b);
  }

  option(option: number, data: Buffer = Buffer.alloc(0), magic = IHAVEOPT): void {
    const h = Buffer.alloc(16);
    h.writeBigUInt64BE(magic, 0);
    h.writeUInt32BE(option, 8);
    h.writeUInt32BE(data.length, 12);
    this.send(Buffer.concat([h, data]));
  }

  async optionReply(): Promise<OptionReply> {
    const h = await this.reader.read(20);
    if (h.readBigUInt64BE(0) !== OPTION_REPLY_MAGIC) throw new Error("bad option reply magic");
    const data = await this.reader.read(h.readUInt32BE(16));
    return { option: h.readUInt32BE(8), type: h.readUInt32BE(12), data };
  }

  /** Option replies up to and including the final (ACK or error) one. */
  async optionReplies(): Promise<OptionReply[]> {
    const out: OptionReply[] = [];
    for (let i = 0; i < 100; i++) {
      const r = await this.optionReply();
      out.push(r);
      if (r.type !== 2 && r.type !== 3) return out;
    }
    throw new Error("too many option replies");
  }

  async go(name: string, infos: number[] = [3], option = 7): Promise<OptionReply[]> {
    this.option(option, goData(name, infos));
    return this.optionReplies();
  }

  request(
    type: number,
    flags: number,
    cookie: bigint,
    offset: bigint,
    length: number,
    payload?: Buffer,
    magic = REQUEST_MAGIC,
  ): void {
    const h = Buffer.alloc(28);
    h.writeUInt32BE(magic, 0);
    h.writeUInt16BE(flags, 4);
    h.writeUInt16BE(type, 6);
    h.writeBigUInt64BE(cookie, 8);
    h.writeBigUInt64BE(offset, 16);
    h.writeUInt32BE(length, 24);
    this.send(payload === undefined ? h : Buffer.concat([h, payload]));
  }

  /** One reply; a simple READ reply needs `readLength` to know how much data follows. */
  async reply(readLengths: ReadonlyMap<bigint, number> = new Map()): Promise<Reply> {
    const head = await this.reader.read(4);
    const magic = head.readUInt32BE(0);
    if (magic === SIMPLE_REPLY_MAGIC) {
      const rest = await this.reader.read(12);
      const error = rest.readUInt32BE(0);
      const cookie = rest.readBigUInt64BE(4);
      const len = readLengths.get(cookie);
      if (error === 0 && len !== undefined)
        return { cookie, error, data: await this.reader.read(len), structured: false };
      return { cookie, error, structured: false };
    }
    if (magic !== STRUCTURED_REPLY_MAGIC) throw new Error(`bad reply magic 0x${magic.toString(16)}`);
    const rest = await this.reader.read(16);
    const type = rest.readUInt16BE(2);
    const cookie = rest.readBigUInt64BE(4);
    const payload = await this.reader.read(rest.readUInt32BE(12));
    if (type === 1) return { cookie, error: 0, data: payload.subarray(8), structured: true };
    if (type === 0x8001) {
      const len = payload.readUInt16BE(4);
      return {
        cookie,
        error: payload.readUInt32BE(0),
        message: payload.subarray(6, 6 + len).toString(),
        structured: true,
      };
    }
    throw new Error(`unexpected chunk type ${type}`);
  }

  /** Resolves once the server closed the connection (bounded). */
  async closedByServer(timeoutMs = 5000): Promise<boolean> {
    if (this.socket.destroyed || this.socket.readableEnded) return true;
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.socket.once("close", () => {
        clearTimeout(t);
        resolve(true);
      });
      this.socket.resume();
      this.reader.detach();
      this.socket.resume();
    });
  }

  /** Upgrades to TLS after a STARTTLS ACK. */
  async startTls(ca: Buffer, cert?: Buffer, key?: Buffer): Promise<void> {
    this.reader.detach();
    const s = tlsConnect({
      socket: this.socket as Socket,
      ca,
      ...(cert === undefined ? {} : { cert, key }),
      servername: "localhost",
    });
    await new Promise<void>((resolve, reject) => {
      s.once("secureConnect", resolve);
      s.once("error", reject);
    });
    this.socket = s;
    this.reader = new SocketReader(s);
  }

  close(): void {
    this.socket.destroy();
  }
}

export function goData(name: string, infos: number[]): Buffer {
  const n = Buffer.from(name);
  const b = Buffer.alloc(4 + n.length + 2 + 2 * infos.length);
  b.writeUInt32BE(n.length, 0);
  n.copy(b, 4);
  b.writeUInt16BE(infos.length, 4 + n.length);
  for (const [i, t] of infos.entries()) b.writeUInt16BE(t, 6 + n.length + 2 * i);
  return b;
}
