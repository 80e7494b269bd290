// Original file: proto/blockship/v1/common.proto

/**
 * The kind of an engine recovery session.
 */
export const SessionKind = {
  /**
   * No session.
   */
  SESSION_KIND_NONE: 'SESSION_KIND_NONE',
  /**
   * Initial sync of a brand-new replica.
   */
  SESSION_KIND_BOOTSTRAP: 'SESSION_KIND_BOOTSTRAP',
  /**
   * WAL catch-up.
   */
  SESSION_KIND_CATCHUP: 'SESSION_KIND_CATCHUP',
  /**
   * Base image + tail rebuild.
   */
  SESSION_KIND_REBUILD: 'SESSION_KIND_REBUILD',
  /**
   * Session re-attached after a reassignment.
   */
  SESSION_KIND_REASSIGN: 'SESSION_KIND_REASSIGN',
  /**
   * Changed-block resync: the blocks changed since the fork point are sent (phase transfer), then
   * the WAL from the resync's base LSN is replayed (phase catchup).
   */
  SESSION_KIND_RESYNC: 'SESSION_KIND_RESYNC',
} as const;

/**
 * The kind of an engine recovery session.
 */
export type SessionKind =
  /**
   * No session.
   */
  | 'SESSION_KIND_NONE'
  | 0
  /**
   * Initial sync of a brand-new replica.
   */
  | 'SESSION_KIND_BOOTSTRAP'
  | 1
  /**
   * WAL catch-up.
   */
  | 'SESSION_KIND_CATCHUP'
  | 2
  /**
   * Base image + tail rebuild.
   */
  | 'SESSION_KIND_REBUILD'
  | 3
  /**
   * Session re-attached after a reassignment.
   */
  | 'SESSION_KIND_REASSIGN'
  | 4
  /**
   * Changed-block resync: the blocks changed since the fork point are sent (phase transfer), then
   * the WAL from the resync's base LSN is replayed (phase catchup).
   */
  | 'SESSION_KIND_RESYNC'
  | 5

/**
 * The kind of an engine recovery session.
 */
export type SessionKind__Output = typeof SessionKind[keyof typeof SessionKind]
