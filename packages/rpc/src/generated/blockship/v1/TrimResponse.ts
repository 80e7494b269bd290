// Original file: proto/blockship/v1/volume.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The acknowledged trim.
 */
export interface TrimResponse {
  /**
   * The LSN assigned to the trim.
   */
  'lsn'?: (number | string | Long);
}

/**
 * The acknowledged trim.
 */
export interface TrimResponse__Output {
  /**
   * The LSN assigned to the trim.
   */
  'lsn': (string);
}
