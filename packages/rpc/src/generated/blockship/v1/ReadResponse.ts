// Original file: proto/blockship/v1/volume.proto


/**
 * The data read.
 */
export interface ReadResponse {
  /**
   * Exactly length_bytes bytes.
   */
  'data'?: (Buffer | Uint8Array | string);
}

/**
 * The data read.
 */
export interface ReadResponse__Output {
  /**
   * Exactly length_bytes bytes.
   */
  'data': (Buffer);
}
