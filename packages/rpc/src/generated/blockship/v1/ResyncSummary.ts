// Original file: proto/blockship/v1/control.proto

import type { Long } from '@grpc/proto-loader';

/**
 * What a committed resync cost.
 */
export interface ResyncSummary {
  /**
   * The replica's log was committed at this LSN.
   */
  'base_lsn'?: (number | string | Long);
  /**
   * The replica became consistent once durable at this LSN.
   */
  'consistent_lsn'?: (number | string | Long);
  /**
   * Passes sent.
   */
  'passes'?: (number);
  /**
   * Blocks sent, every pass.
   */
  'sent_blocks'?: (number | string | Long);
  /**
   * Block bytes sent, every pass.
   */
  'sent_bytes'?: (number | string | Long);
  /**
   * Wall time from the start of the transfer to the commit, in milliseconds.
   */
  'duration_ms'?: (number | string | Long);
}

/**
 * What a committed resync cost.
 */
export interface ResyncSummary__Output {
  /**
   * The replica's log was committed at this LSN.
   */
  'base_lsn': (string);
  /**
   * The replica became consistent once durable at this LSN.
   */
  'consistent_lsn': (string);
  /**
   * Passes sent.
   */
  'passes': (number);
  /**
   * Blocks sent, every pass.
   */
  'sent_blocks': (string);
  /**
   * Block bytes sent, every pass.
   */
  'sent_bytes': (string);
  /**
   * Wall time from the start of the transfer to the commit, in milliseconds.
   */
  'duration_ms': (string);
}
