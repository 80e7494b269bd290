// Original file: proto/blockship/v1/replication.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Progress of the replica's append.
 */
export interface ShipAck {
  /**
   * Highest contiguous LSN appended to the replica's WAL (not necessarily durable).
   */
  'received_lsn'?: (number | string | Long);
}

/**
 * Progress of the replica's append.
 */
export interface ShipAck__Output {
  /**
   * Highest contiguous LSN appended to the replica's WAL (not necessarily durable).
   */
  'received_lsn': (string);
}
