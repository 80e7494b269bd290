// Original file: proto/blockship/v1/replication.proto

import type { ItemStatus as _blockship_v1_ItemStatus, ItemStatus__Output as _blockship_v1_ItemStatus__Output } from '../../blockship/v1/ItemStatus';
import type { Long } from '@grpc/proto-loader';

/**
 * The answer to one barrier.
 */
export interface BarrierResponse {
  /**
   * Echo of Barrier.barrier_id.
   */
  'barrier_id'?: (number | string | Long);
  /**
   * Highest LSN fsynced on the replica after this barrier; >= Barrier.lsn when status is OK.
   */
  'durable_lsn'?: (number | string | Long);
  /**
   * OK, or why the barrier failed without ending the stream (e.g. internal: fsync failed).
   */
  'status'?: (_blockship_v1_ItemStatus | null);
}

/**
 * The answer to one barrier.
 */
export interface BarrierResponse__Output {
  /**
   * Echo of Barrier.barrier_id.
   */
  'barrier_id': (string);
  /**
   * Highest LSN fsynced on the replica after this barrier; >= Barrier.lsn when status is OK.
   */
  'durable_lsn': (string);
  /**
   * OK, or why the barrier failed without ending the stream (e.g. internal: fsync failed).
   */
  'status': (_blockship_v1_ItemStatus__Output | null);
}
