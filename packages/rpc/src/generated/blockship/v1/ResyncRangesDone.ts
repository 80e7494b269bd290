// Original file: proto/blockship/v1/replication.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The end of the replica's ranges.
 */
export interface ResyncRangesDone {
  /**
   * Number of blocks in all ranges sent.
   */
  'block_count'?: (number | string | Long);
  /**
   * The replica's block size in bytes (the primary checks it against its own).
   */
  'block_size_bytes'?: (number);
}

/**
 * The end of the replica's ranges.
 */
export interface ResyncRangesDone__Output {
  /**
   * Number of blocks in all ranges sent.
   */
  'block_count': (string);
  /**
   * The replica's block size in bytes (the primary checks it against its own).
   */
  'block_size_bytes': (number);
}
