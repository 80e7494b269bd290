// Original file: proto/blockship/v1/control.proto

import type { DurabilityMode as _blockship_v1_DurabilityMode, DurabilityMode__Output as _blockship_v1_DurabilityMode__Output } from '../../blockship/v1/DurabilityMode';
import type { Long } from '@grpc/proto-loader';

/**
 * Create a volume.
 */
export interface AllocateVolumeRequest {
  /**
   * The new volume's id. Required.
   */
  'volume_id'?: (string);
  /**
   * Logical size in bytes: > 0, a multiple of block_size, at most 2^50 (1 PiB).
   */
  'size_bytes'?: (number | string | Long);
  /**
   * Block size in bytes: a power of two in 512..65536; 0 = 4096.
   */
  'block_size'?: (number);
  /**
   * WAL ring size in bytes: a multiple of block_size, at least 1 MiB; 0 = the agent's default.
   */
  'wal_size_bytes'?: (number | string | Long);
  /**
   * Durability mode, persisted with the volume. Required (UNSPECIFIED is rejected).
   */
  'durability_mode'?: (_blockship_v1_DurabilityMode);
}

/**
 * Create a volume.
 */
export interface AllocateVolumeRequest__Output {
  /**
   * The new volume's id. Required.
   */
  'volume_id': (string);
  /**
   * Logical size in bytes: > 0, a multiple of block_size, at most 2^50 (1 PiB).
   */
  'size_bytes': (string);
  /**
   * Block size in bytes: a power of two in 512..65536; 0 = 4096.
   */
  'block_size': (number);
  /**
   * WAL ring size in bytes: a multiple of block_size, at least 1 MiB; 0 = the agent's default.
   */
  'wal_size_bytes': (string);
  /**
   * Durability mode, persisted with the volume. Required (UNSPECIFIED is rejected).
   */
  'durability_mode': (_blockship_v1_DurabilityMode__Output);
}
