import {
  type ChannelOptions,
  type handleServerStreamingCall,
  type MethodDefinition,
  Server,
  ServerCredentials,
  type ServerInterceptor,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { DEFAULT_KEEPALIVE, type KeepaliveSettings, serverChannelOptions } from "./channel-options";
import { RpcError } from "./errors";
import type { ControlHandlers } from "./generated/blockship/v1/Control";
import type { RebuildHandlers } from "./generated/blockship/v1/Rebuild";
import type { ReplicationHandlers } from "./generated/blockship/v1/Replication";
import type { VolumeHandlers } from "./generated/blockship/v1/Volume";
import { HealthStatus, type ServingStatus } from "./health";
import { tuneServerSessions } from "./http2-tuning";
import { loadProtos } from "./load";
import { HEALTH_SERVICE_NAME, REFLECTION_SERVICE_NAMES, SERVICE_NAMES } from "./proto-files";
import { addReflection } from "./reflection";
import { INSECURE, serverCredentials, type TransportSecurity } from "./tls";

/** Handlers for the services this process serves; a service left out is not served. */
export interface ServiceHandlers {
  control?: Partial<ControlHandlers>;
  volume?: Partial<VolumeHandlers>;
  replication?: Partial<ReplicationHandlers>;
  rebuild?: Partial<RebuildHandlers>;
}

export interface CreateServerOptions {
  handlers: ServiceHandlers;
  /** Initial health of every served service and of "" (overall). Default SERVING. */
  initialHealth?: ServingStatus;
  keepalive?: KeepaliveSettings;
  /** Extra grpc-js server options, applied over ours. */
  channelOptions?: ChannelOptions;
  /** grpc-js server interceptors (e.g. `observeCalls(...)`), outermost first. */
  interceptors?: ServerInterceptor[];
}

export interface RpcServer {
  readonly server: Server;
  readonly health: HealthStatus;
  /** Fully-qualified names of our services being served (health and reflection not included). */
  readonly servedServices: readonly string[];
}

export interface StartedRpcServer extends RpcServer {
  /** The bound address `host:port` (the real port when 0 was asked for). */
  readonly address: string;
  readonly port: number;
  /** The bound plaintext health-only address when `healthAddress` was asked for. */
  readonly healthAddress: string | undefined;
  /**
   * Graceful, bounded shutdown: every health status goes NOT_SERVING, new calls are
   * refused, running calls may finish until `timeoutMs`, then every call is cancelled.
   * Resolves with `forced: true` when the timer had to cut calls off.
   */
  shutdown(timeoutMs?: number): Promise<{ forced: boolean }>;
}

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;

/**
 * Builds a grpc-js server with our channel options, the given services, grpc.health.v1
 * and server reflection (v1 and v1alpha) that lists exactly what is served.
 */
export function createServer(options: CreateServerOptions): RpcServer {
  const { grpc, packageDefinition } = loadProtos();
  const server = new Server({
    ...serverChannelOptions(options.keepalive ?? DEFAULT_KEEPALIVE),
    ...options.channelOptions,
    interceptors: options.interceptors ?? [],
  });
  const v1 = grpc.blockship.v1;
  const definitions: Record<keyof ServiceHandlers, ServiceDefinition> = {
    control: v1.Control.service,
    volume: v1.Volume.service,
    replication: v1.Replication.service,
    rebuild: v1.Rebuild.service,
  };
  const servedServices: string[] = [];
  for (const key of Object.keys(definitions) as (keyof ServiceHandlers)[]) {
    const handlers = options.handlers[key];
    if (handlers === undefined) continue;
    const name = SERVICE_NAMES[key];
    server.addService(definitions[key], withUnimplemented(name, definitions[key], handlers));
    servedServices.push(name);
  }
  const health = new HealthStatus(servedServices, options.initialHealth ?? "SERVING");
  health.addToServer(server);
  addReflection(server, packageDefinition, [
    ...servedServices,
    HEALTH_SERVICE_NAME,
    ...REFLECTION_SERVICE_NAMES,
  ]);
  return { server, health, servedServices };
}

export interface StartServerOptions extends CreateServerOptions {
  /** Where to listen: "0.0.0.0:7000", "127.0.0.1:0" (0 = any free port). */
  address: string;
  /** Plaintext, TLS or mTLS on `address`. Default plaintext (the agent always says which). */
  security?: TransportSecurity;
  /**
   * A second, plaintext listener serving grpc.health.v1 only (same statuses), for kubelet gRPC
   * probes when `address` needs client certificates. Undefined = none.
   */
  healthAddress?: string;
}

/** createServer + bind on `options.address` (and the health-only listener when asked for). */
export async function startServer(options: StartServerOptions): Promise<StartedRpcServer> {
  const rpc = createServer(options);
  let healthServer: Server | undefined;
  let healthAddress: string | undefined;
  let port: number;
  try {
    port = await bind(rpc.server, options.address, serverCredentials(options.security ?? INSECURE));
    tuneServerSessions(rpc.server);
    if (options.healthAddress !== undefined) {
      healthServer = new Server(serverChannelOptions(options.keepalive ?? DEFAULT_KEEPALIVE));
      rpc.health.addToServer(healthServer);
      const healthPort = await bind(healthServer, options.healthAddress, ServerCredentials.createInsecure());
      healthAddress = `${hostOf(options.healthAddress)}:${healthPort}`;
    }
  } catch (err) {
    rpc.server.forceShutdown();
    healthServer?.forceShutdown();
    throw err;
  }
  let shuttingDown: Promise<{ forced: boolean }> | undefined;
  return {
    ...rpc,
    port,
    address: `${hostOf(options.address)}:${port}`,
    healthAddress,
    // Idempotent: a second SIGTERM (or a test's afterAll) waits for the first shutdown.
    shutdown: (timeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS) => {
      shuttingDown ??= shutdownServer(rpc, timeoutMs).then((result) => {
        // Probes see NOT_SERVING until the main server is down; nothing long-lived runs here.
        healthServer?.forceShutdown();
        return result;
      });
      return shuttingDown;
    },
  };
}

function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(":"));
}

