// Original file: proto/blockship/v1/volume.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One write inside a WriteStream request.
 */
export interface WriteOp {
  /**
   * First block to write.
   */
  'lba'?: (number | string | Long);
  /**
   * 1 or more whole blocks.
   */
  'data'?: (Buffer | Uint8Array | string);
}

/**
 * One write inside a WriteStream request.
 */
export interface WriteOp__Output {
  /**
   * First block to write.
   */
  'lba': (string);
  /**
   * 1 or more whole blocks.
   */
  'data': (Buffer);
}
