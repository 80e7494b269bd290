// Original file: proto/blockship/v1/common.proto

/**
 * The primary-side state of the sender for one replica.
 */
export const SenderState = {
  /**
   * Unknown (no sender for this replica).
   */
  SENDER_STATE_UNSPECIFIED: 'SENDER_STATE_UNSPECIFIED',
  /**
   * Not connected; the next shipment or barrier dials.
   */
  SENDER_STATE_DISCONNECTED: 'SENDER_STATE_DISCONNECTED',
  /**
   * Dialling or handshaking.
   */
  SENDER_STATE_CONNECTING: 'SENDER_STATE_CONNECTING',
  /**
   * Replaying missing WAL entries (catch-up session).
   */
  SENDER_STATE_CATCHING_UP: 'SENDER_STATE_CATCHING_UP',
  /**
   * Receiving the live tail; barriers confirm durability.
   */
  SENDER_STATE_IN_SYNC: 'SENDER_STATE_IN_SYNC',
  /**
   * A shipment or barrier failed; recovery runs on the next attempt.
   */
  SENDER_STATE_DEGRADED: 'SENDER_STATE_DEGRADED',
  /**
   * Too far behind for catch-up; leaves this state only through a rebuild.
   */
  SENDER_STATE_NEEDS_REBUILD: 'SENDER_STATE_NEEDS_REBUILD',
} as const;

/**
 * The primary-side state of the sender for one replica.
 */
export type SenderState =
  /**
   * Unknown (no sender for this replica).
   */
  | 'SENDER_STATE_UNSPECIFIED'
  | 0
  /**
   * Not connected; the next shipment or barrier dials.
   */
  | 'SENDER_STATE_DISCONNECTED'
  | 1
  /**
   * Dialling or handshaking.
   */
  | 'SENDER_STATE_CONNECTING'
  | 2
  /**
   * Replaying missing WAL entries (catch-up session).
   */
  | 'SENDER_STATE_CATCHING_UP'
  | 3
  /**
   * Receiving the live tail; barriers confirm durability.
   */
  | 'SENDER_STATE_IN_SYNC'
  | 4
  /**
   * A shipment or barrier failed; recovery runs on the next attempt.
   */
  | 'SENDER_STATE_DEGRADED'
  | 5
  /**
   * Too far behind for catch-up; leaves this state only through a rebuild.
   */
  | 'SENDER_STATE_NEEDS_REBUILD'
  | 6

/**
 * The primary-side state of the sender for one replica.
 */
export type SenderState__Output = typeof SenderState[keyof typeof SenderState]
