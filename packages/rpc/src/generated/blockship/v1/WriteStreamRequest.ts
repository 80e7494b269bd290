// Original file: proto/blockship/v1/volume.proto

import type { WriteOp as _blockship_v1_WriteOp, WriteOp__Output as _blockship_v1_WriteOp__Output } from '../../blockship/v1/WriteOp';
import type { Long } from '@grpc/proto-loader';

/**
 * One message of a WriteStream.
 */
export interface WriteStreamRequest {
  /**
   * The volume. Required on the first message; later messages may leave it empty (same volume)
   * or must repeat it (anything else is invalid_argument).
   */
  'volume_id'?: (string);
  /**
   * When non-zero, every write of this message fails with epoch_stale unless the volume is at this epoch.
   */
  'expected_epoch'?: (number | string | Long);
  /**
   * Client-chosen sequence number, echoed in the response (for the client's bookkeeping).
   */
  'seq'?: (number | string | Long);
  /**
   * 0..4096 writes, applied in order; total data at most 15 MiB per message.
   */
  'writes'?: (_blockship_v1_WriteOp)[];
  /**
   * After the writes of this message, flush (as Flush) and report durable_lsn.
   */
  'flush'?: (boolean);
}

/**
 * One message of a WriteStream.
 */
export interface WriteStreamRequest__Output {
  /**
   * The volume. Required on the first message; later messages may leave it empty (same volume)
   * or must repeat it (anything else is invalid_argument).
   */
  'volume_id': (string);
  /**
   * When non-zero, every write of this message fails with epoch_stale unless the volume is at this epoch.
   */
  'expected_epoch': (string);
  /**
   * Client-chosen sequence number, echoed in the response (for the client's bookkeeping).
   */
  'seq': (string);
  /**
   * 0..4096 writes, applied in order; total data at most 15 MiB per message.
   */
  'writes': (_blockship_v1_WriteOp__Output)[];
  /**
   * After the writes of this message, flush (as Flush) and report durable_lsn.
   */
  'flush': (boolean);
}
