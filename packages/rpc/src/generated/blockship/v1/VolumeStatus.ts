// Original file: proto/blockship/v1/control.proto

import type { Role as _blockship_v1_Role, Role__Output as _blockship_v1_Role__Output } from '../../blockship/v1/Role';
import type { DurabilityMode as _blockship_v1_DurabilityMode, DurabilityMode__Output as _blockship_v1_DurabilityMode__Output } from '../../blockship/v1/DurabilityMode';
import type { VolumeMode as _blockship_v1_VolumeMode, VolumeMode__Output as _blockship_v1_VolumeMode__Output } from '../../blockship/v1/VolumeMode';
import type { ReplicaStatus as _blockship_v1_ReplicaStatus, ReplicaStatus__Output as _blockship_v1_ReplicaStatus__Output } from '../../blockship/v1/ReplicaStatus';
import type { RebuildSummary as _blockship_v1_RebuildSummary, RebuildSummary__Output as _blockship_v1_RebuildSummary__Output } from '../../blockship/v1/RebuildSummary';
import type { NbdConnection as _blockship_v1_NbdConnection, NbdConnection__Output as _blockship_v1_NbdConnection__Output } from '../../blockship/v1/NbdConnection';
import type { Long } from '@grpc/proto-loader';

/**
 * The status of one volume on the reporting agent.
 */
export interface VolumeStatus {
  /**
   * The volume.
   */
  'volume_id'?: (string);
  /**
   * Logical size in bytes (a multiple of block_size).
   */
  'size_bytes'?: (number | string | Long);
  /**
   * Block size in bytes.
   */
  'block_size'?: (number);
  /**
   * WAL ring size in bytes.
   */
  'wal_size_bytes'?: (number | string | Long);
  /**
   * Current (persisted) epoch; 0 = never assigned.
   */
  'epoch'?: (number | string | Long);
  /**
   * Current role.
   */
  'role'?: (_blockship_v1_Role);
  /**
   * Persisted durability mode.
   */
  'durability_mode'?: (_blockship_v1_DurabilityMode);
  /**
   * Engine-derived mode.
   */
  'mode'?: (_blockship_v1_VolumeMode);
  /**
   * Why the volume is in this mode (free text, for operators).
   */
  'mode_reason'?: (string);
  /**
   * Last LSN appended to this copy's WAL.
   */
  'head_lsn'?: (number | string | Long);
  /**
   * Highest LSN fsynced on this copy.
   */
  'durable_lsn'?: (number | string | Long);
  /**
   * Highest LSN durable under the durability mode (primary; equals durable_lsn elsewhere).
   */
  'committed_lsn'?: (number | string | Long);
  /**
   * Highest LSN whose effect is in the extent and fsynced.
   */
  'checkpoint_lsn'?: (number | string | Long);
  /**
   * Primary only: true while the write lease is live.
   */
  'has_lease'?: (boolean);
  /**
   * Primary only: milliseconds of lease left (0 when expired).
   */
  'lease_remaining_ms'?: (number);
  /**
   * True when client writes are accepted right now.
   */
  'writable'?: (boolean);
  /**
   * Why writes are refused (a reason from common.proto, e.g. not_primary, lease_expired); empty when writable.
   */
  'write_block_reason'?: (string);
  /**
   * Bytes of the WAL in use (not yet checkpointed or still retained for a replica).
   */
  'wal_used_bytes'?: (number | string | Long);
  /**
   * Primary only: one entry per replica of the replica set, sorted by replica_id.
   */
  'replicas'?: (_blockship_v1_ReplicaStatus)[];
  /**
   * Replica/rebuilding only: server_id of the assigned primary.
   */
  'primary_server_id'?: (string);
  /**
   * Rebuilding only: bytes of the base image received so far.
   */
  'rebuild_received_bytes'?: (number | string | Long);
  /**
   * Rebuilding only: total size of the base image in bytes (0 = not started).
   */
  'rebuild_total_bytes'?: (number | string | Long);
  /**
   * Rebuilding only: "base" while the image streams, "tail" while the WAL tail streams, "" otherwise.
   */
  'rebuild_stage'?: (string);
  /**
   * Rebuilding only: how many times the running transfer resumed after a broken connection.
   */
  'rebuild_resumes'?: (number);
  /**
   * The last rebuild of this copy that committed (absent when none did since the agent started).
   */
  'last_rebuild'?: (_blockship_v1_RebuildSummary | null);
  /**
   * NBD connections to this volume's export on this agent (in transmission), oldest first.
   */
  'nbd_connections'?: (_blockship_v1_NbdConnection)[];
  /**
   * This copy's own resync marker (a replica being resynced by its primary): "transfer" while
   * blocks are being replaced (reads, writes and shipped records are refused with
   * resync_in_progress), "catchup" once committed until its durable LSN reaches
   * resync_consistent_lsn (shipped records are appended, reads still refused); "" = none.
   */
  'resync_phase'?: (string);
  /**
   * While resync_phase is set: the fork point the resync started from.
   */
  'resync_fork_lsn'?: (number | string | Long);
  /**
   * Phase catchup: the copy is consistent (the marker clears) once durable_lsn reaches this LSN.
   */
  'resync_consistent_lsn'?: (number | string | Long);
}

