// Original file: proto/blockship/v1/control.proto

import type { Role as _blockship_v1_Role, Role__Output as _blockship_v1_Role__Output } from '../../blockship/v1/Role';
import type { ReplicaTarget as _blockship_v1_ReplicaTarget, ReplicaTarget__Output as _blockship_v1_ReplicaTarget__Output } from '../../blockship/v1/ReplicaTarget';
import type { DurabilityMode as _blockship_v1_DurabilityMode, DurabilityMode__Output as _blockship_v1_DurabilityMode__Output } from '../../blockship/v1/DurabilityMode';
import type { RecoveryKind as _blockship_v1_RecoveryKind, RecoveryKind__Output as _blockship_v1_RecoveryKind__Output } from '../../blockship/v1/RecoveryKind';
import type { Long } from '@grpc/proto-loader';

/**
 * One assignment from the master for one volume on this agent.
 */
export interface Assignment {
  /**
   * The volume the assignment is for. Required.
   */
  'volume_id'?: (string);
  /**
   * The epoch to adopt, 1 to 9007199254740991 (2^53-1; larger values fail with invalid_argument). Lower than the volume's persisted epoch → epoch_regression.
   */
  'epoch'?: (number | string | Long);
  /**
   * The role to take.
   */
  'role'?: (_blockship_v1_Role);
  /**
   * Length of the primary's write lease in milliseconds, counted from when the call arrived at
   * the agent (see "Leases and deadlines"). Required for ROLE_PRIMARY: 1..600000; ignored for other roles.
   */
  'lease_ttl_ms'?: (number);
  /**
   * ROLE_PRIMARY: the full replica set (0..8 entries, distinct server_ids). An empty list
   * means "no replicas": every shipper stops. Ignored for other roles.
   */
  'replicas'?: (_blockship_v1_ReplicaTarget)[];
  /**
   * The durability mode; DURABILITY_MODE_UNSPECIFIED keeps the volume's persisted mode.
   * DURABILITY_MODE_SYNC_QUORUM needs at least 2 replicas.
   */
  'durability_mode'?: (_blockship_v1_DurabilityMode);
  /**
   * The recovery session to attach (see RecoveryKind; UNSPECIFIED = the role's default). Recovery
   * is automatic, so each role takes only what it does: ROLE_PRIMARY CATCHUP (each listed replica
   * that lags), ROLE_REBUILDING REBUILD, the other roles NONE; anything else is invalid_argument.
   */
  'recovery_target'?: (_blockship_v1_RecoveryKind);
  /**
   * ROLE_REPLICA / ROLE_REBUILDING: server_id of the assigned primary. The copy accepts WAL
   * shipments only from this primary at this epoch (others get unauthenticated_peer). Required
   * for those roles.
   */
  'primary_server_id'?: (string);
  /**
   * ROLE_REBUILDING: gRPC address `host:port` of the primary's Rebuild service. Required for
   * ROLE_REBUILDING, ignored otherwise.
   */
  'primary_address'?: (string);
  /**
   * ROLE_REBUILDING: transfer rate limit of the rebuild in bytes per second, 0 = the agent's
   * --rebuild-rate-limit (whose default is unlimited). The primary may apply a lower limit of its
   * own. Ignored for other roles.
   */
  'rebuild_rate_limit_bytes_per_second'?: (number | string | Long);
}

/**
 * One assignment from the master for one volume on this agent.
 */
export interface Assignment__Output {
  /**
   * The volume the assignment is for. Required.
   */
  'volume_id': (string);
  /**
   * The epoch to adopt, 1 to 9007199254740991 (2^53-1; larger values fail with invalid_argument). Lower than the volume's persisted epoch → epoch_regression.
   */
  'epoch': (string);
  /**
   * The role to take.
   */
  'role': (_blockship_v1_Role__Output);
  /**
   * Length of the primary's write lease in milliseconds, counted from when the call arrived at
   * the agent (see "Leases and deadlines"). Required for ROLE_PRIMARY: 1..600000; ignored for other roles.
   */
  'lease_ttl_ms': (number);
  /**
   * ROLE_PRIMARY: the full replica set (0..8 entries, distinct server_ids). An empty list
   * means "no replicas": every shipper stops. Ignored for other roles.
   */
  'replicas': (_blockship_v1_ReplicaTarget__Output)[];
  /**
   * The durability mode; DURABILITY_MODE_UNSPECIFIED keeps the volume's persisted mode.
   * DURABILITY_MODE_SYNC_QUORUM needs at least 2 replicas.
   */
  'durability_mode': (_blockship_v1_DurabilityMode__Output);
  /**
   * The recovery session to attach (see RecoveryKind; UNSPECIFIED = the role's default). Recovery
   * is automatic, so each role takes only what it does: ROLE_PRIMARY CATCHUP (each listed replica
   * that lags), ROLE_REBUILDING REBUILD, the other roles NONE; anything else is invalid_argument.
   */
  'recovery_target': (_blockship_v1_RecoveryKind__Output);
  /**
   * ROLE_REPLICA / ROLE_REBUILDING: server_id of the assigned primary. The copy accepts WAL
   * shipments only from this primary at this epoch (others get unauthenticated_peer). Required
   * for those roles.
   */
  'primary_server_id': (string);
  /**
   * ROLE_REBUILDING: gRPC address `host:port` of the primary's Rebuild service. Required for
   * ROLE_REBUILDING, ignored otherwise.
   */
  'primary_address': (string);
  /**
   * ROLE_REBUILDING: transfer rate limit of the rebuild in bytes per second, 0 = the agent's
   * --rebuild-rate-limit (whose default is unlimited). The primary may apply a lower limit of its
   * own. Ignored for other roles.
   */
  'rebuild_rate_limit_bytes_per_second': (string);
}
