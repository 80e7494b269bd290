// Original file: proto/blockship/v1/common.proto

/**
 * The role of one volume on one agent. The numeric values are stable.
 */
export const Role = {
  /**
   * No role: the volume is allocated but not assigned. Serves no I/O.
   */
  ROLE_NONE: 'ROLE_NONE',
  /**
   * Owns the WAL, accepts client I/O (with a live lease) and ships to replicas.
   */
  ROLE_PRIMARY: 'ROLE_PRIMARY',
  /**
   * Receives WAL batches from the assigned primary; serves no client writes.
   */
  ROLE_REPLICA: 'ROLE_REPLICA',
  /**
   * A demoted former primary; keeps its data, serves nothing.
   */
  ROLE_STALE: 'ROLE_STALE',
  /**
   * Pulling a base image from the primary (Rebuild service); becomes REPLICA after a committed rebuild.
   */
  ROLE_REBUILDING: 'ROLE_REBUILDING',
  /**
   * Transitional: a primary finishing in-flight I/O before it becomes STALE.
   */
  ROLE_DRAINING: 'ROLE_DRAINING',
} as const;

/**
 * The role of one volume on one agent. The numeric values are stable.
 */
export type Role =
  /**
   * No role: the volume is allocated but not assigned. Serves no I/O.
   */
  | 'ROLE_NONE'
  | 0
  /**
   * Owns the WAL, accepts client I/O (with a live lease) and ships to replicas.
   */
  | 'ROLE_PRIMARY'
  | 1
  /**
   * Receives WAL batches from the assigned primary; serves no client writes.
   */
  | 'ROLE_REPLICA'
  | 2
  /**
   * A demoted former primary; keeps its data, serves nothing.
   */
  | 'ROLE_STALE'
  | 3
  /**
   * Pulling a base image from the primary (Rebuild service); becomes REPLICA after a committed rebuild.
   */
  | 'ROLE_REBUILDING'
  | 4
  /**
   * Transitional: a primary finishing in-flight I/O before it becomes STALE.
   */
  | 'ROLE_DRAINING'
  | 5

/**
 * The role of one volume on one agent. The numeric values are stable.
 */
export type Role__Output = typeof Role[keyof typeof Role]
