// Original file: proto/blockship/v1/replication.proto

import type { BlockRange as _blockship_v1_BlockRange, BlockRange__Output as _blockship_v1_BlockRange__Output } from '../../blockship/v1/BlockRange';

/**
 * A batch of the replica's own changed ranges after the fork point.
 */
export interface ResyncRanges {
  /**
   * Disjoint runs in increasing order (also across messages); at most 4096 per message.
   */
  'ranges'?: (_blockship_v1_BlockRange)[];
}

/**
 * A batch of the replica's own changed ranges after the fork point.
 */
export interface ResyncRanges__Output {
  /**
   * Disjoint runs in increasing order (also across messages); at most 4096 per message.
   */
  'ranges': (_blockship_v1_BlockRange__Output)[];
}
