// Original file: proto/blockship/v1/control.proto

import type { SenderState as _blockship_v1_SenderState, SenderState__Output as _blockship_v1_SenderState__Output } from '../../blockship/v1/SenderState';
import type { ResyncProgress as _blockship_v1_ResyncProgress, ResyncProgress__Output as _blockship_v1_ResyncProgress__Output } from '../../blockship/v1/ResyncProgress';
import type { ResyncSummary as _blockship_v1_ResyncSummary, ResyncSummary__Output as _blockship_v1_ResyncSummary__Output } from '../../blockship/v1/ResyncSummary';
import type { Long } from '@grpc/proto-loader';

/**
 * A primary's view of one replica.
 */
export interface ReplicaStatus {
  /**
   * `<volume_id>/<server_id>`.
   */
  'replica_id'?: (string);
  /**
   * The replica's server_id.
   */
  'server_id'?: (string);
  /**
   * The replica's Replication address.
   */
  'address'?: (string);
  /**
   * Sender state.
   */
  'sender_state'?: (_blockship_v1_SenderState);
  /**
   * Highest LSN sent to the replica (not necessarily durable there).
   */
  'shipped_lsn'?: (number | string | Long);
  /**
   * Highest LSN the replica confirmed durable by a barrier.
   */
  'durable_lsn'?: (number | string | Long);
  /**
   * The live gate's answer, the one the shipper gets: false while a recovery session is active or
   * a lost replica awaits its catch-up session; equals GetProtocolState's live_eligible.
   */
  'live_eligible'?: (boolean);
  /**
   * While live_eligible is false: the gate's reason, exactly as GetProtocolState shows it.
   * Otherwise why the sender is not in sync (free text); empty when healthy.
   */
  'reason'?: (string);
  /**
   * The replica's resync session (absent unless one is active): as GetProtocolState shows it.
   */
  'resync'?: (_blockship_v1_ResyncProgress | null);
  /**
   * The last resync of this replica that committed (absent when none did since this agent
   * became its primary).
   */
  'last_resync'?: (_blockship_v1_ResyncSummary | null);
}

/**
 * A primary's view of one replica.
 */
export interface ReplicaStatus__Output {
  /**
   * `<volume_id>/<server_id>`.
   */
  'replica_id': (string);
  /**
   * The replica's server_id.
   */
  'server_id': (string);
  /**
   * The replica's Replication address.
   */
  'address': (string);
  /**
   * Sender state.
   */
  'sender_state': (_blockship_v1_SenderState__Output);
  /**
   * Highest LSN sent to the replica (not necessarily durable there).
   */
  'shipped_lsn': (string);
  /**
   * Highest LSN the replica confirmed durable by a barrier.
   */
  'durable_lsn': (string);
  /**
   * The live gate's answer, the one the shipper gets: false while a recovery session is active or
   * a lost replica awaits its catch-up session; equals GetProtocolState's live_eligible.
   */
  'live_eligible': (boolean);
  /**
   * While live_eligible is false: the gate's reason, exactly as GetProtocolState shows it.
   * Otherwise why the sender is not in sync (free text); empty when healthy.
   */
  'reason': (string);
  /**
   * The replica's resync session (absent unless one is active): as GetProtocolState shows it.
   */
  'resync': (_blockship_v1_ResyncProgress__Output | null);
  /**
   * The last resync of this replica that committed (absent when none did since this agent
   * became its primary).
   */
  'last_resync': (_blockship_v1_ResyncSummary__Output | null);
}
