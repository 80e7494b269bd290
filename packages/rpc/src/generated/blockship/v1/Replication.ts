// Original file: proto/blockship/v1/replication.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { HandshakeRequest as _blockship_v1_HandshakeRequest, HandshakeRequest__Output as _blockship_v1_HandshakeRequest__Output } from '../../blockship/v1/HandshakeRequest';
import type { HandshakeResponse as _blockship_v1_HandshakeResponse, HandshakeResponse__Output as _blockship_v1_HandshakeResponse__Output } from '../../blockship/v1/HandshakeResponse';
import type { ShipRequest as _blockship_v1_ShipRequest, ShipRequest__Output as _blockship_v1_ShipRequest__Output } from '../../blockship/v1/ShipRequest';
import type { ShipResponse as _blockship_v1_ShipResponse, ShipResponse__Output as _blockship_v1_ShipResponse__Output } from '../../blockship/v1/ShipResponse';

/**
 * Replication is served by every agent and called by the primary of a volume on each of its
 * replicas. A replica accepts calls only from the primary it was assigned (by server_id) at
 * its current epoch. Error reasons and codes are listed in blockship/v1/common.proto.
 */
export interface ReplicationClient extends grpc.Client {
  /**
   * Asks the replica for its recovery facts; the primary classifies the replica as zero-gap,
   * catch-up, replica-ahead or needs-rebuild from them. Read-only on the replica. The facts are
   * returned even when the epochs differ (the primary compares them).
   * Errors: invalid_argument, volume_not_found, unauthenticated_peer (the caller is not the
   * assigned primary, or replica_server_id is not this agent).
   */
  Handshake(argument: _blockship_v1_HandshakeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_HandshakeResponse__Output>): grpc.ClientUnaryCall;
  Handshake(argument: _blockship_v1_HandshakeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_HandshakeResponse__Output>): grpc.ClientUnaryCall;
  Handshake(argument: _blockship_v1_HandshakeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_HandshakeResponse__Output>): grpc.ClientUnaryCall;
  Handshake(argument: _blockship_v1_HandshakeRequest, callback: grpc.requestCallback<_blockship_v1_HandshakeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Asks the replica for its recovery facts; the primary classifies the replica as zero-gap,
   * catch-up, replica-ahead or needs-rebuild from them. Read-only on the replica. The facts are
   * returned even when the epochs differ (the primary compares them).
   * Errors: invalid_argument, volume_not_found, unauthenticated_peer (the caller is not the
   * assigned primary, or replica_server_id is not this agent).
   */
  handshake(argument: _blockship_v1_HandshakeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_HandshakeResponse__Output>): grpc.ClientUnaryCall;
  handshake(argument: _blockship_v1_HandshakeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_HandshakeResponse__Output>): grpc.ClientUnaryCall;
  handshake(argument: _blockship_v1_HandshakeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_HandshakeResponse__Output>): grpc.ClientUnaryCall;
  handshake(argument: _blockship_v1_HandshakeRequest, callback: grpc.requestCallback<_blockship_v1_HandshakeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The ship stream. The first request identifies the volume, epoch and primary; then requests
   * carry WAL batches and in-band barriers in LSN order. The replica appends batches (CRCs
   * verified, duplicates skipped, gaps rejected), answers acks with its received LSN, and
   * answers each barrier after everything <= barrier.lsn is fsynced. Only a barrier response
   * moves the primary's view of the replica's durable LSN.
   * The stream ends with: ABORTED epoch_mismatch (epoch differs from the replica's), PERMISSION_DENIED
   * unauthenticated_peer, NOT_FOUND volume_not_found, FAILED_PRECONDITION needs_rebuild (gap
   * before the batch), INVALID_ARGUMENT invalid_argument (malformed batch, CRC error, identity
   * changed mid-stream), RESOURCE_EXHAUSTED wal_full, INTERNAL internal.
   */
  Ship(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_blockship_v1_ShipRequest, _blockship_v1_ShipResponse__Output>;
  Ship(options?: grpc.CallOptions): grpc.ClientDuplexStream<_blockship_v1_ShipRequest, _blockship_v1_ShipResponse__Output>;
  /**
   * The ship stream. The first request identifies the volume, epoch and primary; then requests
   * carry WAL batches and in-band barriers in LSN order. The replica appends batches (CRCs
   * verified, duplicates skipped, gaps rejected), answers acks with its received LSN, and
   * answers each barrier after everything <= barrier.lsn is fsynced. Only a barrier response
   * moves the primary's view of the replica's durable LSN.
   * The stream ends with: ABORTED epoch_mismatch (epoch differs from the replica's), PERMISSION_DENIED
   * unauthenticated_peer, NOT_FOUND volume_not_found, FAILED_PRECONDITION needs_rebuild (gap
   * before the batch), INVALID_ARGUMENT invalid_argument (malformed batch, CRC error, identity
   * changed mid-stream), RESOURCE_EXHAUSTED wal_full, INTERNAL internal.
   */
  ship(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_blockship_v1_ShipRequest, _blockship_v1_ShipResponse__Output>;
  ship(options?: grpc.CallOptions): grpc.ClientDuplexStream<_blockship_v1_ShipRequest, _blockship_v1_ShipResponse__Output>;
  
}

/**
 * Replication is served by every agent and called by the primary of a volume on each of its
 * replicas. A replica accepts calls only from the primary it was assigned (by server_id) at
 * its current epoch. Error reasons and codes are listed in blockship/v1/common.proto.
 */
export interface ReplicationHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Asks the replica for its recovery facts; the primary classifies the replica as zero-gap,
   * catch-up, replica-ahead or needs-rebuild from them. Read-only on the replica. The facts are
   * returned even when the epochs differ (the primary compares them).
   * Errors: invalid_argument, volume_not_found, unauthenticated_peer (the caller is not the
   * assigned primary, or replica_server_id is not this agent).
   */
  Handshake: grpc.handleUnaryCall<_blockship_v1_HandshakeRequest__Output, _blockship_v1_HandshakeResponse>;
  
  /**
   * The ship stream. The first request identifies the volume, epoch and primary; then requests
   * carry WAL batches and in-band barriers in LSN order. The replica appends batches (CRCs
   * verified, duplicates skipped, gaps rejected), answers acks with its received LSN, and
   * answers each barrier after everything <= barrier.lsn is fsynced. Only a barrier response
   * moves the primary's view of the replica's durable LSN.
   * The stream ends with: ABORTED epoch_mismatch (epoch differs from the replica's), PERMISSION_DENIED
   * unauthenticated_peer, NOT_FOUND volume_not_found, FAILED_PRECONDITION needs_rebuild (gap
   * before the batch), INVALID_ARGUMENT invalid_argument (malformed batch, CRC error, identity
   * changed mid-stream), RESOURCE_EXHAUSTED wal_full, INTERNAL internal.
   */
  Ship: grpc.handleBidiStreamingCall<_blockship_v1_ShipRequest__Output, _blockship_v1_ShipResponse>;
  
}

export interface ReplicationDefinition extends grpc.ServiceDefinition {
  Handshake: MethodDefinition<_blockship_v1_HandshakeRequest, _blockship_v1_HandshakeResponse, _blockship_v1_HandshakeRequest__Output, _blockship_v1_HandshakeResponse__Output>
  Ship: MethodDefinition<_blockship_v1_ShipRequest, _blockship_v1_ShipResponse, _blockship_v1_ShipRequest__Output, _blockship_v1_ShipResponse__Output>
}
