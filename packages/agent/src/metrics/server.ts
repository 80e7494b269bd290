// The metrics endpoint: Prometheus text on its own HTTP port, apart from gRPC, so a scraper never
// competes with the data plane's connection and needs no gRPC client. GET /metrics and /healthz;
// anything else 404, other methods 405.
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface MetricsServer {
  /** The bound address `host:port` (the real port when 0 was asked for). */
  readonly address: string;
  close(): Promise<void>;
}

function splitHostPort(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(":");
  const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  const port = Number(listen.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`metrics listen address must be host:port, got ${JSON.stringify(listen)}`);
  return { host, port };
}

export async function startMetricsServer(listen: string, registry: Registry): Promise<MetricsServer> {
  const { host, port } = splitHostPort(listen);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path !== "/metrics" && path !== "/healthz") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { "content-type": "text/plain", allow: "GET, HEAD" }).end("method not allowed\n");
      return;
    }
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (err: unknown) =>
        res
          .writeHead(500, { "content-type": "text/plain" })
          .end(`metrics collection failed: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  // A scraper's idle keep-alive connection must not hold shutdown up.
  server.keepAliveTimeout = 5000;
  server.listen(port, host);
  await Promise.race([
    once(server, "listening"),
    once(server, "error").then(([err]) => {
      throw err;
    }),
  ]);
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  let closing: Promise<void> | undefined;
  return {
    address: `${shownHost}:${bound.port}`,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
