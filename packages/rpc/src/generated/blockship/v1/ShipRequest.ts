// Original file: proto/blockship/v1/replication.proto

import type { WalBatch as _blockship_v1_WalBatch, WalBatch__Output as _blockship_v1_WalBatch__Output } from '../../blockship/v1/WalBatch';
import type { Barrier as _blockship_v1_Barrier, Barrier__Output as _blockship_v1_Barrier__Output } from '../../blockship/v1/Barrier';
import type { Long } from '@grpc/proto-loader';

/**
 * One message from the primary on the ship stream.
 */
export interface ShipRequest {
  /**
   * The volume. Required on the first message; later messages leave it empty or repeat it.
   */
  'volume_id'?: (string);
  /**
   * The primary's epoch. Required (>= 1) on the first message; later messages send 0 or repeat it.
   */
  'epoch'?: (number | string | Long);
  /**
   * The sending primary's server_id. Required on the first message; later messages leave it empty or repeat it.
   */
  'primary_server_id'?: (string);
  /**
   * WAL records to append.
   */
  'batch'?: (_blockship_v1_WalBatch | null);
  /**
   * A durability barrier covering every batch sent before it.
   */
  'barrier'?: (_blockship_v1_Barrier | null);
  /**
   * The server_id the primary believes it ships to. Required on the first message (the stream
   * fails with unauthenticated_peer when it is not this agent); later messages leave it empty or repeat it.
   */
  'replica_server_id'?: (string);
  /**
   * The payload; may be absent on the first message (open only).
   */
  'body'?: "batch"|"barrier";
}

/**
 * One message from the primary on the ship stream.
 */
export interface ShipRequest__Output {
  /**
   * The volume. Required on the first message; later messages leave it empty or repeat it.
   */
  'volume_id': (string);
  /**
   * The primary's epoch. Required (>= 1) on the first message; later messages send 0 or repeat it.
   */
  'epoch': (string);
  /**
   * The sending primary's server_id. Required on the first message; later messages leave it empty or repeat it.
   */
  'primary_server_id': (string);
  /**
   * WAL records to append.
   */
  'batch'?: (_blockship_v1_WalBatch__Output | null);
  /**
   * A durability barrier covering every batch sent before it.
   */
  'barrier'?: (_blockship_v1_Barrier__Output | null);
  /**
   * The server_id the primary believes it ships to. Required on the first message (the stream
   * fails with unauthenticated_peer when it is not this agent); later messages leave it empty or repeat it.
   */
  'replica_server_id': (string);
  /**
   * The payload; may be absent on the first message (open only).
   */
  'body'?: "batch"|"barrier";
}
