// Original file: proto/blockship/v1/control.proto

import type { ItemStatus as _blockship_v1_ItemStatus, ItemStatus__Output as _blockship_v1_ItemStatus__Output } from '../../blockship/v1/ItemStatus';

/**
 * The outcome of one lease renewal.
 */
export interface LeaseResult {
  /**
   * Echo of LeaseGrant.volume_id.
   */
  'volume_id'?: (string);
  /**
   * OK, or volume_not_found / not_primary / epoch_stale / deadline_exceeded / invalid_argument.
   */
  'status'?: (_blockship_v1_ItemStatus | null);
  /**
   * Milliseconds of lease left after this renewal (0 when the item failed).
   */
  'lease_remaining_ms'?: (number);
}

/**
 * The outcome of one lease renewal.
 */
export interface LeaseResult__Output {
  /**
   * Echo of LeaseGrant.volume_id.
   */
  'volume_id': (string);
  /**
   * OK, or volume_not_found / not_primary / epoch_stale / deadline_exceeded / invalid_argument.
   */
  'status': (_blockship_v1_ItemStatus__Output | null);
  /**
   * Milliseconds of lease left after this renewal (0 when the item failed).
   */
  'lease_remaining_ms': (number);
}
