// Original file: proto/blockship/v1/replication.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Flow control: blocks written on the replica.
 */
export interface ResyncAck {
  /**
   * Total bytes of `blocks` written so far on this stream (cumulative, in arrival order).
   */
  'bytes_applied'?: (number | string | Long);
}

/**
 * Flow control: blocks written on the replica.
 */
export interface ResyncAck__Output {
  /**
   * Total bytes of `blocks` written so far on this stream (cumulative, in arrival order).
   */
  'bytes_applied': (string);
}
