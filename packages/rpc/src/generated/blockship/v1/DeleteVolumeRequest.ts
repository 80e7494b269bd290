// Original file: proto/blockship/v1/control.proto


/**
 * Delete a volume.
 */
export interface DeleteVolumeRequest {
  /**
   * The volume. Required.
   */
  'volume_id'?: (string);
}

/**
 * Delete a volume.
 */
export interface DeleteVolumeRequest__Output {
  /**
   * The volume. Required.
   */
  'volume_id': (string);
}
