// Original file: proto/blockship/v1/control.proto

import type { Long } from '@grpc/proto-loader';

/**
 * What a committed rebuild cost.
 */
export interface RebuildSummary {
  /**
   * The image's base LSN; the tail started at base_lsn + 1.
   */
  'base_lsn'?: (number | string | Long);
  /**
   * The copy held every entry <= last_lsn when the rebuild committed.
   */
  'last_lsn'?: (number | string | Long);
  /**
   * Size of the image in bytes.
   */
  'total_bytes'?: (number | string | Long);
  /**
   * Bytes received over the network (image + tail, including data re-sent after resumes).
   */
  'bytes_transferred'?: (number | string | Long);
  /**
   * Transfers resumed after broken connections.
   */
  'resumes'?: (number);
  /**
   * Wall time from the first request to the commit, in milliseconds.
   */
  'duration_ms'?: (number | string | Long);
  /**
   * Image bytes kept from a transfer that this agent's restart interrupted (it saves a resume
   * point about once a second; the primary keeps the image's WAL tail for a grace period):
   * 0 = the image was pulled from its start.
   */
  'resumed_from_bytes'?: (number | string | Long);
}

/**
 * What a committed rebuild cost.
 */
export interface RebuildSummary__Output {
  /**
   * The image's base LSN; the tail started at base_lsn + 1.
   */
  'base_lsn': (string);
  /**
   * The copy held every entry <= last_lsn when the rebuild committed.
   */
  'last_lsn': (string);
  /**
   * Size of the image in bytes.
   */
  'total_bytes': (string);
  /**
   * Bytes received over the network (image + tail, including data re-sent after resumes).
   */
  'bytes_transferred': (string);
  /**
   * Transfers resumed after broken connections.
   */
  'resumes': (number);
  /**
   * Wall time from the first request to the commit, in milliseconds.
   */
  'duration_ms': (string);
  /**
   * Image bytes kept from a transfer that this agent's restart interrupted (it saves a resume
   * point about once a second; the primary keeps the image's WAL tail for a grace period):
   * 0 = the image was pulled from its start.
   */
  'resumed_from_bytes': (string);
}
