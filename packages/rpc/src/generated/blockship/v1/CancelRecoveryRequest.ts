// Original file: proto/blockship/v1/control.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Cancel recovery of one replica.
 */
export interface CancelRecoveryRequest {
  /**
   * The volume. Required.
   */
  'volume_id'?: (string);
  /**
   * `<volume_id>/<server_id>`. Required.
   */
  'replica_id'?: (string);
  /**
   * Must equal the volume's current epoch (epoch_stale otherwise), >= 1.
   */
  'epoch'?: (number | string | Long);
}

/**
 * Cancel recovery of one replica.
 */
export interface CancelRecoveryRequest__Output {
  /**
   * The volume. Required.
   */
  'volume_id': (string);
  /**
   * `<volume_id>/<server_id>`. Required.
   */
  'replica_id': (string);
  /**
   * Must equal the volume's current epoch (epoch_stale otherwise), >= 1.
   */
  'epoch': (string);
}
