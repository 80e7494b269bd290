// Original file: proto/blockship/v1/control.proto


/**
 * Which volumes to report.
 */
export interface GetStatusRequest {
  /**
   * Volume ids to report; empty = every volume on this agent.
   */
  'volume_ids'?: (string)[];
}

/**
 * Which volumes to report.
 */
export interface GetStatusRequest__Output {
  /**
   * Volume ids to report; empty = every volume on this agent.
   */
  'volume_ids': (string)[];
}
