// The agent process in one object: hosts volumes, serves Control / Volume / Replication / Rebuild
// plus health and reflection, and stops gracefully (NOT_SERVING, drain, bounded stop, close volumes).
import { hostname } from "node:os";
import { authorizeCalls, observeCalls, type StartedRpcServer, startServer } from "@blockship/rpc";
import { CRC32_IMPLEMENTATION, discardBackend } from "@blockship/storage";
import { type Clock, realClock } from "./clock";
import type { AgentConfig } from "./config";
import { controlServiceHandlers } from "./control-service";
import { grpcHandshake } from "./handshake";
import type { Logger } from "./log";
import { AgentMetrics, type MetricsServer, startMetricsServer } from "./metrics";
import { NbdFrontend } from "./nbd-frontend";
import { installProcessGuard, inVolumeScope } from "./process-guard";
import { grpcReplicationBinding } from "./replication-binding";
import type { ReplicationBinding } from "./replication-port";
import { grpcResync } from "./resync-run";
import type { HandshakeFn } from "./runtime";
import { type AgentSecurity, loadAgentSecurity } from "./security";
import { VolumeHost } from "./volume-host";
import { VolumeIo, volumeServiceHandlers } from "./volume-service";
import { ChangeFeed } from "./watch";

export interface AgentOptions {
  readonly config: AgentConfig;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Transport security; default: loaded from `config` (TLS files, --insecure). */
  readonly security?: AgentSecurity;
  /** The data plane; default: @blockship/replication over gRPC (`localReplication` = RF=1 only). */
  readonly binding?: ReplicationBinding;
  readonly handshake?: HandshakeFn;
  /** How long a demotion waits for in-flight I/O. */
  readonly drainTimeoutMs?: number;
  /** Period of the housekeeping tick (lease expiry → health/status, engine budgets). */
  readonly tickMs?: number;
}

export const VOLUME_SERVICE = "blockship.v1.Volume";

export class Agent {
  private readonly stopController = new AbortController();
  private tickTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<{ forced: boolean }> | undefined;
  private lastWritable = "";
  private metricsServer: MetricsServer | undefined;
  private nbd: NbdFrontend | undefined;

  private constructor(
    readonly config: AgentConfig,
    readonly log: Logger,
    readonly host: VolumeHost,
    readonly feed: ChangeFeed,
    readonly metrics: AgentMetrics,
    private rpc: StartedRpcServer | undefined,
  ) {}

