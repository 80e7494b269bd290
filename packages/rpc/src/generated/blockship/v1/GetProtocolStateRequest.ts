// Original file: proto/blockship/v1/control.proto


/**
 * Which volume's protocol state to return.
 */
export interface GetProtocolStateRequest {
  /**
   * The volume. Required.
   */
  'volume_id'?: (string);
}

/**
 * Which volume's protocol state to return.
 */
export interface GetProtocolStateRequest__Output {
  /**
   * The volume. Required.
   */
  'volume_id': (string);
}
