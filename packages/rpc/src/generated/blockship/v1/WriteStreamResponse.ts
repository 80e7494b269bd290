// Original file: proto/blockship/v1/volume.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The answer to one WriteStream request.
 */
export interface WriteStreamResponse {
  /**
   * Echo of WriteStreamRequest.seq.
   */
  'seq'?: (number | string | Long);
  /**
   * LSN of the first write of the request (0 when it carried no writes).
   */
  'first_lsn'?: (number | string | Long);
  /**
   * LSN of the last write of the request (0 when it carried no writes).
   */
  'last_lsn'?: (number | string | Long);
  /**
   * Number of writes acknowledged (equals the number in the request).
   */
  'count'?: (number);
  /**
   * When flush was requested: every LSN <= durable_lsn is durable. 0 otherwise.
   */
  'durable_lsn'?: (number | string | Long);
}

/**
 * The answer to one WriteStream request.
 */
export interface WriteStreamResponse__Output {
  /**
   * Echo of WriteStreamRequest.seq.
   */
  'seq': (string);
  /**
   * LSN of the first write of the request (0 when it carried no writes).
   */
  'first_lsn': (string);
  /**
   * LSN of the last write of the request (0 when it carried no writes).
   */
  'last_lsn': (string);
  /**
   * Number of writes acknowledged (equals the number in the request).
   */
  'count': (number);
  /**
   * When flush was requested: every LSN <= durable_lsn is durable. 0 otherwise.
   */
  'durable_lsn': (string);
}
