// Original file: proto/blockship/v1/control.proto

import type { StatusReport as _blockship_v1_StatusReport, StatusReport__Output as _blockship_v1_StatusReport__Output } from '../../blockship/v1/StatusReport';
import type { StatusTrigger as _blockship_v1_StatusTrigger, StatusTrigger__Output as _blockship_v1_StatusTrigger__Output } from '../../blockship/v1/StatusTrigger';

/**
 * One report of a WatchStatus stream.
 */
export interface WatchStatusResponse {
  /**
   * The snapshot.
   */
  'report'?: (_blockship_v1_StatusReport | null);
  /**
   * Why it was sent.
   */
  'trigger'?: (_blockship_v1_StatusTrigger);
}

/**
 * One report of a WatchStatus stream.
 */
export interface WatchStatusResponse__Output {
  /**
   * The snapshot.
   */
  'report': (_blockship_v1_StatusReport__Output | null);
  /**
   * Why it was sent.
   */
  'trigger': (_blockship_v1_StatusTrigger__Output);
}
