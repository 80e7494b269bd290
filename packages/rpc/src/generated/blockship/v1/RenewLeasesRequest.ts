// Original file: proto/blockship/v1/control.proto

import type { LeaseGrant as _blockship_v1_LeaseGrant, LeaseGrant__Output as _blockship_v1_LeaseGrant__Output } from '../../blockship/v1/LeaseGrant';

/**
 * A batch of lease renewals.
 */
export interface RenewLeasesRequest {
  /**
   * The grants, 0..1024 items.
   */
  'grants'?: (_blockship_v1_LeaseGrant)[];
}

/**
 * A batch of lease renewals.
 */
export interface RenewLeasesRequest__Output {
  /**
   * The grants, 0..1024 items.
   */
  'grants': (_blockship_v1_LeaseGrant__Output)[];
}
