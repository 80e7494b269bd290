// Original file: proto/blockship/v1/replication.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Start (or resume) a resync.
 */
export interface ResyncBegin {
  /**
   * The fork point: the highest LSN at which both copies hold the same record (0 = the empty
   * history). The replica checkpoints its WAL, persists its RESYNC marker and reports the blocks it
   * changed after this LSN. A resumed session sends the same fork_lsn again.
   */
  'fork_lsn'?: (number | string | Long);
}

/**
 * Start (or resume) a resync.
 */
export interface ResyncBegin__Output {
  /**
   * The fork point: the highest LSN at which both copies hold the same record (0 = the empty
   * history). The replica checkpoints its WAL, persists its RESYNC marker and reports the blocks it
   * changed after this LSN. A resumed session sends the same fork_lsn again.
   */
  'fork_lsn': (string);
}