  /** Opens every volume, then serves. Resolves once the server is bound. */
  static async start(options: AgentOptions): Promise<Agent> {
    const { config, log } = options;
    const clock = options.clock ?? realClock;
    const security = options.security ?? loadAgentSecurity(config);
    const binding =
      options.binding ??
      grpcReplicationBinding(
        {
          clientCredentials: security.clientCredentials,
          ...(security.peerIdentity === undefined ? {} : { peerIdentity: security.peerIdentity }),
        },
        config.rebuildRateLimitBytesPerSecond,
      );
    const feed = new ChangeFeed();
    // The registry reads the host at scrape time; the host is assigned before any scrape can run.
    let hostRef: VolumeHost | undefined;
    const metrics = new AgentMetrics(() => hostRef?.list() ?? []);
    const host = new VolumeHost({
      dataDir: config.dataDir,
      devices: config.devices,
      log,
      tuning: {
        ...(config.retentionMaxAgeMs === undefined ? {} : { retentionMaxAgeMs: config.retentionMaxAgeMs }),
        ...(config.retentionMaxWalFraction === undefined
          ? {}
          : { retentionMaxHeldFraction: config.retentionMaxWalFraction }),
      },
      hosted: {
        localServerId: config.serverId,
        binding,
        barrierTimeoutMs: config.barrierTimeoutMs,
        clock,
        log,
        handshake:
          options.handshake ??
          grpcHandshake(config.serverId, config.barrierTimeoutMs, security.clientCredentials),
        resync: grpcResync(config.serverId, security.clientCredentials),
        ...(options.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: options.drainTimeoutMs }),
        onChange: () => feed.notify(),
        rebuildRateLimitBytesPerSecond: config.rebuildRateLimitBytesPerSecond,
        onGateDenied: (volumeId, replicaId, reason) => metrics.events.gateDenied(volumeId, replicaId, reason),
      },
    });
    hostRef = host;
    await host.openAll();
    const agent = new Agent(config, log, host, feed, metrics, undefined);
    try {
      const control = controlServiceHandlers({
        host,
        serverId: config.serverId,
        defaultWalSizeBytes: config.defaultWalSizeBytes,
        feed,
        stopping: agent.stopController.signal,
        now: () => Date.now(),
        clock,
      });
      const authorizeControl = security.authorizeControl;
      agent.rpc = await startServer({
        address: config.listen,
        security: security.server,
        ...(config.healthListen === undefined ? {} : { healthAddress: config.healthListen }),
        handlers: {
          // Only the allowed identities (the master) may call Control when a list is configured.
          control: authorizeControl === undefined ? control : authorizeCalls(control, authorizeControl),
          volume: volumeServiceHandlers({
            host,
            binding,
            isShuttingDown: () => agent.stopController.signal.aborted,
            metrics: metrics.events,
          }),
          replication: binding.serviceHandlers(
            (volumeId) => host.get(volumeId)?.runtime.receiver ?? undefined,
          ),
          rebuild: binding.rebuildHandlers((volumeId) => host.get(volumeId)?.rebuildSource),
        },
        interceptors: [
          observeCalls((e) => {
            metrics.events.rpcCall(e);
            log.debug(e, "rpc");
          }),
        ],
      });
      if (config.metricsListen !== undefined)
        agent.metricsServer = await startMetricsServer(config.metricsListen, metrics.registry);
      if (config.nbdListen !== undefined) {
        // The same VolumeIo path as the Volume service: fenced writes, durable flushes, metrics.
        const isShuttingDown = () => agent.stopController.signal.aborted;
        agent.nbd = await NbdFrontend.start({
          listen: config.nbdListen,
          host,
          io: new VolumeIo({ host, binding, isShuttingDown, metrics: metrics.events }),
          feed,
          log: log.child({ frontend: "nbd" }),
          metrics: metrics.nbd,
          isShuttingDown,
          tls: config.tls,
        });
      }
    } catch (err) {
      await agent.nbd?.close();
      await agent.metricsServer?.close();
      await agent.rpc?.shutdown(0);
      await host.closeAll();
      throw err;
    }
    feed.on("change", () => agent.refreshHealth());
    agent.refreshHealth();
    agent.tickTimer = setInterval(() => agent.tick(), options.tickMs ?? 1000);
    agent.tickTimer.unref();
    log.info(
      {
        address: agent.address,
        advertise: agent.advertise,
        metricsAddress: agent.metricsAddress,
        nbdAddress: agent.nbdAddress,
        healthAddress: agent.healthAddress,
        transportSecurity: security.mode,
        dataDir: config.dataDir,
        volumes: host.list().map((h) => h.volumeId),
        replication: binding.name,
        crc32: CRC32_IMPLEMENTATION,
        // How trims reach the extent: the native punch-hole helper, or the zero-write fallback.
        discard: discardBackend(),
      },
      "agent started",
    );
    return agent;
  }

  /** The bound address (`host:port`, the real port when 0 was asked for). */
  get address(): string {
    return this.server.address;
  }

  /** The bound metrics HTTP address, or undefined when --metrics-listen is not set. */
  get metricsAddress(): string | undefined {
    return this.metricsServer?.address;
  }

  /** The bound NBD address, or undefined when --nbd-listen is not set. */
  get nbdAddress(): string | undefined {
    return this.nbd?.address;
  }

  /** The bound plaintext health-only address, or undefined when --health-listen is not set. */
  get healthAddress(): string | undefined {
    return this.rpc?.healthAddress;
  }

  get port(): number {
    return this.server.port;
  }

  /** The address peers should dial: --advertise, else the bound address (wildcards → hostname). */
  get advertise(): string {
    if (this.config.advertise !== undefined) return this.config.advertise;
    const host = this.address.slice(0, this.address.lastIndexOf(":"));
    const wildcard = host === "0.0.0.0" || host === "[::]" || host === "::";
    return wildcard ? `${hostname()}:${this.port}` : this.address;
  }

  get health(): StartedRpcServer["health"] {
    return this.server.health;
  }

  private get server(): StartedRpcServer {
    if (this.rpc === undefined) throw new Error("agent server not started");
    return this.rpc;
  }

  /** Volume is SERVING while at least one volume accepts writes (PRIMARY, epoch, live lease). */
  refreshHealth(): void {
    if (this.rpc === undefined || this.stopController.signal.aborted) return;
    const writable = this.host
      .list()
      .filter((h) => h.fence.gateReason() === null)
      .map((h) => h.volumeId)
      .join(",");
    this.rpc.health.set(VOLUME_SERVICE, writable !== "" ? "SERVING" : "NOT_SERVING");
    if (writable !== this.lastWritable) {
      this.lastWritable = writable;
      this.feed.notify();
    }
  }

  private tick(): void {
    for (const h of this.host.list()) inVolumeScope(h.volumeId, () => h.runtime.tick());
    this.refreshHealth();
  }

  /**
   * Installs the process guard (main.ts; one agent per process): an unhandled rejection or uncaught
   * exception is logged, counted and, when it belongs to one of our volumes, fails that volume.
   */
  guardProcess(target?: NodeJS.EventEmitter): () => void {
    return installProcessGuard({
      log: this.log,
      count: (kind, action) => this.metrics.events.processGuard(kind, action),
      failVolume: (volumeId, err) => this.host.fail(volumeId, err),
      ...(target === undefined ? {} : { target }),
    });
  }

  /** Graceful stop: NOT_SERVING, in-flight calls drain (bounded), then volumes close. Idempotent. */
  stop(): Promise<{ forced: boolean }> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<{ forced: boolean }> {
    clearInterval(this.tickTimer);
    this.log.info("stopping: health NOT_SERVING, draining calls");
    this.rpc?.health.setAll("NOT_SERVING");
    this.stopController.abort();
    // NBD connections close without replies to pending requests: clients resend them elsewhere.
    await this.nbd?.close();
    const { forced } = (await this.rpc?.shutdown(this.config.shutdownTimeoutMs)) ?? { forced: false };
    await this.host.closeAll();
    await this.metricsServer?.close();
    this.log.info({ forced }, "stopped");
    return { forced };
  }
}
