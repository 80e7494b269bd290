import {
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  credentials,
  type Metadata,
  makeClientConstructor,
  type ServiceClientConstructor,
  type ServiceError,
} from "@grpc/grpc-js";
import { clientChannelOptions, DEFAULT_KEEPALIVE, type KeepaliveSettings } from "./channel-options";
import type { ControlClient } from "./generated/blockship/v1/Control";
import type { RebuildClient } from "./generated/blockship/v1/Rebuild";
import type { ReplicationClient } from "./generated/blockship/v1/Replication";
import type { VolumeClient } from "./generated/blockship/v1/Volume";
import type { HealthClient } from "./generated/grpc/health/v1/Health";
import { loadProtos } from "./load";
import { shipRequestSerializer } from "./ship-codec";

export type { ControlClient, HealthClient, RebuildClient, ReplicationClient, VolumeClient };

export interface ClientOptions {
  /** Default: plaintext (agents talk over the pod network / loopback). */
  credentials?: ChannelCredentials;
  keepalive?: KeepaliveSettings;
  /** Extra channel options, applied over ours. */
  channelOptions?: ChannelOptions;
}

function channelArgs(options: ClientOptions): [ChannelCredentials, ChannelOptions] {
  return [
    options.credentials ?? credentials.createInsecure(),
    { ...clientChannelOptions(options.keepalive ?? DEFAULT_KEEPALIVE), ...options.channelOptions },
  ];
}

/** Client of blockship.v1.Control at `address` (`host:port`). */
export function createControlClient(address: string, options: ClientOptions = {}): ControlClient {
  return new (loadProtos().grpc.blockship.v1.Control)(address, ...channelArgs(options));
}

/** Client of blockship.v1.Volume at `address`. */
export function createVolumeClient(address: string, options: ClientOptions = {}): VolumeClient {
  return new (loadProtos().grpc.blockship.v1.Volume)(address, ...channelArgs(options));
}

/** Client of blockship.v1.Replication at `address`. */
export function createReplicationClient(address: string, options: ClientOptions = {}): ReplicationClient {
  return new (replicationClientConstructor())(
    address,
    ...channelArgs(options),
  ) as unknown as ReplicationClient;
}

let replicationConstructor: ServiceClientConstructor | undefined;

/** The generated Replication client with Ship's serializer sending pre-encoded batches as built (ship-codec.ts). */
function replicationClientConstructor(): ServiceClientConstructor {
  if (replicationConstructor === undefined) {
    const generated = loadProtos().grpc.blockship.v1.Replication as unknown as ServiceClientConstructor;
    const ship = generated.service.Ship;
    if (ship === undefined) throw new Error("blockship.v1.Replication has no Ship method");
    replicationConstructor = makeClientConstructor(
      {
        ...generated.service,
        Ship: { ...ship, requestSerialize: shipRequestSerializer(ship.requestSerialize) },
      },
      generated.serviceName,
    );
  }
  return replicationConstructor;
}

/** Client of blockship.v1.Rebuild at `address`. */
export function createRebuildClient(address: string, options: ClientOptions = {}): RebuildClient {
  return new (loadProtos().grpc.blockship.v1.Rebuild)(address, ...channelArgs(options));
}

/** Client of grpc.health.v1.Health at `address`. */
export function createHealthClient(address: string, options: ClientOptions = {}): HealthClient {
  return new (loadProtos().grpc.grpc.health.v1.Health)(address, ...channelArgs(options));
}

/** Call options with a deadline `timeoutMs` from now. */
export function deadlineIn(timeoutMs: number): CallOptions {
  return { deadline: new Date(Date.now() + timeoutMs) };
}

type UnaryCallback<Res> = (err: ServiceError | null, value?: Res) => void;

/**
 * Promise form of a unary call: `await unary<GetStatusResponse__Output>((cb) => client.GetStatus(req, cb))`.
 * Rejects with the ServiceError (read it with `reasonOf`).
 */
export function unary<Res>(start: (callback: UnaryCallback<Res>) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    start((err, value) => {
      if (err !== null) reject(err);
      else if (value === undefined) reject(new Error("unary call returned no response"));
      else resolve(value);
    });
  });
}

/** Closes a client's channel (pending calls fail with CANCELLED). */
export function closeClient(client: Client): void {
  client.close();
}

export type { Metadata };
