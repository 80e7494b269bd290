// Original file: proto/blockship/v1/control.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A lease renewal for one primary volume.
 */
export interface LeaseGrant {
  /**
   * The volume. Required.
   */
  'volume_id'?: (string);
  /**
   * The epoch the primary must be at, 1 to 9007199254740991 (2^53-1); a mismatch fails the item with epoch_stale.
   */
  'epoch'?: (number | string | Long);
  /**
   * New lease length in milliseconds from the call's arrival, 1..600000.
   */
  'lease_ttl_ms'?: (number);
}

/**
 * A lease renewal for one primary volume.
 */
export interface LeaseGrant__Output {
  /**
   * The volume. Required.
   */
  'volume_id': (string);
  /**
   * The epoch the primary must be at, 1 to 9007199254740991 (2^53-1); a mismatch fails the item with epoch_stale.
   */
  'epoch': (string);
  /**
   * New lease length in milliseconds from the call's arrival, 1..600000.
   */
  'lease_ttl_ms': (number);
}
