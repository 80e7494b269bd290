// Original file: proto/blockship/v1/common.proto

/**
 * The phase of an engine recovery session.
 */
export const SessionPhase = {
  /**
   * No session.
   */
  SESSION_PHASE_NONE: 'SESSION_PHASE_NONE',
  /**
   * Attached, not started.
   */
  SESSION_PHASE_INIT: 'SESSION_PHASE_INIT',
  /**
   * Dialling the peer.
   */
  SESSION_PHASE_CONNECTING: 'SESSION_PHASE_CONNECTING',
  /**
   * Exchanging epoch/LSN facts (Replication.Handshake).
   */
  SESSION_PHASE_HANDSHAKE: 'SESSION_PHASE_HANDSHAKE',
  /**
   * Transferring entries (or base image) up to the target LSN.
   */
  SESSION_PHASE_CATCHUP: 'SESSION_PHASE_CATCHUP',
  /**
   * Finished; the replica reached the target.
   */
  SESSION_PHASE_COMPLETED: 'SESSION_PHASE_COMPLETED',
  /**
   * Abandoned (superseded, cancelled, epoch change, failure).
   */
  SESSION_PHASE_INVALIDATED: 'SESSION_PHASE_INVALIDATED',
  /**
   * Resync only: the changed blocks are being sent in passes (no WAL range yet).
   */
  SESSION_PHASE_TRANSFER: 'SESSION_PHASE_TRANSFER',
} as const;

/**
 * The phase of an engine recovery session.
 */
export type SessionPhase =
  /**
   * No session.
   */
  | 'SESSION_PHASE_NONE'
  | 0
  /**
   * Attached, not started.
   */
  | 'SESSION_PHASE_INIT'
  | 1
  /**
   * Dialling the peer.
   */
  | 'SESSION_PHASE_CONNECTING'
  | 2
  /**
   * Exchanging epoch/LSN facts (Replication.Handshake).
   */
  | 'SESSION_PHASE_HANDSHAKE'
  | 3
  /**
   * Transferring entries (or base image) up to the target LSN.
   */
  | 'SESSION_PHASE_CATCHUP'
  | 4
  /**
   * Finished; the replica reached the target.
   */
  | 'SESSION_PHASE_COMPLETED'
  | 5
  /**
   * Abandoned (superseded, cancelled, epoch change, failure).
   */
  | 'SESSION_PHASE_INVALIDATED'
  | 6
  /**
   * Resync only: the changed blocks are being sent in passes (no WAL range yet).
   */
  | 'SESSION_PHASE_TRANSFER'
  | 7

/**
 * The phase of an engine recovery session.
 */
export type SessionPhase__Output = typeof SessionPhase[keyof typeof SessionPhase]
