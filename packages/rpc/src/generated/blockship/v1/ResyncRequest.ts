// Original file: proto/blockship/v1/replication.proto

import type { ResyncBegin as _blockship_v1_ResyncBegin, ResyncBegin__Output as _blockship_v1_ResyncBegin__Output } from '../../blockship/v1/ResyncBegin';
import type { ResyncBlocks as _blockship_v1_ResyncBlocks, ResyncBlocks__Output as _blockship_v1_ResyncBlocks__Output } from '../../blockship/v1/ResyncBlocks';
import type { ResyncCommit as _blockship_v1_ResyncCommit, ResyncCommit__Output as _blockship_v1_ResyncCommit__Output } from '../../blockship/v1/ResyncCommit';
import type { Long } from '@grpc/proto-loader';

/**
 * One message from the primary on the resync stream.
 */
export interface ResyncRequest {
  /**
   * The volume. Required on every message (and unchanged).
   */
  'volume_id'?: (string);
  /**
   * The primary's epoch, >= 1. Required on every message; it must equal the replica's.
   */
  'epoch'?: (number | string | Long);
  /**
   * The sending primary's server_id. Required on every message.
   */
  'primary_server_id'?: (string);
  /**
   * The server_id the primary believes it resyncs. Required on every message.
   */
  'replica_server_id'?: (string);
  /**
   * Start (or resume) a session from a fork point; must be the first message.
   */
  'begin'?: (_blockship_v1_ResyncBegin | null);
  /**
   * The current content of a run of blocks.
   */
  'blocks'?: (_blockship_v1_ResyncBlocks | null);
  /**
   * End the transfer: the replica's log becomes the primary's at base_lsn.
   */
  'commit'?: (_blockship_v1_ResyncCommit | null);
  /**
   * The step. Required.
   */
  'body'?: "begin"|"blocks"|"commit";
}

/**
 * One message from the primary on the resync stream.
 */
export interface ResyncRequest__Output {
  /**
   * The volume. Required on every message (and unchanged).
   */
  'volume_id': (string);
  /**
   * The primary's epoch, >= 1. Required on every message; it must equal the replica's.
   */
  'epoch': (string);
  /**
   * The sending primary's server_id. Required on every message.
   */
  'primary_server_id': (string);
  /**
   * The server_id the primary believes it resyncs. Required on every message.
   */
  'replica_server_id': (string);
  /**
   * Start (or resume) a session from a fork point; must be the first message.
   */
  'begin'?: (_blockship_v1_ResyncBegin__Output | null);
  /**
   * The current content of a run of blocks.
   */
  'blocks'?: (_blockship_v1_ResyncBlocks__Output | null);
  /**
   * End the transfer: the replica's log becomes the primary's at base_lsn.
   */
  'commit'?: (_blockship_v1_ResyncCommit__Output | null);
  /**
   * The step. Required.
   */
  'body'?: "begin"|"blocks"|"commit";
}
