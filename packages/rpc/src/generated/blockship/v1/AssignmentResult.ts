// Original file: proto/blockship/v1/control.proto

import type { ItemStatus as _blockship_v1_ItemStatus, ItemStatus__Output as _blockship_v1_ItemStatus__Output } from '../../blockship/v1/ItemStatus';
import type { Long } from '@grpc/proto-loader';

/**
 * The outcome of one assignment.
 */
export interface AssignmentResult {
  /**
   * Echo of Assignment.volume_id.
   */
  'volume_id'?: (string);
  /**
   * Echo of Assignment.epoch.
   */
  'epoch'?: (number | string | Long);
  /**
   * OK, or why this item failed (see the RPC comment for the possible reasons).
   */
  'status'?: (_blockship_v1_ItemStatus | null);
  /**
   * True when the assignment was identical to the applied one and nothing changed.
   */
  'unchanged'?: (boolean);
}

/**
 * The outcome of one assignment.
 */
export interface AssignmentResult__Output {
  /**
   * Echo of Assignment.volume_id.
   */
  'volume_id': (string);
  /**
   * Echo of Assignment.epoch.
   */
  'epoch': (string);
  /**
   * OK, or why this item failed (see the RPC comment for the possible reasons).
   */
  'status': (_blockship_v1_ItemStatus__Output | null);
  /**
   * True when the assignment was identical to the applied one and nothing changed.
   */
  'unchanged': (boolean);
}
