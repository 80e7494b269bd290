// Original file: proto/blockship/v1/control.proto

import type { AssignmentResult as _blockship_v1_AssignmentResult, AssignmentResult__Output as _blockship_v1_AssignmentResult__Output } from '../../blockship/v1/AssignmentResult';

/**
 * Results of ApplyAssignments.
 */
export interface ApplyAssignmentsResponse {
  /**
   * One result per request item, in request order.
   */
  'results'?: (_blockship_v1_AssignmentResult)[];
}

/**
 * Results of ApplyAssignments.
 */
export interface ApplyAssignmentsResponse__Output {
  /**
   * One result per request item, in request order.
   */
  'results': (_blockship_v1_AssignmentResult__Output)[];
}
