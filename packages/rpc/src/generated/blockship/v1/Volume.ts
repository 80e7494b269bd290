// Original file: proto/blockship/v1/volume.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { FlushRequest as _blockship_v1_FlushRequest, FlushRequest__Output as _blockship_v1_FlushRequest__Output } from '../../blockship/v1/FlushRequest';
import type { FlushResponse as _blockship_v1_FlushResponse, FlushResponse__Output as _blockship_v1_FlushResponse__Output } from '../../blockship/v1/FlushResponse';
import type { GetInfoRequest as _blockship_v1_GetInfoRequest, GetInfoRequest__Output as _blockship_v1_GetInfoRequest__Output } from '../../blockship/v1/GetInfoRequest';
import type { GetInfoResponse as _blockship_v1_GetInfoResponse, GetInfoResponse__Output as _blockship_v1_GetInfoResponse__Output } from '../../blockship/v1/GetInfoResponse';
import type { ReadRequest as _blockship_v1_ReadRequest, ReadRequest__Output as _blockship_v1_ReadRequest__Output } from '../../blockship/v1/ReadRequest';
import type { ReadResponse as _blockship_v1_ReadResponse, ReadResponse__Output as _blockship_v1_ReadResponse__Output } from '../../blockship/v1/ReadResponse';
import type { TrimRequest as _blockship_v1_TrimRequest, TrimRequest__Output as _blockship_v1_TrimRequest__Output } from '../../blockship/v1/TrimRequest';
import type { TrimResponse as _blockship_v1_TrimResponse, TrimResponse__Output as _blockship_v1_TrimResponse__Output } from '../../blockship/v1/TrimResponse';
import type { WriteRequest as _blockship_v1_WriteRequest, WriteRequest__Output as _blockship_v1_WriteRequest__Output } from '../../blockship/v1/WriteRequest';
import type { WriteResponse as _blockship_v1_WriteResponse, WriteResponse__Output as _blockship_v1_WriteResponse__Output } from '../../blockship/v1/WriteResponse';
import type { WriteStreamRequest as _blockship_v1_WriteStreamRequest, WriteStreamRequest__Output as _blockship_v1_WriteStreamRequest__Output } from '../../blockship/v1/WriteStreamRequest';
import type { WriteStreamResponse as _blockship_v1_WriteStreamResponse, WriteStreamResponse__Output as _blockship_v1_WriteStreamResponse__Output } from '../../blockship/v1/WriteStreamResponse';

/**
 * Volume is the client data plane, served by the agent holding the volume in role PRIMARY.
 * Writes and trims are acknowledged after the WAL append and are durable only after a
 * Flush. Every mutating RPC fails with FAILED_PRECONDITION not_primary / epoch_stale /
 * lease_expired on a copy that may not acknowledge writes, so an old primary cannot
 * acknowledge anything after failover. A Read passes the same fence (role, epoch, lease) unless
 * it asks explicitly for a copy's data (ReadRequest.allow_copy_read), so a demoted primary or a
 * lagging replica never answers stale data to a client that did not ask for it.
 * Error reasons and codes are listed in blockship/v1/common.proto.
 */
