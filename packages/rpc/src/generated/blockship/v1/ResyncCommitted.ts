// Original file: proto/blockship/v1/replication.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The commit is durable on the replica.
 */
export interface ResyncCommitted {
  /**
   * Echo of ResyncCommit.base_lsn: the replica's head, durable and checkpoint LSN now.
   */
  'base_lsn'?: (number | string | Long);
}

/**
 * The commit is durable on the replica.
 */
export interface ResyncCommitted__Output {
  /**
   * Echo of ResyncCommit.base_lsn: the replica's head, durable and checkpoint LSN now.
   */
  'base_lsn': (string);
}
