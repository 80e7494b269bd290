// Original file: proto/blockship/v1/control.proto

import type { Role as _blockship_v1_Role, Role__Output as _blockship_v1_Role__Output } from '../../blockship/v1/Role';
import type { ReplicaExecutionState as _blockship_v1_ReplicaExecutionState, ReplicaExecutionState__Output as _blockship_v1_ReplicaExecutionState__Output } from '../../blockship/v1/ReplicaExecutionState';
import type { Long } from '@grpc/proto-loader';

/**
 * The per-replica execution state of one volume.
 */
export interface GetProtocolStateResponse {
  /**
   * The volume.
   */
  'volume_id'?: (string);
  /**
   * The volume's epoch.
   */
  'epoch'?: (number | string | Long);
  /**
   * The volume's role on this agent.
   */
  'role'?: (_blockship_v1_Role);
  /**
   * One entry per known replica, sorted by replica_id (empty on a non-primary).
   */
  'replicas'?: (_blockship_v1_ReplicaExecutionState)[];
}

/**
 * The per-replica execution state of one volume.
 */
export interface GetProtocolStateResponse__Output {
  /**
   * The volume.
   */
  'volume_id': (string);
  /**
   * The volume's epoch.
   */
  'epoch': (string);
  /**
   * The volume's role on this agent.
   */
  'role': (_blockship_v1_Role__Output);
  /**
   * One entry per known replica, sorted by replica_id (empty on a non-primary).
   */
  'replicas': (_blockship_v1_ReplicaExecutionState__Output)[];
}
