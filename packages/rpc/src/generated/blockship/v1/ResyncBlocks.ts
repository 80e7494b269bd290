// Original file: proto/blockship/v1/replication.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The primary's current content of a run of whole blocks.
 */
export interface ResyncBlocks {
  /**
   * Byte offset in the volume: a multiple of the block size; offset_bytes + len(data) must not
   * exceed the volume size.
   */
  'offset_bytes'?: (number | string | Long);
  /**
   * The block contents: a whole, non-zero number of blocks, at most 1 MiB.
   */
  'data'?: (Buffer | Uint8Array | string);
  /**
   * CRC-32 (IEEE, as zlib computes it) of data. A mismatch ends the stream with
   * checksum_mismatch; the damaged blocks are never written.
   */
  'data_crc32'?: (number);
}

/**
 * The primary's current content of a run of whole blocks.
 */
export interface ResyncBlocks__Output {
  /**
   * Byte offset in the volume: a multiple of the block size; offset_bytes + len(data) must not
   * exceed the volume size.
   */
  'offset_bytes': (string);
  /**
   * The block contents: a whole, non-zero number of blocks, at most 1 MiB.
   */
  'data': (Buffer);
  /**
   * CRC-32 (IEEE, as zlib computes it) of data. A mismatch ends the stream with
   * checksum_mismatch; the damaged blocks are never written.
   */
  'data_crc32': (number);
}
