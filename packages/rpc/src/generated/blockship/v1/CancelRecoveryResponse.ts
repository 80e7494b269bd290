// Original file: proto/blockship/v1/control.proto

import type { ReplicaExecutionState as _blockship_v1_ReplicaExecutionState, ReplicaExecutionState__Output as _blockship_v1_ReplicaExecutionState__Output } from '../../blockship/v1/ReplicaExecutionState';

/**
 * The outcome of CancelRecovery.
 */
export interface CancelRecoveryResponse {
  /**
   * True when an active session was cancelled.
   */
  'cancelled'?: (boolean);
  /**
   * The replica's execution state after the cancellation.
   */
  'state'?: (_blockship_v1_ReplicaExecutionState | null);
}

/**
 * The outcome of CancelRecovery.
 */
export interface CancelRecoveryResponse__Output {
  /**
   * True when an active session was cancelled.
   */
  'cancelled': (boolean);
  /**
   * The replica's execution state after the cancellation.
   */
  'state': (_blockship_v1_ReplicaExecutionState__Output | null);
}
