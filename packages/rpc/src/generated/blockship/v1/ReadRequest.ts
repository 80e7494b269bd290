// Original file: proto/blockship/v1/volume.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Read whole blocks.
 */
export interface ReadRequest {
  /**
   * The volume. Required.
   */
  'volume_id'?: (string);
  /**
   * First block to read.
   */
  'lba'?: (number | string | Long);
  /**
   * Bytes to read: a multiple of the block size, 1 block .. 8 MiB.
   */
  'length_bytes'?: (number);
  /**
   * Serve this copy's data whatever its role (replica, stale, a primary without a lease): for
   * verification and debugging. The data may be older than what the primary acknowledged.
   */
  'allow_copy_read'?: (boolean);
}

/**
 * Read whole blocks.
 */
export interface ReadRequest__Output {
  /**
   * The volume. Required.
   */
  'volume_id': (string);
  /**
   * First block to read.
   */
  'lba': (string);
  /**
   * Bytes to read: a multiple of the block size, 1 block .. 8 MiB.
   */
  'length_bytes': (number);
  /**
   * Serve this copy's data whatever its role (replica, stale, a primary without a lease): for
   * verification and debugging. The data may be older than what the primary acknowledged.
   */
  'allow_copy_read': (boolean);
}
