// Original file: proto/blockship/v1/control.proto

/**
 * Why a WatchStatus report was sent.
 */
export const StatusTrigger = {
  /**
   * Not set.
   */
  STATUS_TRIGGER_UNSPECIFIED: 'STATUS_TRIGGER_UNSPECIFIED',
  /**
   * The first report of the stream.
   */
  STATUS_TRIGGER_INITIAL: 'STATUS_TRIGGER_INITIAL',
  /**
   * interval_ms passed without a change.
   */
  STATUS_TRIGGER_INTERVAL: 'STATUS_TRIGGER_INTERVAL',
  /**
   * Something changed.
   */
  STATUS_TRIGGER_CHANGE: 'STATUS_TRIGGER_CHANGE',
} as const;

/**
 * Why a WatchStatus report was sent.
 */
export type StatusTrigger =
  /**
   * Not set.
   */
  | 'STATUS_TRIGGER_UNSPECIFIED'
  | 0
  /**
   * The first report of the stream.
   */
  | 'STATUS_TRIGGER_INITIAL'
  | 1
  /**
   * interval_ms passed without a change.
   */
  | 'STATUS_TRIGGER_INTERVAL'
  | 2
  /**
   * Something changed.
   */
  | 'STATUS_TRIGGER_CHANGE'
  | 3

/**
 * Why a WatchStatus report was sent.
 */
export type StatusTrigger__Output = typeof StatusTrigger[keyof typeof StatusTrigger]
