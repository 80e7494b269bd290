// Original file: proto/blockship/v1/replication.proto

import type { Role as _blockship_v1_Role, Role__Output as _blockship_v1_Role__Output } from '../../blockship/v1/Role';
import type { RecordId as _blockship_v1_RecordId, RecordId__Output as _blockship_v1_RecordId__Output } from '../../blockship/v1/RecordId';
import type { Generation as _blockship_v1_Generation, Generation__Output as _blockship_v1_Generation__Output } from '../../blockship/v1/Generation';
import type { ResyncStatus as _blockship_v1_ResyncStatus, ResyncStatus__Output as _blockship_v1_ResyncStatus__Output } from '../../blockship/v1/ResyncStatus';
import type { Long } from '@grpc/proto-loader';

/**
 * The replica's recovery facts.
 */
export interface HandshakeResponse {
  /**
   * The replica's persisted epoch.
   */
  'epoch'?: (number | string | Long);
  /**
   * Highest LSN fsynced on the replica (the catch-up start is durable_lsn + 1).
   */
  'durable_lsn'?: (number | string | Long);
  /**
   * Highest contiguous LSN appended to the replica's WAL (may exceed durable_lsn).
   */
  'head_lsn'?: (number | string | Long);
  /**
   * Highest LSN whose effect is in the replica's extent and fsynced.
   */
  'checkpoint_lsn'?: (number | string | Long);
  /**
   * The replica's role.
   */
  'role'?: (_blockship_v1_Role);
  /**
   * The replica's record at head_lsn; absent when the replica cannot name it. The primary compares
   * it (and durable_record) with its own record at that LSN: a mismatch is divergent history
   * (needs_rebuild: divergent_history at LSN n), and a copy that cannot be compared is never
   * assumed to match.
   */
  'head_record'?: (_blockship_v1_RecordId | null);
  /**
   * The replica's record at durable_lsn; absent when the replica cannot name it.
   */
  'durable_record'?: (_blockship_v1_RecordId | null);
  /**
   * The replica's history, oldest first (at most 64 generations): the primary compares it with its
   * own to find the fork point, the highest LSN at which both copies hold the same record.
   */
  'generations'?: (_blockship_v1_Generation)[];
  /**
   * The replica's changed-block tracking base: the blocks it changed after this LSN are known (a
   * fork point below it cannot be resynced, only rebuilt). Meaningful only when change_tracking.
   */
  'change_base_lsn'?: (number | string | Long);
  /**
   * Whether the replica tracks its changes persistently (false: it knows its changes only as far
   * as its WAL reaches, i.e. change_base_lsn follows its WAL tail).
   */
  'change_tracking'?: (boolean);
  /**
   * The replica's resync marker; absent or pending = false when no resync is pending.
   */
  'resync'?: (_blockship_v1_ResyncStatus | null);
}

/**
 * The replica's recovery facts.
 */
export interface HandshakeResponse__Output {
  /**
   * The replica's persisted epoch.
   */
  'epoch': (string);
  /**
   * Highest LSN fsynced on the replica (the catch-up start is durable_lsn + 1).
   */
  'durable_lsn': (string);
  /**
   * Highest contiguous LSN appended to the replica's WAL (may exceed durable_lsn).
   */
  'head_lsn': (string);
  /**
   * Highest LSN whose effect is in the replica's extent and fsynced.
   */
  'checkpoint_lsn': (string);
  /**
   * The replica's role.
   */
  'role': (_blockship_v1_Role__Output);
  /**
   * The replica's record at head_lsn; absent when the replica cannot name it. The primary compares
   * it (and durable_record) with its own record at that LSN: a mismatch is divergent history
   * (needs_rebuild: divergent_history at LSN n), and a copy that cannot be compared is never
   * assumed to match.
   */
  'head_record': (_blockship_v1_RecordId__Output | null);
  /**
   * The replica's record at durable_lsn; absent when the replica cannot name it.
   */
  'durable_record': (_blockship_v1_RecordId__Output | null);
  /**
   * The replica's history, oldest first (at most 64 generations): the primary compares it with its
   * own to find the fork point, the highest LSN at which both copies hold the same record.
   */
  'generations': (_blockship_v1_Generation__Output)[];
  /**
   * The replica's changed-block tracking base: the blocks it changed after this LSN are known (a
   * fork point below it cannot be resynced, only rebuilt). Meaningful only when change_tracking.
   */
  'change_base_lsn': (string);
  /**
   * Whether the replica tracks its changes persistently (false: it knows its changes only as far
   * as its WAL reaches, i.e. change_base_lsn follows its WAL tail).
   */
  'change_tracking': (boolean);
  /**
   * The replica's resync marker; absent or pending = false when no resync is pending.
   */
  'resync': (_blockship_v1_ResyncStatus__Output | null);
}
