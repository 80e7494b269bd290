// Original file: proto/blockship/v1/volume.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The acknowledged write.
 */
export interface WriteResponse {
  /**
   * The LSN assigned to the write (acknowledged, durable only after a Flush covering it).
   */
  'lsn'?: (number | string | Long);
}

/**
 * The acknowledged write.
 */
export interface WriteResponse__Output {
  /**
   * The LSN assigned to the write (acknowledged, durable only after a Flush covering it).
   */
  'lsn': (string);
}
