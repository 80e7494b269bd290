// Original file: proto/blockship/v1/control.proto

import type { ReplicaExecutionState as _blockship_v1_ReplicaExecutionState, ReplicaExecutionState__Output as _blockship_v1_ReplicaExecutionState__Output } from '../../blockship/v1/ReplicaExecutionState';

/**
 * The started session.
 */
export interface StartRecoveryResponse {
  /**
   * The replica's execution state right after the session was attached.
   */
  'state'?: (_blockship_v1_ReplicaExecutionState | null);
}

/**
 * The started session.
 */
export interface StartRecoveryResponse__Output {
  /**
   * The replica's execution state right after the session was attached.
   */
  'state': (_blockship_v1_ReplicaExecutionState__Output | null);
}
