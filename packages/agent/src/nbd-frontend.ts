// The agent's NBD frontend: an NbdServer over this agent's volumes (--nbd-listen), its metrics,
// the per-volume connection list GetStatus shows, and fencing. Fencing observes what exists
// rather than hooking the fence: on every change notification and on a short timer, each export
// in use is checked (still hosted, write gate open, same epoch); one that is not has every
// connection closed at once, without replies to pending requests, so kernel clients requeue
// them to the new primary. Each request checks the same before it is answered.
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { type ConnectionInfo, NbdServer, type NbdTlsOptions } from "@blockship/nbd";
import type { NbdConnection } from "@blockship/rpc";
import type { TlsConfig } from "./config";
import type { HostedVolume } from "./hosted-volume";
import type { Logger } from "./log";
import { type NbdMetrics, nbdCloseReasonLabel } from "./metrics";
import { VolumeBackend, VolumeExport } from "./nbd-export";
import type { VolumeHost } from "./volume-host";
import type { VolumeIo } from "./volume-service";
import type { ChangeFeed } from "./watch";

/** How often exports in use are checked besides change notifications (lease expiry has none). */
const FENCE_SWEEP_MS = 100;

export interface NbdFrontendOptions {
  /** `host:port`, port 0 = any free port. */
  readonly listen: string;
  readonly host: VolumeHost;
  readonly io: VolumeIo;
  readonly feed: ChangeFeed;
  readonly log: Logger;
  readonly metrics: NbdMetrics;
  readonly isShuttingDown: () => boolean;
  /** The agent's TLS: STARTTLS is offered and plaintext refused. */
  readonly tls: TlsConfig | undefined;
}

/** Which frontend serves a hosted volume (GetStatus reads its connections from there). */
const frontends = new WeakMap<HostedVolume, NbdFrontend>();

/** The NBD connections of `h` for VolumeStatus (empty when NBD is off). */
export function nbdConnectionsOf(h: HostedVolume): NbdConnection[] {
  const f = frontends.get(h);
  if (f === undefined) return [];
  return f.connections(h.volumeId).map((c) => ({
    remote_address: c.remoteAddress,
    tls: c.tls,
    structured_replies: c.structuredReplies,
    connected_at_ms: String(c.connectedAtMs),
    requests_in_flight: c.requestsInFlight,
  }));
}

export class NbdFrontend {
  private timer: NodeJS.Timeout | undefined;
  private readonly onChange = (): void => this.sweep();

  private constructor(
    private readonly server: NbdServer,
    private readonly options: NbdFrontendOptions,
    readonly address: string,
  ) {}

  static async start(options: NbdFrontendOptions): Promise<NbdFrontend> {
    const { host, io, log, metrics } = options;
    let frontend: NbdFrontend | undefined;
    const backend = new VolumeBackend(host, io, options.isShuttingDown, (h) => {
      if (frontend !== undefined) frontends.set(h, frontend);
    });
    const server = new NbdServer({
      backend,
      ...(options.tls === undefined ? {} : { tls: loadTls(options.tls) }),
      onRequest: (volume, e) => metrics.request(volume, e),
      onConnection: (e) => {
        if (e.kind === "open") {
          metrics.opened.inc({ volume: e.exportName });
          log.info({ volumeId: e.exportName, remote: e.remoteAddress }, "nbd connection");
        } else {
          metrics.closed.inc({ volume: e.exportName, reason: nbdCloseReasonLabel(e.reason) });
          log.info(
            { volumeId: e.exportName, remote: e.remoteAddress, reason: e.reason },
            "nbd connection closed",
          );
        }
      },
    });
    const colon = options.listen.lastIndexOf(":");
    const hostPart = options.listen.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
    const address = await server.listen(hostPart, Number(options.listen.slice(colon + 1)));
    frontend = new NbdFrontend(server, options, address);
    metrics.connectionsSource = () => {
      const counts = new Map<string, number>();
      for (const c of server.connections()) counts.set(c.exportName, (counts.get(c.exportName) ?? 0) + 1);
      return counts;
    };
    options.feed.on("change", frontend.onChange);
    frontend.timer = setInterval(() => frontend?.sweep(), FENCE_SWEEP_MS);
    frontend.timer.unref();
    return frontend;
  }

  connections(volumeId?: string): ConnectionInfo[] {
    return this.server.connections(volumeId);
  }

  /** Closes the connections of every export that is no longer the writable primary at its epoch. */
  sweep(): void {
    for (const exp of this.server.exportsInUse()) {
      if (!(exp instanceof VolumeExport)) continue;
      const reason = exp.fenceReason();
      if (reason === null) continue;
      const n = this.server.closeExport(exp, `fenced: ${reason}`);
      this.options.log.warn(
        { volumeId: exp.name, reason, connections: n },
        "nbd: export fenced, connections closed",
      );
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.options.feed.off("change", this.onChange);
    await this.server.close();
  }
}

function loadTls(tls: TlsConfig): NbdTlsOptions {
  return {
    secureContext: createSecureContext({
      cert: readFileSync(tls.certFile),
      key: readFileSync(tls.keyFile),
      ca: readFileSync(tls.caFile),
    }),
    requestClientCert: tls.clientAuth,
  };
}
