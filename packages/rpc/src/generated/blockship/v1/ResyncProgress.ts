// Original file: proto/blockship/v1/control.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Progress of a changed-block resync session (the primary sends the replica the current content
 * of the blocks changed since the fork point, in passes, then the WAL from base_lsn).
 */
export interface ResyncProgress {
  /**
   * The fork point: the highest LSN at which both copies held the same record.
   */
  'fork_lsn'?: (number | string | Long);
  /**
   * The pass being sent: 1 = the blocks changed since the fork point (on either copy), k > 1 =
   * the blocks written during pass k-1; 0 = no pass reported yet.
   */
  'pass'?: (number);
  /**
   * Blocks of the current pass not yet sent.
   */
  'blocks_left'?: (number | string | Long);
  /**
   * True once the replica committed the blocks (session phase catchup).
   */
  'committed'?: (boolean);
  /**
   * Once committed: the replica's log ends at this LSN; the WAL streams from base_lsn + 1.
   */
  'base_lsn'?: (number | string | Long);
  /**
   * Once committed: the session completes when the replica's durable LSN reaches this LSN.
   */
  'consistent_lsn'?: (number | string | Long);
  /**
   * Blocks sent so far, every pass (a block re-sent in a later pass counts again).
   */
  'sent_blocks'?: (number | string | Long);
  /**
   * Block bytes sent so far, every pass.
   */
  'sent_bytes'?: (number | string | Long);
}

/**
 * Progress of a changed-block resync session (the primary sends the replica the current content
 * of the blocks changed since the fork point, in passes, then the WAL from base_lsn).
 */
export interface ResyncProgress__Output {
  /**
   * The fork point: the highest LSN at which both copies held the same record.
   */
  'fork_lsn': (string);
  /**
   * The pass being sent: 1 = the blocks changed since the fork point (on either copy), k > 1 =
   * the blocks written during pass k-1; 0 = no pass reported yet.
   */
  'pass': (number);
  /**
   * Blocks of the current pass not yet sent.
   */
  'blocks_left': (string);
  /**
   * True once the replica committed the blocks (session phase catchup).
   */
  'committed': (boolean);
  /**
   * Once committed: the replica's log ends at this LSN; the WAL streams from base_lsn + 1.
   */
  'base_lsn': (string);
  /**
   * Once committed: the session completes when the replica's durable LSN reaches this LSN.
   */
  'consistent_lsn': (string);
  /**
   * Blocks sent so far, every pass (a block re-sent in a later pass counts again).
   */
  'sent_blocks': (string);
  /**
   * Block bytes sent so far, every pass.
   */
  'sent_bytes': (string);
}
