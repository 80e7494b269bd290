// Original file: proto/blockship/v1/control.proto

import type { VolumeStatus as _blockship_v1_VolumeStatus, VolumeStatus__Output as _blockship_v1_VolumeStatus__Output } from '../../blockship/v1/VolumeStatus';
import type { Long } from '@grpc/proto-loader';

/**
 * The status of (some of) the volumes of one agent.
 */
export interface StatusReport {
  /**
   * The reporting agent's server_id.
   */
  'server_id'?: (string);
  /**
   * Report sequence number, increasing per agent process, starting at 1.
   */
  'seq'?: (number | string | Long);
  /**
   * Wall-clock time of the snapshot, milliseconds since the Unix epoch.
   */
  'at_unix_ms'?: (number | string | Long);
  /**
   * One entry per reported volume, sorted by volume_id.
   */
  'volumes'?: (_blockship_v1_VolumeStatus)[];
}

/**
 * The status of (some of) the volumes of one agent.
 */
export interface StatusReport__Output {
  /**
   * The reporting agent's server_id.
   */
  'server_id': (string);
  /**
   * Report sequence number, increasing per agent process, starting at 1.
   */
  'seq': (string);
  /**
   * Wall-clock time of the snapshot, milliseconds since the Unix epoch.
   */
  'at_unix_ms': (string);
  /**
   * One entry per reported volume, sorted by volume_id.
   */
  'volumes': (_blockship_v1_VolumeStatus__Output)[];
}
