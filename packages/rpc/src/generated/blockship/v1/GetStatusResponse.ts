// Original file: proto/blockship/v1/control.proto

import type { StatusReport as _blockship_v1_StatusReport, StatusReport__Output as _blockship_v1_StatusReport__Output } from '../../blockship/v1/StatusReport';

/**
 * A status snapshot.
 */
export interface GetStatusResponse {
  /**
   * The snapshot.
   */
  'report'?: (_blockship_v1_StatusReport | null);
}

/**
 * A status snapshot.
 */
export interface GetStatusResponse__Output {
  /**
   * The snapshot.
   */
  'report': (_blockship_v1_StatusReport__Output | null);
}
