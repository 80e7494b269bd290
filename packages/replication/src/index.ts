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
export { ShipperGroup, type ShipperGroupInit } from "./group";
export {
  type ReceiverAuthority,
  type ReceiverStats,
  ReplicaReceiver,
  type ReplicaReceiverOptions,
} from "./receiver";
export { replicationServiceHandlers } from "./service";
