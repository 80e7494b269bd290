// Original file: proto/blockship/v1/control.proto

import type { LeaseResult as _blockship_v1_LeaseResult, LeaseResult__Output as _blockship_v1_LeaseResult__Output } from '../../blockship/v1/LeaseResult';

/**
 * Results of RenewLeases.
 */
export interface RenewLeasesResponse {
  /**
   * One result per grant, in request order.
   */
  'results'?: (_blockship_v1_LeaseResult)[];
}

/**
 * Results of RenewLeases.
 */
export interface RenewLeasesResponse__Output {
  /**
   * One result per grant, in request order.
   */
  'results': (_blockship_v1_LeaseResult__Output)[];
}
