// Original file: proto/blockship/v1/control.proto


/**
 * What to watch.
 */
export interface WatchStatusRequest {
  /**
   * Volume ids to report; empty = every volume on this agent.
   */
  'volume_ids'?: (string)[];
  /**
   * Maximum time between two reports in milliseconds; 0 = 5000. Range 100..3600000.
   */
  'interval_ms'?: (number);
}

/**
 * What to watch.
 */
export interface WatchStatusRequest__Output {
  /**
   * Volume ids to report; empty = every volume on this agent.
   */
  'volume_ids': (string)[];
  /**
   * Maximum time between two reports in milliseconds; 0 = 5000. Range 100..3600000.
   */
  'interval_ms': (number);
}
