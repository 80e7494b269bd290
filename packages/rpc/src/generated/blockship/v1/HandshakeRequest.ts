// Original file: proto/blockship/v1/replication.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The primary's handshake.
 */
export interface HandshakeRequest {
  /**
   * The volume. Required.
   */
  'volume_id'?: (string);
  /**
   * The primary's epoch, >= 1.
   */
  'epoch'?: (number | string | Long);
  /**
   * The calling primary's server_id. Required.
   */
  'primary_server_id'?: (string);
  /**
   * The server_id the primary believes it is talking to (fails with unauthenticated_peer when it
   * is not this agent). Required.
   */
  'replica_server_id'?: (string);
  /**
   * The primary's head LSN (informational).
   */
  'primary_head_lsn'?: (number | string | Long);
  /**
   * Oldest LSN still retained in the primary's WAL (informational).
   */
  'primary_retained_start_lsn'?: (number | string | Long);
}

/**
 * The primary's handshake.
 */
export interface HandshakeRequest__Output {
  /**
   * The volume. Required.
   */
  'volume_id': (string);
  /**
   * The primary's epoch, >= 1.
   */
  'epoch': (string);
  /**
   * The calling primary's server_id. Required.
   */
  'primary_server_id': (string);
  /**
   * The server_id the primary believes it is talking to (fails with unauthenticated_peer when it
   * is not this agent). Required.
   */
  'replica_server_id': (string);
  /**
   * The primary's head LSN (informational).
   */
  'primary_head_lsn': (string);
  /**
   * Oldest LSN still retained in the primary's WAL (informational).
   */
  'primary_retained_start_lsn': (string);
}
