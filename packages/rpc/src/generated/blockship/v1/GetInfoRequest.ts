// Original file: proto/blockship/v1/volume.proto


/**
 * Describe a volume.
 */
export interface GetInfoRequest {
  /**
   * The volume. Required.
   */
  'volume_id'?: (string);
}

/**
 * Describe a volume.
 */
export interface GetInfoRequest__Output {
  /**
   * The volume. Required.
   */
  'volume_id': (string);
}
