// STARTTLS: with TLS configured, plaintext options are refused with ERR_TLS_REQD (EXPORT_NAME
// closes), STARTTLS upgrades the socket and negotiation continues encrypted; with client
// certificates required, a client without one does not get through.
import { createSecureContext } from "node:tls";
import { createTestCa, type TestCa } from "@blockship/rpc/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Cmd, Opt, Rep } from "../src/protocol";
import { NbdServer } from "../src/server";
import { MemoryBackend, MemoryExport, RawClient } from "./support";

let ca: TestCa;
let server: NbdServer | undefined;
const clients: RawClient[] = [];

beforeAll(() => {
  ca = createTestCa("nbd-test-ca");
});
afterAll(() => ca.remove());
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
});

async function serve(requestClientCert: boolean): Promise<RawClient> {
  const backend = new MemoryBackend();
  backend.add(new MemoryExport("vol", 1024 * 1024));
  const cert = ca.issue("server-1");
  server = new NbdServer({
    backend,
    tls: {
      secureContext: createSecureContext({ cert: cert.certPem, key: cert.keyPem, ca: ca.caPem }),
      requestClientCert,
    },
  });
  const c = await RawClient.connect(await server.listen("127.0.0.1", 0));
  clients.push(c);
  await c.hello();
  return c;
}

describe("STARTTLS", () => {
  it("refuses plaintext options with ERR_TLS_REQD, then serves after STARTTLS", async () => {
    const c = await serve(false);
    for (const opt of [Opt.LIST, Opt.GO, Opt.STRUCTURED_REPLY, 77]) {
      c.option(opt);
      expect((await c.optionReply()).type).toBe(Rep.ERR_TLS_REQD);
    }
    c.option(Opt.STARTTLS, Buffer.alloc(1));
    expect((await c.optionReply()).type).toBe(Rep.ERR_INVALID);
    c.option(Opt.STARTTLS);
    expect((await c.optionReply()).type).toBe(Rep.ACK);
    await c.startTls(ca.caPem);
    c.option(Opt.STARTTLS);
    expect((await c.optionReply()).type).toBe(Rep.ERR_INVALID); // already encrypted
    expect((await c.go("vol")).at(-1)?.type).toBe(Rep.ACK);
    c.request(Cmd.WRITE, 0, 1n, 0n, 4096, Buffer.alloc(4096, 5));
    expect((await c.reply()).error).toBe(0);
    expect(server?.connections()[0]?.tls).toBe(true);
  });

  it("EXPORT_NAME in plaintext closes the connection", async () => {
    const c = await serve(false);
    c.option(Opt.EXPORT_NAME, Buffer.from("vol"));
    expect(await c.closedByServer()).toBe(true);
  });

  it("with client certificates required: a certificate gets through, none does not", async () => {
    const c = await serve(true);
    c.option(Opt.STARTTLS);
    expect((await c.optionReply()).type).toBe(Rep.ACK);
    const mine = ca.issue("client-1");
    await c.startTls(ca.caPem, mine.certPem, mine.keyPem);
    expect((await c.go("vol")).at(-1)?.type).toBe(Rep.ACK);

    const d = await RawClient.connect(server?.address as string);
    clients.push(d);
    await d.hello();
    d.option(Opt.STARTTLS);
    expect((await d.optionReply()).type).toBe(Rep.ACK);
    const outcome = await d
      .startTls(ca.caPem)
      .then(async () => {
        d.option(Opt.LIST);
        await d.optionReplies();
        return "served";
      })
      .catch(() => "refused");
    expect(outcome).toBe("refused");
  });
});
