// Original file: proto/blockship/v1/replication.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A run of blocks.
 */
export interface BlockRange {
  /**
   * The first block (block number = byte offset / block size).
   */
  'first_block'?: (number | string | Long);
  /**
   * Number of blocks, >= 1.
   */
  'block_count'?: (number | string | Long);
}

/**
 * A run of blocks.
 */
export interface BlockRange__Output {
  /**
   * The first block (block number = byte offset / block size).
   */
  'first_block': (string);
  /**
   * Number of blocks, >= 1.
   */
  'block_count': (string);
}
