// Original file: proto/blockship/v1/control.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One NBD client connection to a volume's export.
 */
export interface NbdConnection {
  /**
   * The client's address, host:port.
   */
  'remote_address'?: (string);
  /**
   * True when the connection was upgraded with NBD_OPT_STARTTLS.
   */
  'tls'?: (boolean);
  /**
   * True when the client negotiated structured replies.
   */
  'structured_replies'?: (boolean);
  /**
   * When the connection was accepted, milliseconds since the Unix epoch.
   */
  'connected_at_ms'?: (number | string | Long);
  /**
   * Requests received and not yet answered.
   */
  'requests_in_flight'?: (number);
}

/**
 * One NBD client connection to a volume's export.
 */
export interface NbdConnection__Output {
  /**
   * The client's address, host:port.
   */
  'remote_address': (string);
  /**
   * True when the connection was upgraded with NBD_OPT_STARTTLS.
   */
  'tls': (boolean);
  /**
   * True when the client negotiated structured replies.
   */
  'structured_replies': (boolean);
  /**
   * When the connection was accepted, milliseconds since the Unix epoch.
   */
  'connected_at_ms': (string);
  /**
   * Requests received and not yet answered.
   */
  'requests_in_flight': (number);
}
