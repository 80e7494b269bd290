// Original file: proto/blockship/v1/replication.proto

import type { Long } from '@grpc/proto-loader';

/**
 * An in-band durability barrier.
 */
export interface Barrier {
  /**
   * Primary-chosen id, echoed in the response; unique per stream.
   */
  'barrier_id'?: (number | string | Long);
  /**
   * Make every entry <= lsn durable. The entries travel before the barrier on the same stream.
   */
  'lsn'?: (number | string | Long);
}

/**
 * An in-band durability barrier.
 */
export interface Barrier__Output {
  /**
   * Primary-chosen id, echoed in the response; unique per stream.
   */
  'barrier_id': (string);
  /**
   * Make every entry <= lsn durable. The entries travel before the barrier on the same stream.
   */
  'lsn': (string);
}
