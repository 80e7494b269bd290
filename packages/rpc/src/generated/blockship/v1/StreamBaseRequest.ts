// Original file: proto/blockship/v1/rebuild.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Ask for a base image.
 */
export interface StreamBaseRequest {
  /**
   * The volume. Required.
   */
  'volume_id'?: (string);
  /**
   * The rebuilding replica's epoch; must equal the primary's, >= 1.
   */
  'epoch'?: (number | string | Long);
  /**
   * The calling replica's server_id. Required.
   */
  'replica_server_id'?: (string);
  /**
   * Resume from this byte offset of the image: a multiple of the block size, <= the volume size. 0 = from the start.
   */
  'resume_offset_bytes'?: (number | string | Long);
  /**
   * When resuming (resume_offset_bytes > 0): the base_lsn received in the interrupted stream;
   * the tail then starts after it. Ignored when resume_offset_bytes = 0.
   */
  'resume_base_lsn'?: (number | string | Long);
  /**
   * Requested transfer rate limit in bytes per second; 0 = the primary's default. The primary
   * may apply a lower limit of its own.
   */
  'rate_limit_bytes_per_second'?: (number | string | Long);
  /**
   * Preferred chunk size in bytes: a multiple of the block size up to 4 MiB; 0 = 1 MiB.
   */
  'chunk_size_bytes'?: (number);
}

/**
 * Ask for a base image.
 */
export interface StreamBaseRequest__Output {
  /**
   * The volume. Required.
   */
  'volume_id': (string);
  /**
   * The rebuilding replica's epoch; must equal the primary's, >= 1.
   */
  'epoch': (string);
  /**
   * The calling replica's server_id. Required.
   */
  'replica_server_id': (string);
  /**
   * Resume from this byte offset of the image: a multiple of the block size, <= the volume size. 0 = from the start.
   */
  'resume_offset_bytes': (string);
  /**
   * When resuming (resume_offset_bytes > 0): the base_lsn received in the interrupted stream;
   * the tail then starts after it. Ignored when resume_offset_bytes = 0.
   */
  'resume_base_lsn': (string);
  /**
   * Requested transfer rate limit in bytes per second; 0 = the primary's default. The primary
   * may apply a lower limit of its own.
   */
  'rate_limit_bytes_per_second': (string);
  /**
   * Preferred chunk size in bytes: a multiple of the block size up to 4 MiB; 0 = 1 MiB.
   */
  'chunk_size_bytes': (number);
}
