// Negotiation over a real loopback socket with a raw client: every option and its error paths.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Opt, Rep, TFlag } from "../src/protocol";
import { NbdServer } from "../src/server";
import { goData, MemoryBackend, MemoryExport, RawClient } from "./support";

const MiB = 1024 * 1024;
let backend: MemoryBackend;
let server: NbdServer;
let address: string;
const clients: RawClient[] = [];

async function client(): Promise<RawClient> {
  const c = await RawClient.connect(address);
  clients.push(c);
  return c;
}

beforeEach(async () => {
  backend = new MemoryBackend();
  backend.add(new MemoryExport("vol-a", 4 * MiB));
  backend.add(new MemoryExport("vol-b", 8 * MiB));
  server = new NbdServer({ backend, maxConnectionsPerExport: 2 });
  address = await server.listen("127.0.0.1", 0);
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close();
});

function infoOf(replies: { type: number; data: Buffer }[], infoType: number): Buffer | undefined {
  return replies.find((r) => r.type === Rep.INFO && r.data.readUInt16BE(0) === infoType)?.data;
}

describe("fixed newstyle negotiation", () => {
  it("greets with FIXED_NEWSTYLE | NO_ZEROES", async () => {
    expect(await (await client()).hello()).toBe(3);
  });

  it("closes on a client without FIXED_NEWSTYLE or with unknown client flags", async () => {
    const a = await client();
    await a.hello(0);
    expect(await a.closedByServer()).toBe(true);
    const b = await client();
    await b.hello(1 | 0x80);
    expect(await b.closedByServer()).toBe(true);
  });

  it("closes on a bad option magic", async () => {
    const c = await client();
    await c.hello();
    c.option(Opt.LIST, Buffer.alloc(0), 0x1234n);
    expect(await c.closedByServer()).toBe(true);
  });

  it("GO: INFO_BLOCK_SIZE, INFO_EXPORT with the transmission flags, then ACK", async () => {
    const c = await client();
    await c.hello();
    const replies = await c.go("vol-b", [3, 1]);
    expect(replies.at(-1)?.type).toBe(Rep.ACK);
    const exp = infoOf(replies, 0) as Buffer;
    expect(exp.readBigUInt64BE(2)).toBe(BigInt(8 * MiB));
    const flags = exp.readUInt16BE(10);
    for (const f of [
      TFlag.HAS_FLAGS,
      TFlag.SEND_FLUSH,
      TFlag.SEND_FUA,
      TFlag.SEND_TRIM,
      TFlag.SEND_WRITE_ZEROES,
      TFlag.SEND_FAST_ZERO,
      TFlag.SEND_CACHE,
      TFlag.CAN_MULTI_CONN,
    ])
      expect(flags & f).toBe(f);
    expect(flags & TFlag.READ_ONLY).toBe(0);
    const bs = infoOf(replies, 3) as Buffer;
    expect([bs.readUInt32BE(2), bs.readUInt32BE(6), bs.readUInt32BE(10)]).toEqual([4096, 4096, MiB]);
    expect(infoOf(replies, 1)?.subarray(2).toString()).toBe("vol-b");
  });

  it("INFO answers like GO and stays in negotiation; GO afterwards works", async () => {
    const c = await client();
    await c.hello();
    const info = await c.go("vol-a", [], Opt.INFO);
    expect(info.at(-1)?.type).toBe(Rep.ACK);
    expect(infoOf(info, 3)).toBeDefined(); // block sizes sent even when not asked
    const go = await c.go("vol-a", []);
    expect(go.at(-1)?.type).toBe(Rep.ACK);
  });

  it("GO/INFO of an unknown export: ERR_UNKNOWN, and negotiation continues", async () => {
    const c = await client();
    await c.hello();
    const [r] = await c.go("nope");
    expect(r?.type).toBe(Rep.ERR_UNKNOWN);
    expect((await c.go("vol-a")).at(-1)?.type).toBe(Rep.ACK);
  });

  it("GO of a refused export answers ERR_SHUTDOWN with the backend's message", async () => {
    backend.refusals.set("vol-a", {
      ok: false,
      refusal: "shutdown",
      message: "not primary here; primary is s2",
    });
    const c = await client();
    await c.hello();
    const [r] = await c.go("vol-a");
    expect(r?.type).toBe(Rep.ERR_SHUTDOWN);
    expect(r?.data.toString()).toContain("primary is s2");
  });

  it("malformed GO data: ERR_INVALID", async () => {
    const c = await client();
    await c.hello();
    const good = goData("vol-a", [3]);
    for (const bad of [
      Buffer.alloc(3),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.alloc(1)]),
    ]) {
      c.option(Opt.GO, bad);
      const [r] = await c.optionReplies();
      expect(r?.type).toBe(Rep.ERR_INVALID);
    }
  });

  it("LIST: one SERVER reply per export, then ACK; with data: ERR_INVALID", async () => {
    const c = await client();
    await c.hello();
    c.option(Opt.LIST);
    const replies = await c.optionReplies();
    const names = replies
      .filter((r) => r.type === Rep.SERVER)
      .map((r) => r.data.subarray(4, 4 + r.data.readUInt32BE(0)).toString());
    expect(names).toEqual(["vol-a", "vol-b"]);
    expect(replies.at(-1)?.type).toBe(Rep.ACK);
    c.option(Opt.LIST, Buffer.from("x"));
    expect((await c.optionReplies())[0]?.type).toBe(Rep.ERR_INVALID);
  });

  it("STRUCTURED_REPLY: ACK; with data: ERR_INVALID", async () => {
    const c = await client();
    await c.hello();
    c.option(Opt.STRUCTURED_REPLY);
    expect((await c.optionReply()).type).toBe(Rep.ACK);
    c.option(Opt.STRUCTURED_REPLY, Buffer.alloc(2));
    expect((await c.optionReply()).type).toBe(Rep.ERR_INVALID);
  });

  it("unknown options (and meta contexts, STARTTLS without TLS) get ERR_UNSUP, skipped by length", async () => {
    const c = await client();
    await c.hello();
    for (const [opt, len] of [
      [99, 1000],
      [9, 12],
      [10, 20],
      [Opt.STARTTLS, 0],
      [0x7fffffff, 0],
    ] as const) {
      c.option(opt, Buffer.alloc(len, 0xaa));
      const r = await c.optionReply();
      expect(r.option).toBe(opt);
      expect(r.type).toBe(Rep.ERR_UNSUP);
    }
    expect((await c.go("vol-a")).at(-1)?.type).toBe(Rep.ACK);
  });

  it("an oversized option is skipped and refused with ERR_TOO_BIG", async () => {
    const c = await client();
    await c.hello();
    c.option(Opt.GO, Buffer.alloc(200 * 1024));
    expect((await c.optionReply()).type).toBe(Rep.ERR_TOO_BIG);
    expect((await c.go("vol-a")).at(-1)?.type).toBe(Rep.ACK);
  });

  it("ABORT: ACK, then the server closes", async () => {
    const c = await client();
    await c.hello();
    c.option(Opt.ABORT);
    expect((await c.optionReply()).type).toBe(Rep.ACK);
    expect(await c.closedByServer()).toBe(true);
  });

  it("EXPORT_NAME: size and flags without the 124 zeroes (NO_ZEROES), then transmission", async () => {
    const c = await client();
    await c.hello(3);
    c.option(Opt.EXPORT_NAME, Buffer.from("vol-a"));
    const r = await c.reader.read(10);
    expect(r.readBigUInt64BE(0)).toBe(BigInt(4 * MiB));
    expect(r.readUInt16BE(8) & TFlag.HAS_FLAGS).toBe(1);
    c.request(3, 0, 7n, 0n, 0); // FLUSH
    expect((await c.reply()).cookie).toBe(7n);
  });

  it("EXPORT_NAME with the zeroes for old clients; unknown name closes", async () => {
    const c = await client();
    await c.hello(1);
    c.option(Opt.EXPORT_NAME, Buffer.from("vol-a"));
    const r = await c.reader.read(134);
    expect(r.subarray(10).every((b) => b === 0)).toBe(true);
    const d = await client();
    await d.hello();
    d.option(Opt.EXPORT_NAME, Buffer.from("nope"));
    expect(await d.closedByServer()).toBe(true);
  });

  it("caps connections per export (ERR_POLICY), other exports unaffected", async () => {
    for (let i = 0; i < 2; i++) {
      const c = await client();
      await c.hello();
      expect((await c.go("vol-a")).at(-1)?.type).toBe(Rep.ACK);
    }
    const third = await client();
    await third.hello();
    expect((await third.go("vol-a"))[0]?.type).toBe(Rep.ERR_POLICY);
    expect((await third.go("vol-b")).at(-1)?.type).toBe(Rep.ACK);
    expect(server.connections("vol-a")).toHaveLength(2);
  });

  it("a connection that never finishes negotiating is closed (handshake timeout)", async () => {
    await server.close();
    server = new NbdServer({ backend, handshakeTimeoutMs: 200 });
    address = await server.listen("127.0.0.1", 0);
    const c = await client();
    await c.hello();
    expect(await c.closedByServer(5000)).toBe(true);
  });
});
