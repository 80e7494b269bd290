// Original file: proto/blockship/v1/common.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A batch of WAL records in their on-disk encoding, as shipped between copies.
 */
export interface WalBatch {
  /**
   * LSN of the first record in `records`, >= 1.
   */
  'first_lsn'?: (number | string | Long);
  /**
   * LSN of the last record in `records`; last_lsn >= first_lsn and the LSNs are contiguous.
   */
  'last_lsn'?: (number | string | Long);
  /**
   * Number of records in `records`; equals last_lsn - first_lsn + 1.
   */
  'record_count'?: (number);
  /**
   * The records exactly as stored in the primary's WAL (headers and CRCs included),
   * concatenated in LSN order. The receiver verifies every CRC and appends the same bytes.
   * Typically a few hundred KiB; at most 16 MiB per message.
   */
  'records'?: (Buffer | Uint8Array | string);
}

/**
 * A batch of WAL records in their on-disk encoding, as shipped between copies.
 */
export interface WalBatch__Output {
  /**
   * LSN of the first record in `records`, >= 1.
   */
  'first_lsn': (string);
  /**
   * LSN of the last record in `records`; last_lsn >= first_lsn and the LSNs are contiguous.
   */
  'last_lsn': (string);
  /**
   * Number of records in `records`; equals last_lsn - first_lsn + 1.
   */
  'record_count': (number);
  /**
   * The records exactly as stored in the primary's WAL (headers and CRCs included),
   * concatenated in LSN order. The receiver verifies every CRC and appends the same bytes.
   * Typically a few hundred KiB; at most 16 MiB per message.
   */
  'records': (Buffer);
}
