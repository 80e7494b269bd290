// @blockship/rpc: the one place that loads the wire contract (proto/) and builds gRPC
// servers and clients for it. See README.md.

export { authorizeCalls, type ServerSurfaceCall } from "./authorize";
export {
  assertKeepaliveAgrees,
  CLIENT_FLOW_CONTROL_WINDOW_BYTES,
  clientChannelOptions,
  DEFAULT_KEEPALIVE,
  type KeepaliveSettings,
  MAX_MESSAGE_BYTES,
  serverChannelOptions,
} from "./channel-options";
export {
  type ClientOptions,
  type ControlClient,
  closeClient,
  createControlClient,
  createHealthClient,
  createRebuildClient,
  createReplicationClient,
  createVolumeClient,
  deadlineIn,
  type HealthClient,
  type RebuildClient,
  type ReplicationClient,
  unary,
  type VolumeClient,
} from "./clients";
export {
  codeOf,
  detailOf,
  grpcCodeOf,
  type ItemStatusValue,
  isReason,
  itemStatusOf,
  OK_ITEM_STATUS,
  REASON_CODES,
  REASON_METADATA_KEY,
  type Reason,
  RpcError,
  reasonOf,
  rpcError,
  toRpcError,
} from "./errors";
// Every generated message, enum and service type of blockship.v1 and grpc.health.v1.
export * from "./generated/index";
export { bidiStreamHandler, clientStreamHandler, serverStreamHandler, unaryHandler } from "./handlers";
export { HealthStatus, OVERALL, type ServingStatus } from "./health";
export {
  SERVER_CONNECTION_WINDOW_BYTES,
  SERVER_HTTP2_SETTINGS,
  SERVER_MAX_FRAME_BYTES,
  SERVER_STREAM_WINDOW_BYTES,
  tuneServerSessions,
} from "./http2-tuning";
export { type CallEvent, observeCalls } from "./interceptors";
export { type BlockshipGrpc, type LoadedProtos, loadProtos } from "./load";
export {
  BLOCKSHIP_PROTO_FILES,
  HEALTH_SERVICE_NAME,
  LOADER_OPTIONS,
  PROTO_ROOT,
  REFLECTION_SERVICE_NAMES,
  SERVICE_NAMES,
} from "./proto-files";
export { addReflection, reflectablePackageDefinition } from "./reflection";
export {
  type CreateServerOptions,
  createServer,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  type RpcServer,
  type ServiceHandlers,
  type StartedRpcServer,
  type StartServerOptions,
  shutdownServer,
  startServer,
} from "./server";
export { SHIP_BATCH_HEADROOM_BYTES, shipBatchInPlace, shipRequestSerializer } from "./ship-codec";
export {
  type ChannelCredentialsOptions,
  type ClientCredentialsFactory,
  channelCredentials,
  clientCredentialsFactory,
  INSECURE,
  peerCertificateIdentity,
  peerIdentity,
  pemCertificateIdentity,
  requirePeerIdentity,
  type ServerCallLike,
  serverCredentials,
  type TlsMaterial,
  type TransportSecurity,
  tlsMaterialProblem,
} from "./tls";
export { type LongLike, U64_MAX, type U64Wire, u64FromWire, u64ToWire } from "./u64";
export {
  invalidArgument,
  MAX_BATCH_ITEMS,
  parseReplicaId,
  replicaIdOf,
  requireAddress,
  requireBytes,
  requireEnum,
  requireIntInRange,
  requireList,
  requireMessage,
  requireServerId,
  requireString,
  requireU64,
  requireVolumeId,
} from "./validate";
