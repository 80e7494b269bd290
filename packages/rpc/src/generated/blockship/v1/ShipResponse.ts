// Original file: proto/blockship/v1/replication.proto

import type { ShipAck as _blockship_v1_ShipAck, ShipAck__Output as _blockship_v1_ShipAck__Output } from '../../blockship/v1/ShipAck';
import type { BarrierResponse as _blockship_v1_BarrierResponse, BarrierResponse__Output as _blockship_v1_BarrierResponse__Output } from '../../blockship/v1/BarrierResponse';

/**
 * One message from the replica on the ship stream.
 */
export interface ShipResponse {
  /**
   * Append progress; sent after batches (possibly coalesced).
   */
  'ack'?: (_blockship_v1_ShipAck | null);
  /**
   * The answer to a barrier.
   */
  'barrier'?: (_blockship_v1_BarrierResponse | null);
  /**
   * The payload.
   */
  'body'?: "ack"|"barrier";
}

/**
 * One message from the replica on the ship stream.
 */
export interface ShipResponse__Output {
  /**
   * Append progress; sent after batches (possibly coalesced).
   */
  'ack'?: (_blockship_v1_ShipAck__Output | null);
  /**
   * The answer to a barrier.
   */
  'barrier'?: (_blockship_v1_BarrierResponse__Output | null);
  /**
   * The payload.
   */
  'body'?: "ack"|"barrier";
}
