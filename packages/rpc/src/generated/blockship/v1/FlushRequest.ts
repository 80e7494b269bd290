// Original file: proto/blockship/v1/volume.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Flush acknowledged writes.
 */
export interface FlushRequest {
  /**
   * The volume. Required.
   */
  'volume_id'?: (string);
  /**
   * When non-zero, the flush fails with epoch_stale unless the volume is at exactly this epoch.
   */
  'expected_epoch'?: (number | string | Long);
}

/**
 * Flush acknowledged writes.
 */
export interface FlushRequest__Output {
  /**
   * The volume. Required.
   */
  'volume_id': (string);
  /**
   * When non-zero, the flush fails with epoch_stale unless the volume is at exactly this epoch.
   */
  'expected_epoch': (string);
}
