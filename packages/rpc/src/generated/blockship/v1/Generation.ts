// Original file: proto/blockship/v1/replication.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One generation of a copy's history: the records from first_lsn on were written in epoch (until
 * the next generation's first_lsn). One primary per epoch writes the records of a generation, so
 * two copies that hold the same generation hold the same records through the shorter copy's end of
 * it.
 */
export interface Generation {
  /**
   * The epoch the generation's records were written in, >= 1.
   */
  'epoch'?: (number | string | Long);
  /**
   * The LSN of the generation's first record, >= 1.
   */
  'first_lsn'?: (number | string | Long);
  /**
   * The CRC-32 of record first_lsn - 1 (the previous generation's last record; 0 when first_lsn = 1).
   */
  'prev_crc'?: (number);
}

/**
 * One generation of a copy's history: the records from first_lsn on were written in epoch (until
 * the next generation's first_lsn). One primary per epoch writes the records of a generation, so
 * two copies that hold the same generation hold the same records through the shorter copy's end of
 * it.
 */
export interface Generation__Output {
  /**
   * The epoch the generation's records were written in, >= 1.
   */
  'epoch': (string);
  /**
   * The LSN of the generation's first record, >= 1.
   */
  'first_lsn': (string);
  /**
   * The CRC-32 of record first_lsn - 1 (the previous generation's last record; 0 when first_lsn = 1).
   */
  'prev_crc': (number);
}
