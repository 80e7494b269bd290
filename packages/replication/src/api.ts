// The seam between the data plane (this package) and the agent that hosts it.
// The agent owns roles, epochs, leases and the protocol engine; this package moves WAL bytes
// between copies and reports what it observed. Types only: the implementation lives beside it.
//
// LSNs and epochs are plain numbers here, as in @blockship/storage (u64 on disk and on the wire,
// asserted <= Number.MAX_SAFE_INTEGER at the edges); the agent converts to bigint for the engine.

import type { DurabilityMode, Volume } from "@blockship/storage";

/** The phase gate: may the live tail entry `lsn` go to `replicaId` now? Consulted before any send. */
export type LiveShippingPolicy = (replicaId: string, lsn: number) => LiveShippingDecision;
export interface LiveShippingDecision {
  readonly allow: boolean;
  /** Why not, e.g. `active_catchup_session phase=… start=… target=… recovered=…`. */
  readonly reason?: string;
}

/** One replica of a primary volume, as assigned by the master. */
export interface ReplicaTarget {
  /** `<volumeId>/<serverId>`: the stable identity; never an address. */
  readonly replicaId: string;
  readonly serverId: string;
  /** `host:port` of the replica agent's gRPC server (Replication service). */
  readonly address: string;
}

/** Primary-side view of one replica (reference shipper states, dataplane-spec §3.3). */
export type ShipperState =
  | "disconnected"
  | "connecting"
  | "catching_up"
  | "in_sync"
  | "degraded"
  | "needs_rebuild";

export interface ShipperStatus {
  readonly replicaId: string;
  readonly serverId: string;
  readonly address: string;
  readonly state: ShipperState;
  /** Next LSN the cursor will send. */
  readonly cursorLsn: number;
  /** Highest LSN the replica acknowledged as appended (not durable). */
  readonly receivedLsn: number;
  /** Highest LSN a barrier proved durable on the replica. Only barriers move it. */
  readonly durableLsn: number;
  /** Bytes sent on the current stream and not yet acknowledged (bounded by maxInFlightBytes). */
  readonly inFlightBytes: number;
  /** Highest inFlightBytes this shipper ever had (a single record larger than the bound travels alone). */
  readonly peakInFlightBytes: number;
  /** Set when the phase gate currently holds the live tail back from this replica. */
  readonly gateReason?: string;
  readonly lastError?: string;
}

/** The result of one replica's barrier. */
export interface BarrierOutcome {
  readonly replicaId: string;
  readonly ok: boolean;
  /** The replica's durable LSN after the barrier (unchanged on failure). */
  readonly durableLsn: number;
  /** Stable reason on failure: `timeout`, `epoch_mismatch`, `needs_rebuild`, `unavailable`, … */
  readonly reason?: string;
}

/** Observations the primary side reports to its host (the agent feeds them to the engine). */
export interface ShipperEvents {
  stateChange: [status: ShipperStatus];
  /** The handshake found the replica's durable LSN below the retained WAL (or otherwise unrecoverable). */
  needsRebuild: [replicaId: string, reason: string];
  /**
   * A barrier answer raised the replica's confirmed durable LSN. The host reads catch-up progress
   * here: nothing else changes state when a session's last barrier is answered.
   */
  durableAdvanced: [replicaId: string, durableLsn: number];
}

export interface ShipperGroupOptions {
  readonly volume: Volume;
  readonly volumeId: string;
  /** This agent's server ID, sent as the primary identity on every stream. */
  readonly primaryServerId: string;
  /** The volume's current epoch (the agent's fenced epoch); entries of another epoch are never sent. */
  readonly epoch: () => number;
  readonly durabilityMode: () => DurabilityMode;
  /** Barrier deadline per replica (default 5000). */
  readonly barrierTimeoutMs?: number;
  /** Upper bound of bytes sent but not yet acknowledged, per replica (default 8 MiB). */
  readonly maxInFlightBytes?: number;
  /** Bytes of WAL records per Ship message (default 256 KiB). */
  readonly batchBytes?: number;
  /** Reconnect back-off bounds (defaults 100 and 5000). */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Deadline of the Handshake RPC (default 5000). */
  readonly handshakeTimeoutMs?: number;
  /**
   * Background barriers keep a connected replica's durable LSN (and so its WAL pin) moving without
   * client flushes: one is sent when durability lags what was sent and `idleBarrierMs` (default 1000)
   * passed since the last barrier or `backgroundBarrierBytes` (default 4 MiB) were sent since.
   * Keep backgroundBarrierBytes well below storage's retentionMaxHeldBytes.
   */
  readonly idleBarrierMs?: number;
  readonly backgroundBarrierBytes?: number;
  /** While the gate denies, the policy is re-asked at least this often besides every wake-up (default 250). */
  readonly gateRecheckMs?: number;
}
