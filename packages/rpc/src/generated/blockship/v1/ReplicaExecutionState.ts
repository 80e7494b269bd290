// Original file: proto/blockship/v1/control.proto

import type { SenderState as _blockship_v1_SenderState, SenderState__Output as _blockship_v1_SenderState__Output } from '../../blockship/v1/SenderState';
import type { SessionKind as _blockship_v1_SessionKind, SessionKind__Output as _blockship_v1_SessionKind__Output } from '../../blockship/v1/SessionKind';
import type { SessionPhase as _blockship_v1_SessionPhase, SessionPhase__Output as _blockship_v1_SessionPhase__Output } from '../../blockship/v1/SessionPhase';
import type { ResyncProgress as _blockship_v1_ResyncProgress, ResyncProgress__Output as _blockship_v1_ResyncProgress__Output } from '../../blockship/v1/ResyncProgress';
import type { Long } from '@grpc/proto-loader';

/**
 * The execution state of one replica, derived from the engine's sender/session snapshot.
 */
export interface ReplicaExecutionState {
  /**
   * `<volume_id>/<server_id>`.
   */
  'replica_id'?: (string);
  /**
   * Sender state.
   */
  'sender_state'?: (_blockship_v1_SenderState);
  /**
   * Id of the current session, 0 = none.
   */
  'session_id'?: (number | string | Long);
  /**
   * Kind of the current session.
   */
  'session_kind'?: (_blockship_v1_SessionKind);
  /**
   * Phase of the current session.
   */
  'session_phase'?: (_blockship_v1_SessionPhase);
  /**
   * First LSN the session replays (the replica's durable LSN + 1 at handshake).
   */
  'start_lsn'?: (number | string | Long);
  /**
   * LSN the session must reach.
   */
  'target_lsn'?: (number | string | Long);
  /**
   * Target frozen at the start of the transfer phase, 0 until frozen.
   */
  'frozen_target_lsn'?: (number | string | Long);
  /**
   * Highest LSN the replica has reached in this session.
   */
  'recovered_to'?: (number | string | Long);
  /**
   * True while the session is active (not completed or invalidated).
   */
  'session_active'?: (boolean);
  /**
   * True when the replica may receive live-tail entries: the live gate's answer, the one the
   * primary's shipper gets. False while the session is active, and for a replica the shipper lost
   * until a catch-up session planned its gap (session_active may then be false).
   */
  'live_eligible'?: (boolean);
  /**
   * Empty when live_eligible. Otherwise the gate's reason: `active_<kind>_session phase=<p>
   * start=<s> target=<t> recovered=<r>` (during a catch-up this host executes followed by
   * `; catchup_window up to lsn <n>`: entries up to n are shipped, later ones wait), or
   * `awaiting_catchup_session: <replica_id> was disconnected; ...` for a lost replica, or the
   * data plane's verdict for a replica it condemned, e.g. `needs_rebuild: divergent_history at
   * LSN <n> (...)`, `needs_rebuild: wal_recycled ...` (only a rebuild session brings it back).
   * A resync session's reason is `active_resync_session phase=<transfer|catchup> pass=<k>
   * blocks_left=<n> fork=<f> start=<s> target=<t>` (start and target are `-` until committed).
   */
  'reason'?: (string);
  /**
   * Present only for a resync session (session_kind SESSION_KIND_RESYNC): its progress.
   */
  'resync'?: (_blockship_v1_ResyncProgress | null);
}

/**
 * The execution state of one replica, derived from the engine's sender/session snapshot.
 */
export interface ReplicaExecutionState__Output {
  /**
   * `<volume_id>/<server_id>`.
   */
  'replica_id': (string);
  /**
   * Sender state.
   */
  'sender_state': (_blockship_v1_SenderState__Output);
  /**
   * Id of the current session, 0 = none.
   */
  'session_id': (string);
  /**
   * Kind of the current session.
   */
  'session_kind': (_blockship_v1_SessionKind__Output);
  /**
   * Phase of the current session.
   */
  'session_phase': (_blockship_v1_SessionPhase__Output);
  /**
   * First LSN the session replays (the replica's durable LSN + 1 at handshake).
   */
  'start_lsn': (string);
  /**
   * LSN the session must reach.
   */
  'target_lsn': (string);
  /**
   * Target frozen at the start of the transfer phase, 0 until frozen.
   */
  'frozen_target_lsn': (string);
  /**
   * Highest LSN the replica has reached in this session.
   */
  'recovered_to': (string);
  /**
   * True while the session is active (not completed or invalidated).
   */
  'session_active': (boolean);
  /**
   * True when the replica may receive live-tail entries: the live gate's answer, the one the
   * primary's shipper gets. False while the session is active, and for a replica the shipper lost
   * until a catch-up session planned its gap (session_active may then be false).
   */
  'live_eligible': (boolean);
  /**
   * Empty when live_eligible. Otherwise the gate's reason: `active_<kind>_session phase=<p>
   * start=<s> target=<t> recovered=<r>` (during a catch-up this host executes followed by
   * `; catchup_window up to lsn <n>`: entries up to n are shipped, later ones wait), or
   * `awaiting_catchup_session: <replica_id> was disconnected; ...` for a lost replica, or the
   * data plane's verdict for a replica it condemned, e.g. `needs_rebuild: divergent_history at
   * LSN <n> (...)`, `needs_rebuild: wal_recycled ...` (only a rebuild session brings it back).
   * A resync session's reason is `active_resync_session phase=<transfer|catchup> pass=<k>
   * blocks_left=<n> fork=<f> start=<s> target=<t>` (start and target are `-` until committed).
   */
  'reason': (string);
  /**
   * Present only for a resync session (session_kind SESSION_KIND_RESYNC): its progress.
   */
  'resync': (_blockship_v1_ResyncProgress__Output | null);
}
