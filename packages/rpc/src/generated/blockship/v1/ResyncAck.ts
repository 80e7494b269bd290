// Original file: proto/blockship/v1/replication.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Flow control: blocks taken by the replica.
 */
export interface ResyncAck {
  /**
   * Total bytes of `blocks` accepted so far on this stream (cumulative, in arrival order): written,
   * or queued in the replica's bounded write-behind; commit makes all of them durable first.
   */
  'bytes_applied'?: (number | string | Long);
}

/**
 * Flow control: blocks taken by the replica.
 */
export interface ResyncAck__Output {
  /**
   * Total bytes of `blocks` accepted so far on this stream (cumulative, in arrival order): written,
   * or queued in the replica's bounded write-behind; commit makes all of them durable first.
   */
  'bytes_applied': (string);
}
