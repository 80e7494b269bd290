import { afterEach, describe, expect, it } from "vitest";
import {
  assertKeepaliveAgrees,
  clientChannelOptions,
  closeClient,
  createControlClient,
  DEFAULT_KEEPALIVE,
  type KeepaliveSettings,
  serverChannelOptions,
  type WatchStatusResponse__Output,
} from "../src/index";
import { startTestServer } from "./fixtures";
import { H2FrameProxy } from "./h2-frame-proxy";

describe("keepalive settings", () => {
  it("agree between client and server by default", () => {
    expect(() => assertKeepaliveAgrees(DEFAULT_KEEPALIVE)).not.toThrow();
    const client = clientChannelOptions();
    const server = serverChannelOptions();
    expect(client["grpc.keepalive_permit_without_calls"]).toBe(1);
    expect(server["grpc.http2.min_ping_interval_without_data_ms"]).toBeLessThanOrEqual(
      client["grpc.keepalive_time_ms"] as number,
    );
    expect(client["grpc.max_receive_message_length"]).toBe(server["grpc.max_send_message_length"]);
    expect(client["grpc.max_send_message_length"]).toBe(server["grpc.max_receive_message_length"]);
  });

  it("refuse a client that would ping more often than the server permits", () => {
    expect(() => clientChannelOptions({ ...DEFAULT_KEEPALIVE, serverMinPingIntervalMs: 60_000 })).toThrow(
      /keepalive mismatch/,
    );
  });

  describe("on the wire (time-scaled settings, same ratios)", () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    it("pings flow both ways on an idle stream and nobody sends GOAWAY", async () => {
      const fast: KeepaliveSettings = {
        clientKeepaliveTimeMs: 40,
        keepaliveTimeoutMs: 10_000,
        serverKeepaliveTimeMs: 60,
        serverMinPingIntervalMs: 20,
      };
      const { server, streams } = await startTestServer({ keepalive: fast });
      cleanups.push(() => server.shutdown(1_000).then(() => undefined));
      const proxy = new H2FrameProxy({ host: "127.0.0.1", port: server.port });
      const proxyAddress = await proxy.listen();
      cleanups.push(() => proxy.close());
      const client = createControlClient(proxyAddress, { keepalive: fast });
      cleanups.push(() => closeClient(client));

      const watch = client.WatchStatus({});
      const received: WatchStatusResponse__Output[] = [];
      let failure: unknown;
      watch.on("error", (err) => {
        failure = err;
      });
      const next = () =>
        new Promise<void>((resolve) => watch.once("data", (m) => resolve(void received.push(m))));
      await next();
      await streams.waitFor(1);

      // The stream now idles; only keepalive traffic crosses the connection.
      await proxy.until(
        (c) => c.clientPings >= 5 && c.serverPingAcks >= 5 && c.serverPings >= 3 && c.clientPingAcks >= 3,
      );
      expect(proxy.counts.serverGoaways).toBe(0);
      expect(proxy.counts.clientGoaways).toBe(0);

      // And the idle stream still works.
      const second = next();
      for (const call of streams.calls) call.write({ trigger: "STATUS_TRIGGER_INTERVAL" });
      await second;
      expect(received.map((m) => m.trigger)).toEqual(["STATUS_TRIGGER_INITIAL", "STATUS_TRIGGER_INTERVAL"]);
      expect(failure).toBeUndefined();
      watch.cancel();
    });
  });
});
