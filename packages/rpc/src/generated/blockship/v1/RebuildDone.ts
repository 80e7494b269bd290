// Original file: proto/blockship/v1/rebuild.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The end of a successful transfer.
 */
export interface RebuildDone {
  /**
   * The base LSN of the transfer.
   */
  'base_lsn'?: (number | string | Long);
  /**
   * After the image and tail are applied, the replica holds every entry <= last_lsn.
   */
  'last_lsn'?: (number | string | Long);
  /**
   * Total size of the image in bytes.
   */
  'total_size_bytes'?: (number | string | Long);
}

/**
 * The end of a successful transfer.
 */
export interface RebuildDone__Output {
  /**
   * The base LSN of the transfer.
   */
  'base_lsn': (string);
  /**
   * After the image and tail are applied, the replica holds every entry <= last_lsn.
   */
  'last_lsn': (string);
  /**
   * Total size of the image in bytes.
   */
  'total_size_bytes': (string);
}
