// Original file: proto/blockship/v1/rebuild.proto

import type { RecordId as _blockship_v1_RecordId, RecordId__Output as _blockship_v1_RecordId__Output } from '../../blockship/v1/RecordId';
import type { Long } from '@grpc/proto-loader';

/**
 * The end of a successful transfer.
 */
export interface RebuildDone {
  /**
   * The base LSN of the transfer.
   */
  'base_lsn'?: (number | string | Long);
  /**
   * After the image and tail are applied, the replica holds every entry <= last_lsn.
   */
  'last_lsn'?: (number | string | Long);
  /**
   * Total size of the image in bytes.
   */
  'total_size_bytes'?: (number | string | Long);
  /**
   * The primary's record at base_lsn (LSN, epoch, CRC): the replica persists it as the anchor of
   * its installed log, so the CRC chain is checked even when the tail is empty (the first record
   * shipped after the rebuild must continue it) and a later handshake can compare its head.
   * Absent only when the primary cannot name it.
   */
  'base_record'?: (_blockship_v1_RecordId | null);
}

/**
 * The end of a successful transfer.
 */
export interface RebuildDone__Output {
  /**
   * The base LSN of the transfer.
   */
  'base_lsn': (string);
  /**
   * After the image and tail are applied, the replica holds every entry <= last_lsn.
   */
  'last_lsn': (string);
  /**
   * Total size of the image in bytes.
   */
  'total_size_bytes': (string);
  /**
   * The primary's record at base_lsn (LSN, epoch, CRC): the replica persists it as the anchor of
   * its installed log, so the CRC chain is checked even when the tail is empty (the first record
   * shipped after the rebuild must continue it) and a later handshake can compare its head.
   * Absent only when the primary cannot name it.
   */
  'base_record': (_blockship_v1_RecordId__Output | null);
}
