import { once } from "node:events";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { TcpProxy } from "./support/tcp-proxy";

// The fault-injection proxy is itself a test tool; prove it forwards, cuts and refuses.

async function echoServer(): Promise<net.Server> {
  const server = net.createServer((socket) => socket.pipe(socket));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}

function portOf(server: net.Server): number {
  const info = server.address();
  if (info === null || typeof info === "string") throw new Error("not listening");
  return info.port;
}

async function roundTrip(address: string, payload: Buffer): Promise<Buffer> {
  const [host, port] = address.split(":");
  const socket = net.connect(Number(port), host);
  await once(socket, "connect");
  socket.write(payload);
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of socket) {
    chunks.push(chunk as Buffer);
    received += (chunk as Buffer).length;
    if (received >= payload.length) break;
  }
  socket.destroy();
  return Buffer.concat(chunks);
}

describe("TcpProxy", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it("forwards bytes both ways and counts them", async () => {
    const server = await echoServer();
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const proxy = await TcpProxy.start(`127.0.0.1:${portOf(server)}`);
    cleanups.push(() => proxy.close());
    const payload = Buffer.alloc(256 * 1024, 7);
    const echoed = await roundTrip(proxy.address, payload);
    expect(echoed.equals(payload)).toBe(true);
    expect(proxy.stats().bytesUpstream).toBe(payload.length);
    expect(proxy.stats().connectionsAccepted).toBe(1);
  });

  it("cuts open connections and refuses new ones until healed", async () => {
    const server = await echoServer();
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const proxy = await TcpProxy.start(`127.0.0.1:${portOf(server)}`);
    cleanups.push(() => proxy.close());
    const [host, port] = proxy.address.split(":");
    const socket = net.connect(Number(port), host);
    await once(socket, "connect");
    await proxy.waitForBytes(0);
    const closed = once(socket, "close");
    socket.write("x");
    await once(socket, "data");
    proxy.cutAll();
    await closed;

    proxy.setRefusing(true);
    const refused = net.connect(Number(port), host);
    refused.on("error", () => {});
    await once(refused, "close");
    expect(proxy.stats().connectionsAccepted).toBe(1);

    proxy.setRefusing(false);
    const echoed = await roundTrip(proxy.address, Buffer.from("healed"));
    expect(echoed.toString()).toBe("healed");
  });
});
