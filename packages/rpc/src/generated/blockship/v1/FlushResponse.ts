// Original file: proto/blockship/v1/volume.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The flush outcome.
 */
export interface FlushResponse {
  /**
   * Every LSN <= durable_lsn is durable under the volume's durability mode; it covers every
   * write acknowledged before the Flush was received.
   */
  'durable_lsn'?: (number | string | Long);
}

/**
 * The flush outcome.
 */
export interface FlushResponse__Output {
  /**
   * Every LSN <= durable_lsn is durable under the volume's durability mode; it covers every
   * write acknowledged before the Flush was received.
   */
  'durable_lsn': (string);
}
