// Original file: proto/blockship/v1/replication.proto

import type { RecordId as _blockship_v1_RecordId, RecordId__Output as _blockship_v1_RecordId__Output } from '../../blockship/v1/RecordId';
import type { Generation as _blockship_v1_Generation, Generation__Output as _blockship_v1_Generation__Output } from '../../blockship/v1/Generation';
import type { Long } from '@grpc/proto-loader';

/**
 * Commit the transfer.
 */
export interface ResyncCommit {
  /**
   * The primary's head when its last pass started: every record <= base_lsn is in the blocks sent
   * (or was already on both copies); the ship stream continues from base_lsn + 1.
   */
  'base_lsn'?: (number | string | Long);
  /**
   * The primary's record at base_lsn (LSN, epoch, CRC): the anchor of the replica's log after the
   * commit, so the first record shipped after it must continue its CRC chain. Required.
   */
  'base_record'?: (_blockship_v1_RecordId | null);
  /**
   * The primary's history up to base_lsn, oldest first; it replaces the replica's.
   */
  'generations'?: (_blockship_v1_Generation)[];
  /**
   * The primary's head after the last block was read (>= base_lsn): the replica is consistent once
   * its catch-up made everything <= consistent_lsn durable; reads are refused until then.
   */
  'consistent_lsn'?: (number | string | Long);
}

/**
 * Commit the transfer.
 */
export interface ResyncCommit__Output {
  /**
   * The primary's head when its last pass started: every record <= base_lsn is in the blocks sent
   * (or was already on both copies); the ship stream continues from base_lsn + 1.
   */
  'base_lsn': (string);
  /**
   * The primary's record at base_lsn (LSN, epoch, CRC): the anchor of the replica's log after the
   * commit, so the first record shipped after it must continue its CRC chain. Required.
   */
  'base_record': (_blockship_v1_RecordId__Output | null);
  /**
   * The primary's history up to base_lsn, oldest first; it replaces the replica's.
   */
  'generations': (_blockship_v1_Generation__Output)[];
  /**
   * The primary's head after the last block was read (>= base_lsn): the replica is consistent once
   * its catch-up made everything <= consistent_lsn durable; reads are refused until then.
   */
  'consistent_lsn': (string);
}
