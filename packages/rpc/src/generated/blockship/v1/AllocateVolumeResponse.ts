// Original file: proto/blockship/v1/control.proto

import type { VolumeStatus as _blockship_v1_VolumeStatus, VolumeStatus__Output as _blockship_v1_VolumeStatus__Output } from '../../blockship/v1/VolumeStatus';

/**
 * The allocated (or already existing) volume.
 */
export interface AllocateVolumeResponse {
  /**
   * True when this call created the volume, false when it already existed with the same parameters.
   */
  'created'?: (boolean);
  /**
   * The volume's status.
   */
  'volume'?: (_blockship_v1_VolumeStatus | null);
}

/**
 * The allocated (or already existing) volume.
 */
export interface AllocateVolumeResponse__Output {
  /**
   * True when this call created the volume, false when it already existed with the same parameters.
   */
  'created': (boolean);
  /**
   * The volume's status.
   */
  'volume': (_blockship_v1_VolumeStatus__Output | null);
}
