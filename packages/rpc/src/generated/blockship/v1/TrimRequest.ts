// Original file: proto/blockship/v1/volume.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Discard whole blocks.
 */
export interface TrimRequest {
  /**
   * The volume. Required.
   */
  'volume_id'?: (string);
  /**
   * First block to trim.
   */
  'lba'?: (number | string | Long);
  /**
   * Bytes to trim: a multiple of the block size, >= 1 block.
   */
  'length_bytes'?: (number | string | Long);
  /**
   * When non-zero, the trim fails with epoch_stale unless the volume is at exactly this epoch.
   */
  'expected_epoch'?: (number | string | Long);
}

/**
 * Discard whole blocks.
 */
export interface TrimRequest__Output {
  /**
   * The volume. Required.
   */
  'volume_id': (string);
  /**
   * First block to trim.
   */
  'lba': (string);
  /**
   * Bytes to trim: a multiple of the block size, >= 1 block.
   */
  'length_bytes': (string);
  /**
   * When non-zero, the trim fails with epoch_stale unless the volume is at exactly this epoch.
   */
  'expected_epoch': (string);
}
