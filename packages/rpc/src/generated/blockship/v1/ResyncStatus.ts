// Original file: proto/blockship/v1/replication.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A copy's persisted resync marker, as reported by Handshake.
 */
export interface ResyncStatus {
  /**
   * True while a resync is pending on the copy (until its catch-up reached consistent_lsn).
   */
  'pending'?: (boolean);
  /**
   * "transfer" (blocks are being replaced: the copy is inconsistent, nothing may be shipped to it)
   * or "catchup" (committed at base_lsn: shipped records are appended, reads wait for
   * consistent_lsn); empty when not pending.
   */
  'phase'?: (string);
  /**
   * The fork point the pending resync started from.
   */
  'fork_lsn'?: (number | string | Long);
  /**
   * Phase catchup: the LSN the copy's log was committed at (its head was set to it).
   */
  'base_lsn'?: (number | string | Long);
  /**
   * Phase catchup: the copy is consistent once its durable LSN reaches this LSN.
   */
  'consistent_lsn'?: (number | string | Long);
}

/**
 * A copy's persisted resync marker, as reported by Handshake.
 */
export interface ResyncStatus__Output {
  /**
   * True while a resync is pending on the copy (until its catch-up reached consistent_lsn).
   */
  'pending': (boolean);
  /**
   * "transfer" (blocks are being replaced: the copy is inconsistent, nothing may be shipped to it)
   * or "catchup" (committed at base_lsn: shipped records are appended, reads wait for
   * consistent_lsn); empty when not pending.
   */
  'phase': (string);
  /**
   * The fork point the pending resync started from.
   */
  'fork_lsn': (string);
  /**
   * Phase catchup: the LSN the copy's log was committed at (its head was set to it).
   */
  'base_lsn': (string);
  /**
   * Phase catchup: the copy is consistent once its durable LSN reaches this LSN.
   */
  'consistent_lsn': (string);
}
