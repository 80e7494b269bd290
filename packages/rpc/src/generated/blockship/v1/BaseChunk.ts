// Original file: proto/blockship/v1/rebuild.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A piece of the base image.
 */
export interface BaseChunk {
  /**
   * Byte offset of `data` in the image.
   */
  'offset_bytes'?: (number | string | Long);
  /**
   * Image bytes (a whole number of blocks).
   */
  'data'?: (Buffer | Uint8Array | string);
  /**
   * Total size of the image in bytes (the volume size).
   */
  'total_size_bytes'?: (number | string | Long);
  /**
   * The image contains at least every entry <= base_lsn; the tail starts at base_lsn + 1.
   */
  'base_lsn'?: (number | string | Long);
  /**
   * CRC-32 (IEEE, as zlib computes it) of `data`. The copy verifies it before it stages the chunk;
   * a mismatch (bytes damaged on the way) is never written, the pull resumes from the last stored
   * offset instead (reason chunk_checksum_mismatch).
   */
  'data_crc32'?: (number);
}

/**
 * A piece of the base image.
 */
export interface BaseChunk__Output {
  /**
   * Byte offset of `data` in the image.
   */
  'offset_bytes': (string);
  /**
   * Image bytes (a whole number of blocks).
   */
  'data': (Buffer);
  /**
   * Total size of the image in bytes (the volume size).
   */
  'total_size_bytes': (string);
  /**
   * The image contains at least every entry <= base_lsn; the tail starts at base_lsn + 1.
   */
  'base_lsn': (string);
  /**
   * CRC-32 (IEEE, as zlib computes it) of `data`. The copy verifies it before it stages the chunk;
   * a mismatch (bytes damaged on the way) is never written, the pull resumes from the last stored
   * offset instead (reason chunk_checksum_mismatch).
   */
  'data_crc32': (number);
}
