// Original file: proto/blockship/v1/control.proto


/**
 * The outcome of DeleteVolume.
 */
export interface DeleteVolumeResponse {
  /**
   * True when the volume existed and was deleted.
   */
  'existed'?: (boolean);
}

/**
 * The outcome of DeleteVolume.
 */
export interface DeleteVolumeResponse__Output {
  /**
   * True when the volume existed and was deleted.
   */
  'existed': (boolean);
}
