// @blockship/replication: the data plane between copies of a volume (DESIGN §4). See README.md.

export type {
  BarrierOutcome,
  LiveShippingDecision,
  LiveShippingPolicy,
  ReplicaTarget,
  ShipperEvents,
  ShipperGroupOptions,
  ShipperState,
  ShipperStatus,
} from "./api";
export { connectReplication } from "./connect";
export {
  type BarrierTargets,
  DurabilityCoordinator,
  decideDurability,
  durableFlush,
  flushOnce,
} from "./durability";
export { isReplicationError, ReplicationError, type ReplicationErrorReason } from "./errors";
export { type ForkPrimarySide, type ForkReplicaSide, findForkPoint } from "./fork-point";
export { ShipperGroup, type ShipperGroupInit } from "./group";
export {
  classifyHandshake,
  divergentHistoryReason,
  type HandshakeVerdict,
  type PrimaryFacts,
  type RecordRef,
  type ReplicaFacts,
  type ReplicaResyncState,
  resyncPendingReason,
} from "./handshake";
export type { PullState, RebuildTargetVolume } from "./rebuild-attempt";
export { connectRebuild } from "./rebuild-client";
export { classifyAttemptError, isRebuildError, RebuildError } from "./rebuild-errors";
export {
  type PullRebuildOptions,
  type PullRebuildResult,
  pullRebuild,
  type RebuildProgress,
} from "./rebuild-puller";
export { DEFAULT_CHUNK_BYTES, effectiveRate, MAX_CHUNK_BYTES } from "./rebuild-request";
export {
  RebuildSource,
  type RebuildSourceAuthority,
  type RebuildSourceHost,
  type RebuildSourceOptions,
  type RebuildStreamReport,
  rebuildPinOwner,
  rebuildServiceHandlers,
} from "./rebuild-source";
export {
  type ReceiverAuthority,
  type ReceiverStats,
  ReplicaReceiver,
  type ReplicaReceiverOptions,
} from "./receiver";
export { isResyncError, ResyncError } from "./resync-channel";
export {
  DEFAULT_RESYNC_MAX_PASSES,
  type ResyncProgress,
  type ResyncResult,
  type RunResyncOptions,
  resyncPinOwner,
  runResync,
} from "./resync-source";
export { MAX_RESYNC_BLOCK_BYTES, RANGES_PER_MESSAGE } from "./resync-target";
export type { ResyncSourceVolume, ResyncTargetVolume } from "./resync-volume";
export { replicationServiceHandlers } from "./service";
export { replicaFactsFromWire } from "./ship-stream";
export { type BarrierStage, type StageTracer, setStageTracer } from "./stage-trace";
export {
  MAX_RATE_BYTES_PER_SECOND,
  type RateClock,
  realRateClock,
  TokenBucket,
  type TokenBucketStats,
} from "./token-bucket";
