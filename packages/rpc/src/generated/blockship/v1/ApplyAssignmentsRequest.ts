// Original file: proto/blockship/v1/control.proto

import type { Assignment as _blockship_v1_Assignment, Assignment__Output as _blockship_v1_Assignment__Output } from '../../blockship/v1/Assignment';

/**
 * A batch of assignments.
 */
export interface ApplyAssignmentsRequest {
  /**
   * The assignments, applied in list order. 0..1024 items.
   */
  'assignments'?: (_blockship_v1_Assignment)[];
}

/**
 * A batch of assignments.
 */
export interface ApplyAssignmentsRequest__Output {
  /**
   * The assignments, applied in list order. 0..1024 items.
   */
  'assignments': (_blockship_v1_Assignment__Output)[];
}
