// What the agent needs from the data plane (packages/replication), as an interface: the agent is
// built and tested against it, and `local-replication.ts` is the RF=1 stand-in used until (or
// unless) the real binding is wired in `replication-binding.ts`.
import type { RebuildHandlers, ReplicationHandlers } from "@blockship/rpc";
import type { DurabilityMode, Volume } from "@blockship/storage";
import type { Role } from "./roles";

export interface LiveShippingDecision {
  readonly allow: boolean;
  readonly reason?: string;
}
export type LiveShippingPolicy = (replicaId: string, lsn: number) => LiveShippingDecision;

export interface ShipTarget {
  readonly replicaId: string;
  readonly serverId: string;
  readonly address: string;
}

export type ShipperState =
  | "disconnected"
  | "connecting"
  | "catching_up"
  | "in_sync"
  | "degraded"
  | "needs_rebuild";

export interface ShipperStatusView {
  readonly replicaId: string;
  readonly serverId: string;
  readonly address: string;
  readonly state: ShipperState;
  readonly cursorLsn: number;
  readonly receivedLsn: number;
  readonly durableLsn: number;
  /** Bytes sent and not yet acknowledged (metrics; the real ShipperGroup reports it). */
  readonly inFlightBytes?: number;
  readonly gateReason?: string;
  readonly lastError?: string;
}

export interface ShipperGroupPort {
  setPolicy(policy: LiveShippingPolicy): void;
  /** The policy's answers may have changed: gated shippers ask again now. */
  policyChanged(): void;
  /** A recovery session's handshake found the replica's history divergent (needs_rebuild). */
  historyDiverged(replicaId: string, reason: string): void;
  /** The replica was repaired outside its stream (a resync committed): probe it now. */
  reprobe(replicaId: string): void;
  setReplicas(targets: readonly ShipTarget[]): void;
  statuses(): readonly ShipperStatusView[];
  close(): Promise<void>;
  on(event: "stateChange", listener: (status: ShipperStatusView) => void): unknown;
  on(event: "needsRebuild", listener: (replicaId: string, reason: string) => void): unknown;
  on(event: "durableAdvanced", listener: (replicaId: string, durableLsn: number) => void): unknown;
}

export interface ShipperGroupParams {
  readonly volume: Volume;
  readonly volumeId: string;
  readonly primaryServerId: string;
  readonly epoch: () => number;
  readonly durabilityMode: () => DurabilityMode;
  readonly barrierTimeoutMs: number;
}

export interface ReceiverAuthority {
  readonly epoch: number;
  readonly primaryServerId: string;
  readonly accepting: boolean;
  readonly role: Role;
}

export interface ReceiverParams {
  readonly volume: Volume;
  readonly volumeId: string;
  readonly localServerId: string;
  readonly authority: () => ReceiverAuthority;
}

export interface ReceiverPort {
  close?(): Promise<void> | void;
}

/** What the primary's Rebuild service needs to serve one volume. */
export interface RebuildSourcePort {
  readonly volume: Volume;
  /** Read per message: a demotion or epoch change ends a running transfer. */
  authority(): {
    readonly role: Role;
    readonly epoch: number;
    readonly replicaServerIds: ReadonlySet<string>;
  };
}

export interface RebuildProgressView {
  readonly stage: "base" | "tail";
  readonly bytesDone: number;
  readonly totalBytes: number;
  readonly baseLsn: number;
  readonly lastLsn: number;
  readonly resumes: number;
}

export interface RebuildPullParams {
  readonly volume: Volume;
  readonly volumeId: string;
  readonly epoch: number;
  readonly replicaServerId: string;
  /** With TLS, the primary's certificate must name this server_id. */
  readonly primaryServerId: string;
  readonly primaryAddress: string;
  /** 0 = the primary's default. */
  readonly rateLimitBytesPerSecond: number;
  readonly signal: AbortSignal;
  readonly onProgress: (p: RebuildProgressView) => void;
}

export interface RebuildPullResult {
  readonly baseLsn: number;
  readonly lastLsn: number;
  readonly totalBytes: number;
  readonly bytesTransferred: number;
  readonly resumes: number;
  /** Image bytes kept from a pull that a restart of this agent interrupted. */
  readonly resumedFromBytes: number;
}

export interface ReplicationBinding {
  /** A short name for logs ("local" = RF=1 only). */
  readonly name: string;
  createShipperGroup(params: ShipperGroupParams): ShipperGroupPort;
  createReceiver(params: ReceiverParams): ReceiverPort;
  /**
   * Flush under the durability mode: local fsync, plus replica barriers for replicated modes.
   * Resolves with the LSN that is durable under the mode; throws durability_barrier_failed /
   * durability_quorum_lost instead of over-reporting.
   */
  durableFlush(volume: Volume, group: ShipperGroupPort | null, mode: DurabilityMode): Promise<number>;
  /** The Replication service, resolving a volume's receiver (undefined → volume_not_found). */
  serviceHandlers(resolve: (volumeId: string) => ReceiverPort | undefined): Partial<ReplicationHandlers>;
  /** The Rebuild service (primary side), resolving a volume (undefined → volume_not_found). */
  rebuildHandlers(resolve: (volumeId: string) => RebuildSourcePort | undefined): Partial<RebuildHandlers>;
  /**
   * Pulls a base image + WAL tail from the primary into this copy and commits it atomically
   * (resuming broken transfers); on failure or abort the copy's previous state is intact.
   */
  pullRebuild(params: RebuildPullParams): Promise<RebuildPullResult>;
}