export interface VolumeClient extends grpc.Client {
  /**
   * Makes every write acknowledged before this call durable under the volume's durability
   * mode (group commit: one fsync and one replica barrier cover many writes) and returns the
   * durable LSN. A flush that cannot be confirmed fails; it never reports a durability it does
   * not have. Errors: volume_not_found, not_primary, epoch_stale, lease_expired,
   * durability_barrier_failed, durability_quorum_lost, internal.
   */
  Flush(argument: _blockship_v1_FlushRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  Flush(argument: _blockship_v1_FlushRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  Flush(argument: _blockship_v1_FlushRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  Flush(argument: _blockship_v1_FlushRequest, callback: grpc.requestCallback<_blockship_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Makes every write acknowledged before this call durable under the volume's durability
   * mode (group commit: one fsync and one replica barrier cover many writes) and returns the
   * durable LSN. A flush that cannot be confirmed fails; it never reports a durability it does
   * not have. Errors: volume_not_found, not_primary, epoch_stale, lease_expired,
   * durability_barrier_failed, durability_quorum_lost, internal.
   */
  flush(argument: _blockship_v1_FlushRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  flush(argument: _blockship_v1_FlushRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  flush(argument: _blockship_v1_FlushRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  flush(argument: _blockship_v1_FlushRequest, callback: grpc.requestCallback<_blockship_v1_FlushResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Describes the volume: geometry, role, epoch, LSNs and whether it is writable.
   * Errors: invalid_argument, volume_not_found.
   */
  GetInfo(argument: _blockship_v1_GetInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  GetInfo(argument: _blockship_v1_GetInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  GetInfo(argument: _blockship_v1_GetInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  GetInfo(argument: _blockship_v1_GetInfoRequest, callback: grpc.requestCallback<_blockship_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Describes the volume: geometry, role, epoch, LSNs and whether it is writable.
   * Errors: invalid_argument, volume_not_found.
   */
  getInfo(argument: _blockship_v1_GetInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  getInfo(argument: _blockship_v1_GetInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  getInfo(argument: _blockship_v1_GetInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  getInfo(argument: _blockship_v1_GetInfoRequest, callback: grpc.requestCallback<_blockship_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Reads whole blocks at an LBA (the newest acknowledged data; trimmed or never-written blocks read as zeros).
   * Without allow_copy_read only a writable primary answers (checked before and after the read).
   * Errors: invalid_argument, volume_not_found, out_of_range, not_primary, epoch_stale,
   * lease_expired, internal.
   */
  Read(argument: _blockship_v1_ReadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_ReadResponse__Output>): grpc.ClientUnaryCall;
  Read(argument: _blockship_v1_ReadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_ReadResponse__Output>): grpc.ClientUnaryCall;
  Read(argument: _blockship_v1_ReadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_ReadResponse__Output>): grpc.ClientUnaryCall;
  Read(argument: _blockship_v1_ReadRequest, callback: grpc.requestCallback<_blockship_v1_ReadResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Reads whole blocks at an LBA (the newest acknowledged data; trimmed or never-written blocks read as zeros).
   * Without allow_copy_read only a writable primary answers (checked before and after the read).
   * Errors: invalid_argument, volume_not_found, out_of_range, not_primary, epoch_stale,
   * lease_expired, internal.
   */
  read(argument: _blockship_v1_ReadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_ReadResponse__Output>): grpc.ClientUnaryCall;
  read(argument: _blockship_v1_ReadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_ReadResponse__Output>): grpc.ClientUnaryCall;
  read(argument: _blockship_v1_ReadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_ReadResponse__Output>): grpc.ClientUnaryCall;
  read(argument: _blockship_v1_ReadRequest, callback: grpc.requestCallback<_blockship_v1_ReadResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Discards whole blocks (they read as zeros afterwards) and returns the LSN of the trim.
   * Errors: as Write.
   */
  Trim(argument: _blockship_v1_TrimRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_TrimResponse__Output>): grpc.ClientUnaryCall;
  Trim(argument: _blockship_v1_TrimRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_TrimResponse__Output>): grpc.ClientUnaryCall;
  Trim(argument: _blockship_v1_TrimRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_TrimResponse__Output>): grpc.ClientUnaryCall;
  Trim(argument: _blockship_v1_TrimRequest, callback: grpc.requestCallback<_blockship_v1_TrimResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Discards whole blocks (they read as zeros afterwards) and returns the LSN of the trim.
   * Errors: as Write.
   */
  trim(argument: _blockship_v1_TrimRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_TrimResponse__Output>): grpc.ClientUnaryCall;
  trim(argument: _blockship_v1_TrimRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_TrimResponse__Output>): grpc.ClientUnaryCall;
  trim(argument: _blockship_v1_TrimRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_TrimResponse__Output>): grpc.ClientUnaryCall;
  trim(argument: _blockship_v1_TrimRequest, callback: grpc.requestCallback<_blockship_v1_TrimResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Writes whole blocks at an LBA and returns the LSN of the write.
   * Errors: invalid_argument (data empty or not a multiple of the block size), volume_not_found,
   * out_of_range, not_primary, epoch_stale, lease_expired, wal_full, internal.
   */
  Write(argument: _blockship_v1_WriteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_WriteResponse__Output>): grpc.ClientUnaryCall;
  Write(argument: _blockship_v1_WriteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_WriteResponse__Output>): grpc.ClientUnaryCall;
  Write(argument: _blockship_v1_WriteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_WriteResponse__Output>): grpc.ClientUnaryCall;
  Write(argument: _blockship_v1_WriteRequest, callback: grpc.requestCallback<_blockship_v1_WriteResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Writes whole blocks at an LBA and returns the LSN of the write.
   * Errors: invalid_argument (data empty or not a multiple of the block size), volume_not_found,
   * out_of_range, not_primary, epoch_stale, lease_expired, wal_full, internal.
   */
  write(argument: _blockship_v1_WriteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_WriteResponse__Output>): grpc.ClientUnaryCall;
  write(argument: _blockship_v1_WriteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_WriteResponse__Output>): grpc.ClientUnaryCall;
  write(argument: _blockship_v1_WriteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_WriteResponse__Output>): grpc.ClientUnaryCall;
  write(argument: _blockship_v1_WriteRequest, callback: grpc.requestCallback<_blockship_v1_WriteResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * High-throughput writes: each request carries many writes (and optionally asks for a flush);
   * each request is answered by one response, in order, carrying its LSN range. The stream
   * fails with the status of the first failing write (reasons as Write and Flush); writes of
   * earlier requests stay acknowledged. Clients should keep several requests in flight and
   * honour stream back-pressure.
   */
  WriteStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_blockship_v1_WriteStreamRequest, _blockship_v1_WriteStreamResponse__Output>;
  WriteStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_blockship_v1_WriteStreamRequest, _blockship_v1_WriteStreamResponse__Output>;
  /**
   * High-throughput writes: each request carries many writes (and optionally asks for a flush);
   * each request is answered by one response, in order, carrying its LSN range. The stream
   * fails with the status of the first failing write (reasons as Write and Flush); writes of
   * earlier requests stay acknowledged. Clients should keep several requests in flight and
   * honour stream back-pressure.
   */
  writeStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_blockship_v1_WriteStreamRequest, _blockship_v1_WriteStreamResponse__Output>;
  writeStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_blockship_v1_WriteStreamRequest, _blockship_v1_WriteStreamResponse__Output>;
  
}

/**
 * Volume is the client data plane, served by the agent holding the volume in role PRIMARY.
 * Writes and trims are acknowledged after the WAL append and are durable only after a
 * Flush. Every mutating RPC fails with FAILED_PRECONDITION not_primary / epoch_stale /
 * lease_expired on a copy that may not acknowledge writes, so an old primary cannot
 * acknowledge anything after failover. A Read passes the same fence (role, epoch, lease) unless
 * it asks explicitly for a copy's data (ReadRequest.allow_copy_read), so a demoted primary or a
 * lagging replica never answers stale data to a client that did not ask for it.
 * Error reasons and codes are listed in blockship/v1/common.proto.
 */
export interface VolumeHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Makes every write acknowledged before this call durable under the volume's durability
   * mode (group commit: one fsync and one replica barrier cover many writes) and returns the
   * durable LSN. A flush that cannot be confirmed fails; it never reports a durability it does
   * not have. Errors: volume_not_found, not_primary, epoch_stale, lease_expired,
   * durability_barrier_failed, durability_quorum_lost, internal.
   */
  Flush: grpc.handleUnaryCall<_blockship_v1_FlushRequest__Output, _blockship_v1_FlushResponse>;
  
  /**
   * Describes the volume: geometry, role, epoch, LSNs and whether it is writable.
   * Errors: invalid_argument, volume_not_found.
   */
  GetInfo: grpc.handleUnaryCall<_blockship_v1_GetInfoRequest__Output, _blockship_v1_GetInfoResponse>;
  
  /**
   * Reads whole blocks at an LBA (the newest acknowledged data; trimmed or never-written blocks read as zeros).
   * Without allow_copy_read only a writable primary answers (checked before and after the read).
   * Errors: invalid_argument, volume_not_found, out_of_range, not_primary, epoch_stale,
   * lease_expired, internal.
   */
  Read: grpc.handleUnaryCall<_blockship_v1_ReadRequest__Output, _blockship_v1_ReadResponse>;
  
  /**
   * Discards whole blocks (they read as zeros afterwards) and returns the LSN of the trim.
   * Errors: as Write.
   */
  Trim: grpc.handleUnaryCall<_blockship_v1_TrimRequest__Output, _blockship_v1_TrimResponse>;
  
  /**
   * Writes whole blocks at an LBA and returns the LSN of the write.
   * Errors: invalid_argument (data empty or not a multiple of the block size), volume_not_found,
   * out_of_range, not_primary, epoch_stale, lease_expired, wal_full, internal.
   */
  Write: grpc.handleUnaryCall<_blockship_v1_WriteRequest__Output, _blockship_v1_WriteResponse>;
  
  /**
   * High-throughput writes: each request carries many writes (and optionally asks for a flush);
   * each request is answered by one response, in order, carrying its LSN range. The stream
   * fails with the status of the first failing write (reasons as Write and Flush); writes of
   * earlier requests stay acknowledged. Clients should keep several requests in flight and
   * honour stream back-pressure.
   */
  WriteStream: grpc.handleBidiStreamingCall<_blockship_v1_WriteStreamRequest__Output, _blockship_v1_WriteStreamResponse>;
  
}

export interface VolumeDefinition extends grpc.ServiceDefinition {
  Flush: MethodDefinition<_blockship_v1_FlushRequest, _blockship_v1_FlushResponse, _blockship_v1_FlushRequest__Output, _blockship_v1_FlushResponse__Output>
  GetInfo: MethodDefinition<_blockship_v1_GetInfoRequest, _blockship_v1_GetInfoResponse, _blockship_v1_GetInfoRequest__Output, _blockship_v1_GetInfoResponse__Output>
  Read: MethodDefinition<_blockship_v1_ReadRequest, _blockship_v1_ReadResponse, _blockship_v1_ReadRequest__Output, _blockship_v1_ReadResponse__Output>
  Trim: MethodDefinition<_blockship_v1_TrimRequest, _blockship_v1_TrimResponse, _blockship_v1_TrimRequest__Output, _blockship_v1_TrimResponse__Output>
  Write: MethodDefinition<_blockship_v1_WriteRequest, _blockship_v1_WriteResponse, _blockship_v1_WriteRequest__Output, _blockship_v1_WriteResponse__Output>
  WriteStream: MethodDefinition<_blockship_v1_WriteStreamRequest, _blockship_v1_WriteStreamResponse, _blockship_v1_WriteStreamRequest__Output, _blockship_v1_WriteStreamResponse__Output>
}