/**
 * The status of one volume on the reporting agent.
 */
export interface VolumeStatus__Output {
  /**
   * The volume.
   */
  'volume_id': (string);
  /**
   * Logical size in bytes (a multiple of block_size).
   */
  'size_bytes': (string);
  /**
   * Block size in bytes.
   */
  'block_size': (number);
  /**
   * WAL ring size in bytes.
   */
  'wal_size_bytes': (string);
  /**
   * Current (persisted) epoch; 0 = never assigned.
   */
  'epoch': (string);
  /**
   * Current role.
   */
  'role': (_blockship_v1_Role__Output);
  /**
   * Persisted durability mode.
   */
  'durability_mode': (_blockship_v1_DurabilityMode__Output);
  /**
   * Engine-derived mode.
   */
  'mode': (_blockship_v1_VolumeMode__Output);
  /**
   * Why the volume is in this mode (free text, for operators).
   */
  'mode_reason': (string);
  /**
   * Last LSN appended to this copy's WAL.
   */
  'head_lsn': (string);
  /**
   * Highest LSN fsynced on this copy.
   */
  'durable_lsn': (string);
  /**
   * Highest LSN durable under the durability mode (primary; equals durable_lsn elsewhere).
   */
  'committed_lsn': (string);
  /**
   * Highest LSN whose effect is in the extent and fsynced.
   */
  'checkpoint_lsn': (string);
  /**
   * Primary only: true while the write lease is live.
   */
  'has_lease': (boolean);
  /**
   * Primary only: milliseconds of lease left (0 when expired).
   */
  'lease_remaining_ms': (number);
  /**
   * True when client writes are accepted right now.
   */
  'writable': (boolean);
  /**
   * Why writes are refused (a reason from common.proto, e.g. not_primary, lease_expired); empty when writable.
   */
  'write_block_reason': (string);
  /**
   * Bytes of the WAL in use (not yet checkpointed or still retained for a replica).
   */
  'wal_used_bytes': (string);
  /**
   * Primary only: one entry per replica of the replica set, sorted by replica_id.
   */
  'replicas': (_blockship_v1_ReplicaStatus__Output)[];
  /**
   * Replica/rebuilding only: server_id of the assigned primary.
   */
  'primary_server_id': (string);
  /**
   * Rebuilding only: bytes of the base image received so far.
   */
  'rebuild_received_bytes': (string);
  /**
   * Rebuilding only: total size of the base image in bytes (0 = not started).
   */
  'rebuild_total_bytes': (string);
  /**
   * Rebuilding only: "base" while the image streams, "tail" while the WAL tail streams, "" otherwise.
   */
  'rebuild_stage': (string);
  /**
   * Rebuilding only: how many times the running transfer resumed after a broken connection.
   */
  'rebuild_resumes': (number);
  /**
   * The last rebuild of this copy that committed (absent when none did since the agent started).
   */
  'last_rebuild': (_blockship_v1_RebuildSummary__Output | null);
  /**
   * NBD connections to this volume's export on this agent (in transmission), oldest first.
   */
  'nbd_connections': (_blockship_v1_NbdConnection__Output)[];
  /**
   * This copy's own resync marker (a replica being resynced by its primary): "transfer" while
   * blocks are being replaced (reads, writes and shipped records are refused with
   * resync_in_progress), "catchup" once committed until its durable LSN reaches
   * resync_consistent_lsn (shipped records are appended, reads still refused); "" = none.
   */
  'resync_phase': (string);
  /**
   * While resync_phase is set: the fork point the resync started from.
   */
  'resync_fork_lsn': (string);
  /**
   * Phase catchup: the copy is consistent (the marker clears) once durable_lsn reaches this LSN.
   */
  'resync_consistent_lsn': (string);
}
