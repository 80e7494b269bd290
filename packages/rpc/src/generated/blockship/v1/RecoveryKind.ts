// Original file: proto/blockship/v1/common.proto

/**
 * The kind of recovery session for one replica.
 */
export const RecoveryKind = {
  /**
   * Not set: in an Assignment, use the role's default (PRIMARY: catch-up for each listed
   * replica; REBUILDING: rebuild of this copy; other roles: none). Invalid in StartRecovery.
   */
  RECOVERY_KIND_UNSPECIFIED: 'RECOVERY_KIND_UNSPECIFIED',
  /**
   * Explicitly no recovery session.
   */
  RECOVERY_KIND_NONE: 'RECOVERY_KIND_NONE',
  /**
   * Replay the replica's missing WAL range from the primary's retained WAL.
   */
  RECOVERY_KIND_CATCHUP: 'RECOVERY_KIND_CATCHUP',
  /**
   * Transfer a base image plus WAL tail (Rebuild service), then catch up.
   */
  RECOVERY_KIND_REBUILD: 'RECOVERY_KIND_REBUILD',
} as const;

/**
 * The kind of recovery session for one replica.
 */
export type RecoveryKind =
  /**
   * Not set: in an Assignment, use the role's default (PRIMARY: catch-up for each listed
   * replica; REBUILDING: rebuild of this copy; other roles: none). Invalid in StartRecovery.
   */
  | 'RECOVERY_KIND_UNSPECIFIED'
  | 0
  /**
   * Explicitly no recovery session.
   */
  | 'RECOVERY_KIND_NONE'
  | 1
  /**
   * Replay the replica's missing WAL range from the primary's retained WAL.
   */
  | 'RECOVERY_KIND_CATCHUP'
  | 2
  /**
   * Transfer a base image plus WAL tail (Rebuild service), then catch up.
   */
  | 'RECOVERY_KIND_REBUILD'
  | 3

/**
 * The kind of recovery session for one replica.
 */
export type RecoveryKind__Output = typeof RecoveryKind[keyof typeof RecoveryKind]
