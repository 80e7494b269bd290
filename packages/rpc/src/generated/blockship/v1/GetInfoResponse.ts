// Original file: proto/blockship/v1/volume.proto

import type { Role as _blockship_v1_Role, Role__Output as _blockship_v1_Role__Output } from '../../blockship/v1/Role';
import type { DurabilityMode as _blockship_v1_DurabilityMode, DurabilityMode__Output as _blockship_v1_DurabilityMode__Output } from '../../blockship/v1/DurabilityMode';
import type { Long } from '@grpc/proto-loader';

/**
 * A volume's description.
 */
export interface GetInfoResponse {
  /**
   * The volume.
   */
  'volume_id'?: (string);
  /**
   * Logical size in bytes.
   */
  'size_bytes'?: (number | string | Long);
  /**
   * Block size in bytes.
   */
  'block_size'?: (number);
  /**
   * Current epoch.
   */
  'epoch'?: (number | string | Long);
  /**
   * Current role on this agent.
   */
  'role'?: (_blockship_v1_Role);
  /**
   * Persisted durability mode.
   */
  'durability_mode'?: (_blockship_v1_DurabilityMode);
  /**
   * True when writes are accepted right now.
   */
  'writable'?: (boolean);
  /**
   * Why writes are refused (a reason from common.proto); empty when writable.
   */
  'write_block_reason'?: (string);
  /**
   * Last LSN appended to the WAL.
   */
  'head_lsn'?: (number | string | Long);
  /**
   * Highest LSN durable under the durability mode.
   */
  'committed_lsn'?: (number | string | Long);
}

/**
 * A volume's description.
 */
export interface GetInfoResponse__Output {
  /**
   * The volume.
   */
  'volume_id': (string);
  /**
   * Logical size in bytes.
   */
  'size_bytes': (string);
  /**
   * Block size in bytes.
   */
  'block_size': (number);
  /**
   * Current epoch.
   */
  'epoch': (string);
  /**
   * Current role on this agent.
   */
  'role': (_blockship_v1_Role__Output);
  /**
   * Persisted durability mode.
   */
  'durability_mode': (_blockship_v1_DurabilityMode__Output);
  /**
   * True when writes are accepted right now.
   */
  'writable': (boolean);
  /**
   * Why writes are refused (a reason from common.proto); empty when writable.
   */
  'write_block_reason': (string);
  /**
   * Last LSN appended to the WAL.
   */
  'head_lsn': (string);
  /**
   * Highest LSN durable under the durability mode.
   */
  'committed_lsn': (string);
}