function bind(server: Server, address: string, creds: ServerCredentials): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(address, creds, (err, boundPort) => {
      if (err === null) resolve(boundPort);
      else reject(err);
    });
  });
}

export function shutdownServer(rpc: RpcServer, timeoutMs: number): Promise<{ forced: boolean }> {
  if (!(Number.isFinite(timeoutMs) && timeoutMs >= 0)) throw new RangeError(`bad timeoutMs ${timeoutMs}`);
  rpc.health.setAll("NOT_SERVING");
  return new Promise((resolve) => {
    let settled = false;
    // tryShutdown waits for every open call, and a stream (WatchStatus, Ship, a health
    // Watch) may never end by itself: the timer bounds the wait.
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      rpc.server.forceShutdown();
      resolve({ forced: true });
    }, timeoutMs);
    rpc.server.tryShutdown(() => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ forced: false });
    });
  });
}

// grpc-js would answer a missing method with its own UNIMPLEMENTED text; ours carries the
// reason like every other error.
function withUnimplemented(
  serviceName: string,
  definition: ServiceDefinition,
  handlers: object,
): UntypedServiceImplementation {
  const impl: UntypedServiceImplementation = { ...(handlers as UntypedServiceImplementation) };
  for (const [methodName, method] of Object.entries(definition) as [
    string,
    MethodDefinition<unknown, unknown>,
  ][]) {
    if (impl[methodName] !== undefined || (method.originalName && impl[method.originalName] !== undefined)) {
      continue;
    }
    impl[methodName] = unimplementedHandler(`${serviceName}/${methodName}`, method);
  }
  return impl;
}

function unimplementedHandler(
  path: string,
  method: MethodDefinition<unknown, unknown>,
): UntypedServiceImplementation[string] {
  const error = () => new RpcError("unimplemented", `${path} is not implemented by this agent`);
  if (method.responseStream) {
    const handler: handleServerStreamingCall<unknown, unknown> = (call) => {
      call.emit("error", error());
    };
    return handler;
  }
  return (_call: unknown, callback: (err: RpcError) => void) => callback(error());
}
