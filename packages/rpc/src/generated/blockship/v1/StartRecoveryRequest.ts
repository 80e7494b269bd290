// Original file: proto/blockship/v1/control.proto

import type { RecoveryKind as _blockship_v1_RecoveryKind, RecoveryKind__Output as _blockship_v1_RecoveryKind__Output } from '../../blockship/v1/RecoveryKind';
import type { Long } from '@grpc/proto-loader';

/**
 * Start recovery of one replica.
 */
export interface StartRecoveryRequest {
  /**
   * The volume (must be PRIMARY here). Required.
   */
  'volume_id'?: (string);
  /**
   * `<volume_id>/<server_id>` of a member of the replica set. Required.
   */
  'replica_id'?: (string);
  /**
   * Must equal the volume's current epoch (epoch_stale otherwise), >= 1.
   */
  'epoch'?: (number | string | Long);
  /**
   * RECOVERY_KIND_CATCHUP or RECOVERY_KIND_REBUILD. Required.
   */
  'kind'?: (_blockship_v1_RecoveryKind);
  /**
   * Transfer rate limit in bytes per second; 0 = unlimited.
   */
  'rate_limit_bytes_per_second'?: (number | string | Long);
}

/**
 * Start recovery of one replica.
 */
export interface StartRecoveryRequest__Output {
  /**
   * The volume (must be PRIMARY here). Required.
   */
  'volume_id': (string);
  /**
   * `<volume_id>/<server_id>` of a member of the replica set. Required.
   */
  'replica_id': (string);
  /**
   * Must equal the volume's current epoch (epoch_stale otherwise), >= 1.
   */
  'epoch': (string);
  /**
   * RECOVERY_KIND_CATCHUP or RECOVERY_KIND_REBUILD. Required.
   */
  'kind': (_blockship_v1_RecoveryKind__Output);
  /**
   * Transfer rate limit in bytes per second; 0 = unlimited.
   */
  'rate_limit_bytes_per_second': (string);
}
