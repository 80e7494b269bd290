// Transmission over a real loopback socket with a raw client: every command, every request error
// (and that it never reaches the export), out-of-order replies, the in-flight bounds and fencing.
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NbdFencedError, NbdIoError } from "../src/export";
import { Cmd, CmdFlag, Errno, Opt } from "../src/protocol";
import { SocketReader } from "../src/reader";
import { NbdServer, type NbdServerOptions } from "../src/server";
import { Transmission } from "../src/transmission";
import { MemoryBackend, MemoryExport, RawClient } from "./support";

const MiB = 1024 * 1024;

/**
 * Lets everything already delivered be processed (I/O callbacks and their promise chains run
 * between immediates), so a bound that is not held shows up before the assertion after it.
 */
async function quietRounds(rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
let backend: MemoryBackend;
let exp: MemoryExport;
let server: NbdServer;
const clients: RawClient[] = [];

async function start(options: Partial<NbdServerOptions> = {}): Promise<void> {
  server = new NbdServer({ backend, ...options });
  await server.listen("127.0.0.1", 0);
}

async function open(structured = false): Promise<RawClient> {
  const c = await RawClient.connect(server.address);
  clients.push(c);
  await c.hello();
  if (structured) {
    c.option(Opt.STRUCTURED_REPLY);
    await c.optionReply();
  }
  const r = await c.go("vol");
  if (r.at(-1)?.type !== 1) throw new Error("GO failed");
  return c;
}

beforeEach(async () => {
  backend = new MemoryBackend();
  exp = backend.add(new MemoryExport("vol", 4 * MiB));
  await start();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close();
});

const pattern = (n: number, seed: number): Buffer =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

describe("commands", () => {
  it("WRITE then READ (simple replies), FUA passed through", async () => {
    const c = await open();
    const data = pattern(8192, 3);
    c.request(Cmd.WRITE, CmdFlag.FUA, 1n, 4096n, data.length, data);
    expect(await c.reply()).toMatchObject({ cookie: 1n, error: 0 });
    c.request(Cmd.READ, 0, 2n, 4096n, 8192);
    const r = await c.reply(new Map([[2n, 8192]]));
    expect(r.data?.equals(data)).toBe(true);
    expect(exp.ops[0]).toMatchObject({ op: "write", offset: 4096, length: 8192, fua: true });
  });

  it("READ with structured replies is one OFFSET_DATA chunk", async () => {
    const c = await open(true);
    pattern(4096, 9).copy(exp.data, 0);
    c.request(Cmd.READ, 0, 5n, 0n, 4096);
    const r = await c.reply();
    expect(r.structured).toBe(true);
    expect(r.data?.equals(exp.data.subarray(0, 4096))).toBe(true);
  });

  it("FLUSH, TRIM, WRITE_ZEROES (NO_HOLE, FAST_ZERO), CACHE reach the export with their flags", async () => {
    const c = await open();
    c.request(Cmd.FLUSH, 0, 1n, 0n, 0);
    c.request(Cmd.TRIM, CmdFlag.FUA, 2n, 8192n, 4096);
    c.request(Cmd.WRITE_ZEROES, CmdFlag.NO_HOLE, 3n, 0n, 4096);
    c.request(Cmd.WRITE_ZEROES, CmdFlag.FAST_ZERO, 4n, 0n, 4096);
    c.request(Cmd.CACHE, 0, 5n, 0n, 65536);
    const cookies = new Set<bigint>();
    for (let i = 0; i < 5; i++) {
      const r = await c.reply();
      expect(r.error).toBe(0);
      cookies.add(r.cookie);
    }
    expect(cookies.size).toBe(5);
    const ops = exp.ops.map(
      (o) => `${o.op}:${o.fua ?? ""}:${o.zero?.noHole ?? ""}:${o.zero?.fastZero ?? ""}`,
    );
    expect(ops).toEqual([
      "flush:::",
      "trim:true::",
      "write_zeroes:false:true:false",
      "write_zeroes:false:false:true",
      "cache:::",
    ]);
  });

  it("an export error is that request's errno (EIO by default, ENOTSUP when it says so)", async () => {
    const c = await open(true);
    exp.hook = async (op) => {
      if (op.op === "write_zeroes") throw new NbdIoError(Errno.ENOTSUP, "no fast zero");
      if (op.op === "read") throw new Error("disk on fire");
    };
    c.request(Cmd.WRITE_ZEROES, CmdFlag.FAST_ZERO, 1n, 0n, 4096);
    expect((await c.reply()).error).toBe(Errno.ENOTSUP);
    c.request(Cmd.READ, 0, 2n, 0n, 4096);
    const r = await c.reply();
    expect(r).toMatchObject({ cookie: 2n, error: Errno.EIO, structured: true });
    expect(r.message).toContain("disk on fire");
  });

  it("DISC: pending requests are answered, then the server closes", async () => {
    const c = await open();
    let release: () => void = () => {};
    exp.hook = (op) => (op.op === "flush" ? new Promise<void>((r) => (release = r)) : Promise.resolve());
    c.request(Cmd.FLUSH, 0, 1n, 0n, 0);
    c.request(Cmd.DISC, 0, 2n, 0n, 0);
    // Wait for the flush to reach the export (an event, not a fixed time), then release it.
    await expect.poll(() => exp.ops.some((op) => op.op === "flush")).toBe(true);
    release();
    expect((await c.reply()).cookie).toBe(1n);
    expect(await c.closedByServer()).toBe(true);
  });
});

describe("bad requests never touch the export", () => {
  const cases: [string, number, number, bigint, number, number][] = [
    ["unknown command", 99, 0, 0n, 4096, Errno.EINVAL],
    ["block status (not negotiated)", 7, 0, 0n, 4096, Errno.EINVAL],
    ["unknown flag", Cmd.READ, 1 << 9, 0n, 4096, Errno.EINVAL],
    ["FUA on READ", Cmd.READ, CmdFlag.FUA, 0n, 4096, Errno.EINVAL],
    ["DF without structured replies", Cmd.READ, CmdFlag.DF, 0n, 4096, Errno.EINVAL],
    ["NO_HOLE on TRIM", Cmd.TRIM, CmdFlag.NO_HOLE, 0n, 4096, Errno.EINVAL],
    ["misaligned offset", Cmd.READ, 0, 512n, 4096, Errno.EINVAL],
    ["misaligned length", Cmd.TRIM, 0, 0n, 1000, Errno.EINVAL],
    ["zero length", Cmd.READ, 0, 0n, 0, Errno.EINVAL],
    ["read past the end", Cmd.READ, 0, BigInt(4 * MiB), 4096, Errno.EINVAL],
    ["trim past the end", Cmd.TRIM, 0, BigInt(4 * MiB - 4096), 8192, Errno.ENOSPC],
    ["zeroes past the end", Cmd.WRITE_ZEROES, 0, 2n ** 63n, 4096, Errno.ENOSPC],
    ["read too large", Cmd.READ, 0, 0n, 2 * MiB, Errno.EOVERFLOW],
    ["flush with a length", Cmd.FLUSH, 0, 0n, 4096, Errno.EINVAL],
    ["cache past the end", Cmd.CACHE, 0, BigInt(4 * MiB), 4096, Errno.EINVAL],
  ];
  for (const [name, type, flags, offset, length, errno] of cases) {
    it(`${name} → ${errno}`, async () => {
      const c = await open();
      c.request(type, flags, 42n, offset, length);
      expect(await c.reply()).toMatchObject({ cookie: 42n, error: errno });
      expect(exp.ops).toEqual([]);
    });
  }

  it("bad WRITEs (misaligned, past the end, oversized): the payload is skipped, the stream stays in sync", async () => {
    const c = await open();
    c.request(Cmd.WRITE, 0, 1n, 100n, 4096, Buffer.alloc(4096));
    c.request(Cmd.WRITE, 0, 2n, BigInt(4 * MiB), 4096, Buffer.alloc(4096));
    c.request(Cmd.WRITE, 0, 3n, 0n, 2 * MiB, Buffer.alloc(2 * MiB));
    c.request(Cmd.WRITE, CmdFlag.NO_HOLE, 4n, 0n, 4096, Buffer.alloc(4096));
    c.request(Cmd.WRITE, 0, 5n, 0n, 4096, pattern(4096, 1));
    const errors = new Map<bigint, number>();
    for (let i = 0; i < 5; i++) {
      const r = await c.reply();
      errors.set(r.cookie, r.error);
    }
    expect(Object.fromEntries([...errors].map(([k, v]) => [String(k), v]))).toEqual({
      "1": Errno.EINVAL,
      "2": Errno.ENOSPC,
      "3": Errno.EOVERFLOW,
      "4": Errno.EINVAL,
      "5": 0,
    });
    expect(exp.ops).toHaveLength(1);
  });

  it("a bad request magic closes that connection only", async () => {
    const bad = await open();
    const good = await open();
    bad.request(Cmd.READ, 0, 1n, 0n, 4096, undefined, 0xdeadbeef);
    expect(await bad.closedByServer()).toBe(true);
    good.request(Cmd.FLUSH, 0, 1n, 0n, 0);
    expect((await good.reply()).error).toBe(0);
  });

  it("random garbage after negotiation never crashes the server", async () => {
    for (let round = 0; round < 20; round++) {
      const c = await open();
      const junk = Buffer.from(
        Array.from({ length: 28 * (1 + (round % 5)) }, (_, i) => (i * 131 + round * 17) & 0xff),
      );
      c.send(junk);
      c.close();
    }
    const c = await open();
    c.request(Cmd.FLUSH, 0, 9n, 0n, 0);
    expect((await c.reply()).cookie).toBe(9n);
  });
});

describe("concurrency and bounds", () => {
  it("replies come out of order as requests complete", async () => {
    const c = await open();
    const gates = new Map<number, () => void>();
    exp.hook = (op) => new Promise<void>((r) => gates.set(op.offset, r));
    for (let i = 0; i < 4; i++) c.request(Cmd.READ, 0, BigInt(i), BigInt(i * 4096), 4096);
    await expect.poll(() => gates.size).toBe(4);
    gates.get(3 * 4096)?.();
    const lengths = new Map([0n, 1n, 2n, 3n].map((k) => [k, 4096]));
    expect((await c.reply(lengths)).cookie).toBe(3n);
    gates.get(1 * 4096)?.();
    expect((await c.reply(lengths)).cookie).toBe(1n);
  });

  it("at most maxRequestsInFlight requests reach the export; the rest wait in the socket", async () => {
    await server.close();
    await start({ maxRequestsInFlight: 8 });
    const c = await open();
    const release: (() => void)[] = [];
    exp.hook = () => new Promise<void>((r) => release.push(r));
    for (let i = 0; i < 40; i++) c.request(Cmd.FLUSH, 0, BigInt(i), 0n, 0);
    await expect.poll(() => exp.ops.length).toBe(8);
    await quietRounds();
    expect(exp.ops).toHaveLength(8);
    exp.hook = undefined;
    for (const r of release.splice(0)) r();
    for (let i = 0; i < 40; i++) expect((await c.reply()).error).toBe(0);
    expect(exp.ops).toHaveLength(40);
  });

  it("write payload bytes in flight are bounded by maxBytesInFlight", async () => {
    await server.close();
    await start({ maxBytesInFlight: 64 * 1024 });
    const c = await open();
    const release: (() => void)[] = [];
    exp.hook = () => new Promise<void>((r) => release.push(r));
    for (let i = 0; i < 32; i++)
      c.request(Cmd.WRITE, 0, BigInt(i), BigInt(i * 16384), 16384, Buffer.alloc(16384, i));
    await expect.poll(() => exp.ops.length).toBe(4);
    await quietRounds();
    expect(exp.ops).toHaveLength(4);
    exp.hook = undefined;
    for (const r of release.splice(0)) r();
    for (let i = 0; i < 32; i++) expect((await c.reply()).error).toBe(0);
  });

  it("while replies back up in the socket no further request is read (error replies included)", async () => {
    const stream = new PassThrough();
    const sent: Buffer[] = [];
    let backlogged = true;
    const t = new Transmission(
      {
        reader: new SocketReader(stream),
        send: (parts, done) => {
          sent.push(...parts);
          done?.();
        },
        close: () => {},
        closed: () => false,
        backlogged: () => backlogged,
      },
      exp,
      false,
      { maxRequestsInFlight: 128, maxBytesInFlight: MiB },
    );
    const ended = t.run();
    const bad = Buffer.alloc(28);
    bad.writeUInt32BE(0x25609513, 0);
    bad.writeUInt16BE(99, 6); // unknown command: answered at once with EINVAL
    for (let i = 0; i < 10; i++) stream.write(bad);
    await quietRounds();
    expect(sent).toHaveLength(0);
    backlogged = false;
    t.wakeUp();
    await expect.poll(() => sent.length).toBe(10);
    stream.end();
    await ended.catch(() => {});
  });

  it("a fenced operation closes the connection without replying to anything pending", async () => {
    const c = await open();
    let fence: () => void = () => {};
    exp.hook = (op) =>
      op.op === "flush"
        ? new Promise<void>((_, reject) => (fence = () => reject(new NbdFencedError("demoted"))))
        : new Promise<void>(() => {});
    c.request(Cmd.WRITE, 0, 1n, 0n, 4096, Buffer.alloc(4096));
    c.request(Cmd.FLUSH, 0, 2n, 0n, 0);
    await expect.poll(() => exp.ops.some((op) => op.op === "flush")).toBe(true);
    fence();
    let replies = 0;
    c.reader.read(1).then(
      () => replies++,
      () => {},
    );
    expect(await c.closedByServer()).toBe(true);
    expect(replies).toBe(0);
  });

  it("closeExport closes every connection of that export at once", async () => {
    const a = await open();
    const b = await open();
    expect(server.connections("vol")).toHaveLength(2);
    expect(server.closeExport("vol", "test")).toBe(2);
    expect(await a.closedByServer()).toBe(true);
    expect(await b.closedByServer()).toBe(true);
    expect(server.connections()).toHaveLength(0);
  });
});

describe("a failure while answering", () => {
  it("closes the connection instead of leaving an unhandled rejection (a throwing request callback)", async () => {
    await server.close();
    const rejections: unknown[] = [];
    const onRejection = (err: unknown): void => {
      rejections.push(err);
    };
    process.on("unhandledRejection", onRejection);
    try {
      await start({
        onRequest: () => {
          throw new Error("a broken metrics callback");
        },
      });
      for (const [type, length] of [
        [Cmd.READ, 4096],
        [Cmd.FLUSH, 0],
      ] as const) {
        const c = await open();
        c.request(type, 0, 1n, 0n, length);
        expect(await c.closedByServer()).toBe(true);
      }
      await quietRounds();
      expect(rejections).toEqual([]);
    } finally {
      process.off("unhandledRejection", onRejection);
    }
  });
});
