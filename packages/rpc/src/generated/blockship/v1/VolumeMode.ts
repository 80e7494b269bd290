// Original file: proto/blockship/v1/common.proto

/**
 * The externally visible mode of a volume, derived by the engine.
 */
export const VolumeMode = {
  /**
   * Not known yet.
   */
  VOLUME_MODE_UNSPECIFIED: 'VOLUME_MODE_UNSPECIFIED',
  /**
   * No replication: allocated with no assignment applied, or a primary without replicas (RF=1:
   * it serves I/O, `writable` says so, but an unreplicated volume is never publish_healthy).
   */
  VOLUME_MODE_ALLOCATED_ONLY: 'VOLUME_MODE_ALLOCATED_ONLY',
  /**
   * Assigned; replicas are still being brought up.
   */
  VOLUME_MODE_BOOTSTRAP_PENDING: 'VOLUME_MODE_BOOTSTRAP_PENDING',
  /**
   * Replica copy ready to receive.
   */
  VOLUME_MODE_REPLICA_READY: 'VOLUME_MODE_REPLICA_READY',
  /**
   * Primary with every replica in sync.
   */
  VOLUME_MODE_PUBLISH_HEALTHY: 'VOLUME_MODE_PUBLISH_HEALTHY',
  /**
   * Primary serving with at least one replica not in sync.
   */
  VOLUME_MODE_DEGRADED: 'VOLUME_MODE_DEGRADED',
  /**
   * This copy needs a rebuild.
   */
  VOLUME_MODE_NEEDS_REBUILD: 'VOLUME_MODE_NEEDS_REBUILD',
} as const;

/**
 * The externally visible mode of a volume, derived by the engine.
 */
export type VolumeMode =
  /**
   * Not known yet.
   */
  | 'VOLUME_MODE_UNSPECIFIED'
  | 0
  /**
   * No replication: allocated with no assignment applied, or a primary without replicas (RF=1:
   * it serves I/O, `writable` says so, but an unreplicated volume is never publish_healthy).
   */
  | 'VOLUME_MODE_ALLOCATED_ONLY'
  | 1
  /**
   * Assigned; replicas are still being brought up.
   */
  | 'VOLUME_MODE_BOOTSTRAP_PENDING'
  | 2
  /**
   * Replica copy ready to receive.
   */
  | 'VOLUME_MODE_REPLICA_READY'
  | 3
  /**
   * Primary with every replica in sync.
   */
  | 'VOLUME_MODE_PUBLISH_HEALTHY'
  | 4
  /**
   * Primary serving with at least one replica not in sync.
   */
  | 'VOLUME_MODE_DEGRADED'
  | 5
  /**
   * This copy needs a rebuild.
   */
  | 'VOLUME_MODE_NEEDS_REBUILD'
  | 6

/**
 * The externally visible mode of a volume, derived by the engine.
 */
export type VolumeMode__Output = typeof VolumeMode[keyof typeof VolumeMode]
