// Original file: proto/blockship/v1/common.proto

/**
 * How a Flush is acknowledged. Persisted per volume at allocation.
 */
export const DurabilityMode = {
  /**
   * Not set. In AllocateVolume this is rejected (invalid_argument); in an Assignment it
   * means "keep the volume's persisted mode".
   */
  DURABILITY_MODE_UNSPECIFIED: 'DURABILITY_MODE_UNSPECIFIED',
  /**
   * Flush waits for the primary's local fsync only.
   */
  DURABILITY_MODE_BEST_EFFORT: 'DURABILITY_MODE_BEST_EFFORT',
  /**
   * Flush waits for the local fsync and a durability barrier from every replica; fails
   * with durability_barrier_failed instead of downgrading.
   */
  DURABILITY_MODE_SYNC_ALL: 'DURABILITY_MODE_SYNC_ALL',
  /**
   * Flush waits for a majority of copies (primary included); needs >= 3 copies.
   * Fails with durability_quorum_lost when a majority cannot confirm.
   */
  DURABILITY_MODE_SYNC_QUORUM: 'DURABILITY_MODE_SYNC_QUORUM',
} as const;

/**
 * How a Flush is acknowledged. Persisted per volume at allocation.
 */
export type DurabilityMode =
  /**
   * Not set. In AllocateVolume this is rejected (invalid_argument); in an Assignment it
   * means "keep the volume's persisted mode".
   */
  | 'DURABILITY_MODE_UNSPECIFIED'
  | 0
  /**
   * Flush waits for the primary's local fsync only.
   */
  | 'DURABILITY_MODE_BEST_EFFORT'
  | 1
  /**
   * Flush waits for the local fsync and a durability barrier from every replica; fails
   * with durability_barrier_failed instead of downgrading.
   */
  | 'DURABILITY_MODE_SYNC_ALL'
  | 2
  /**
   * Flush waits for a majority of copies (primary included); needs >= 3 copies.
   * Fails with durability_quorum_lost when a majority cannot confirm.
   */
  | 'DURABILITY_MODE_SYNC_QUORUM'
  | 3

/**
 * How a Flush is acknowledged. Persisted per volume at allocation.
 */
export type DurabilityMode__Output = typeof DurabilityMode[keyof typeof DurabilityMode]
