// Original file: proto/blockship/v1/replication.proto

import type { ResyncRanges as _blockship_v1_ResyncRanges, ResyncRanges__Output as _blockship_v1_ResyncRanges__Output } from '../../blockship/v1/ResyncRanges';
import type { ResyncRangesDone as _blockship_v1_ResyncRangesDone, ResyncRangesDone__Output as _blockship_v1_ResyncRangesDone__Output } from '../../blockship/v1/ResyncRangesDone';
import type { ResyncAck as _blockship_v1_ResyncAck, ResyncAck__Output as _blockship_v1_ResyncAck__Output } from '../../blockship/v1/ResyncAck';
import type { ResyncCommitted as _blockship_v1_ResyncCommitted, ResyncCommitted__Output as _blockship_v1_ResyncCommitted__Output } from '../../blockship/v1/ResyncCommitted';

/**
 * One message from the replica on the resync stream.
 */
export interface ResyncResponse {
  /**
   * Some of the replica's own changed ranges (after begin).
   */
  'ranges'?: (_blockship_v1_ResyncRanges | null);
  /**
   * All of the replica's ranges were sent.
   */
  'ranges_done'?: (_blockship_v1_ResyncRangesDone | null);
  /**
   * Bytes written so far (after blocks).
   */
  'ack'?: (_blockship_v1_ResyncAck | null);
  /**
   * The commit is durable (after commit); the replica then ends the stream with OK.
   */
  'committed'?: (_blockship_v1_ResyncCommitted | null);
  /**
   * The payload.
   */
  'body'?: "ranges"|"ranges_done"|"ack"|"committed";
}

/**
 * One message from the replica on the resync stream.
 */
export interface ResyncResponse__Output {
  /**
   * Some of the replica's own changed ranges (after begin).
   */
  'ranges'?: (_blockship_v1_ResyncRanges__Output | null);
  /**
   * All of the replica's ranges were sent.
   */
  'ranges_done'?: (_blockship_v1_ResyncRangesDone__Output | null);
  /**
   * Bytes written so far (after blocks).
   */
  'ack'?: (_blockship_v1_ResyncAck__Output | null);
  /**
   * The commit is durable (after commit); the replica then ends the stream with OK.
   */
  'committed'?: (_blockship_v1_ResyncCommitted__Output | null);
  /**
   * The payload.
   */
  'body'?: "ranges"|"ranges_done"|"ack"|"committed";
}
