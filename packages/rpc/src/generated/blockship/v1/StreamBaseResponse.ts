// Original file: proto/blockship/v1/rebuild.proto

import type { BaseChunk as _blockship_v1_BaseChunk, BaseChunk__Output as _blockship_v1_BaseChunk__Output } from '../../blockship/v1/BaseChunk';
import type { WalBatch as _blockship_v1_WalBatch, WalBatch__Output as _blockship_v1_WalBatch__Output } from '../../blockship/v1/WalBatch';
import type { RebuildDone as _blockship_v1_RebuildDone, RebuildDone__Output as _blockship_v1_RebuildDone__Output } from '../../blockship/v1/RebuildDone';

/**
 * One message of the StreamBase stream.
 */
export interface StreamBaseResponse {
  /**
   * A piece of the base image.
   */
  'chunk'?: (_blockship_v1_BaseChunk | null);
  /**
   * WAL records after base_lsn, in LSN order.
   */
  'tail'?: (_blockship_v1_WalBatch | null);
  /**
   * The transfer is complete.
   */
  'done'?: (_blockship_v1_RebuildDone | null);
  /**
   * The payload: chunks first, then tail batches, then done.
   */
  'body'?: "chunk"|"tail"|"done";
}

/**
 * One message of the StreamBase stream.
 */
export interface StreamBaseResponse__Output {
  /**
   * A piece of the base image.
   */
  'chunk'?: (_blockship_v1_BaseChunk__Output | null);
  /**
   * WAL records after base_lsn, in LSN order.
   */
  'tail'?: (_blockship_v1_WalBatch__Output | null);
  /**
   * The transfer is complete.
   */
  'done'?: (_blockship_v1_RebuildDone__Output | null);
  /**
   * The payload: chunks first, then tail batches, then done.
   */
  'body'?: "chunk"|"tail"|"done";
}
