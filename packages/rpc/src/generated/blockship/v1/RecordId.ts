// Original file: proto/blockship/v1/replication.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One WAL record named by LSN, epoch and CRC. The CRC is the record's own (the value the next
 * record's prev_crc chains to), so equal CRCs at one LSN mean equal histories up to that LSN.
 */
export interface RecordId {
  /**
   * The record's LSN (0 = the empty history: epoch 0, crc 0).
   */
  'lsn'?: (number | string | Long);
  /**
   * The epoch the record was written in; 0 when this copy does not know it (the CRC covers it).
   */
  'epoch'?: (number | string | Long);
  /**
   * The record's CRC-32.
   */
  'crc'?: (number);
}

/**
 * One WAL record named by LSN, epoch and CRC. The CRC is the record's own (the value the next
 * record's prev_crc chains to), so equal CRCs at one LSN mean equal histories up to that LSN.
 */
export interface RecordId__Output {
  /**
   * The record's LSN (0 = the empty history: epoch 0, crc 0).
   */
  'lsn': (string);
  /**
   * The epoch the record was written in; 0 when this copy does not know it (the CRC covers it).
   */
  'epoch': (string);
  /**
   * The record's CRC-32.
   */
  'crc': (number);
}
