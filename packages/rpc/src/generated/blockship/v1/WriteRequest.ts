// Original file: proto/blockship/v1/volume.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Write whole blocks.
 */
export interface WriteRequest {
  /**
   * The volume. Required.
   */
  'volume_id'?: (string);
  /**
   * First block to write (block index, not bytes).
   */
  'lba'?: (number | string | Long);
  /**
   * The data: 1 or more whole blocks (a multiple of the block size), at most 8 MiB.
   */
  'data'?: (Buffer | Uint8Array | string);
  /**
   * When non-zero, the write fails with epoch_stale unless the volume is at exactly this epoch.
   */
  'expected_epoch'?: (number | string | Long);
}

/**
 * Write whole blocks.
 */
export interface WriteRequest__Output {
  /**
   * The volume. Required.
   */
  'volume_id': (string);
  /**
   * First block to write (block index, not bytes).
   */
  'lba': (string);
  /**
   * The data: 1 or more whole blocks (a multiple of the block size), at most 8 MiB.
   */
  'data': (Buffer);
  /**
   * When non-zero, the write fails with epoch_stale unless the volume is at exactly this epoch.
   */
  'expected_epoch': (string);
}
