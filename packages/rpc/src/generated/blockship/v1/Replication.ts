// Original file: proto/blockship/v1/replication.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { HandshakeRequest as _blockship_v1_HandshakeRequest, HandshakeRequest__Output as _blockship_v1_HandshakeRequest__Output } from '../../blockship/v1/HandshakeRequest';
import type { HandshakeResponse as _blockship_v1_HandshakeResponse, HandshakeResponse__Output as _blockship_v1_HandshakeResponse__Output } from '../../blockship/v1/HandshakeResponse';
import type { ResyncRequest as _blockship_v1_ResyncRequest, ResyncRequest__Output as _blockship_v1_ResyncRequest__Output } from '../../blockship/v1/ResyncRequest';
import type { ResyncResponse as _blockship_v1_ResyncResponse, ResyncResponse__Output as _blockship_v1_ResyncResponse__Output } from '../../blockship/v1/ResyncResponse';
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
   * The changed-block resync stream: the primary brings a replica whose gap the WAL no longer
   * covers (or whose log diverged after the fork point) back to a consistent image without a full
   * copy. Every request carries the identity (volume, epoch, primary, replica); the first must
   * carry `begin`. The replica answers `begin` with the blocks IT changed after the fork point
   * (`ranges` messages, then one `ranges_done`); the primary then sends the current content of
   * every block either copy changed since the fork (`blocks`, in any order, idempotent: a resumed
   * session simply sends them again), and the replica answers each with an `ack` once it is
   * written (flow control). `commit` makes the replica's log end at base_lsn with the primary's
   * record there; the replica answers `committed` and ends the stream (OK); the ship stream then
   * continues from base_lsn + 1.
   * Until commit the replica refuses reads, writes and shipped records (its RESYNC marker is
   * persisted and survives restarts: a later handshake reports it and a new session resumes).
   * The stream ends with: PERMISSION_DENIED unauthenticated_peer (not the assigned primary, or
   * replica_server_id is not this agent), NOT_FOUND volume_not_found, FAILED_PRECONDITION
   * not_replica (role does not accept entries), ABORTED epoch_mismatch (epoch differs from the
   * replica's, or moved mid-stream), INVALID_ARGUMENT invalid_argument (missing field, no begin
   * first, identity changed mid-stream, blocks not block-aligned or empty, a second begin with
   * another fork_lsn), OUT_OF_RANGE out_of_range (blocks past the end of the volume),
   * DATA_LOSS checksum_mismatch (the blocks' CRC does not match their data; nothing is written),
   * FAILED_PRECONDITION resync_untracked (the replica does not know its changes since fork_lsn:
   * a full rebuild is needed), FAILED_PRECONDITION resync_in_progress / resync_state
   * (storage refused the step in the marker's current phase), INTERNAL internal.
   */
  Resync(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_blockship_v1_ResyncRequest, _blockship_v1_ResyncResponse__Output>;
  Resync(options?: grpc.CallOptions): grpc.ClientDuplexStream<_blockship_v1_ResyncRequest, _blockship_v1_ResyncResponse__Output>;
  /**
   * The changed-block resync stream: the primary brings a replica whose gap the WAL no longer
   * covers (or whose log diverged after the fork point) back to a consistent image without a full
   * copy. Every request carries the identity (volume, epoch, primary, replica); the first must
   * carry `begin`. The replica answers `begin` with the blocks IT changed after the fork point
   * (`ranges` messages, then one `ranges_done`); the primary then sends the current content of
   * every block either copy changed since the fork (`blocks`, in any order, idempotent: a resumed
   * session simply sends them again), and the replica answers each with an `ack` once it is
   * written (flow control). `commit` makes the replica's log end at base_lsn with the primary's
   * record there; the replica answers `committed` and ends the stream (OK); the ship stream then
   * continues from base_lsn + 1.
   * Until commit the replica refuses reads, writes and shipped records (its RESYNC marker is
   * persisted and survives restarts: a later handshake reports it and a new session resumes).
   * The stream ends with: PERMISSION_DENIED unauthenticated_peer (not the assigned primary, or
   * replica_server_id is not this agent), NOT_FOUND volume_not_found, FAILED_PRECONDITION
   * not_replica (role does not accept entries), ABORTED epoch_mismatch (epoch differs from the
   * replica's, or moved mid-stream), INVALID_ARGUMENT invalid_argument (missing field, no begin
   * first, identity changed mid-stream, blocks not block-aligned or empty, a second begin with
   * another fork_lsn), OUT_OF_RANGE out_of_range (blocks past the end of the volume),
   * DATA_LOSS checksum_mismatch (the blocks' CRC does not match their data; nothing is written),
   * FAILED_PRECONDITION resync_untracked (the replica does not know its changes since fork_lsn:
   * a full rebuild is needed), FAILED_PRECONDITION resync_in_progress / resync_state
   * (storage refused the step in the marker's current phase), INTERNAL internal.
   */
  resync(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_blockship_v1_ResyncRequest, _blockship_v1_ResyncResponse__Output>;
  resync(options?: grpc.CallOptions): grpc.ClientDuplexStream<_blockship_v1_ResyncRequest, _blockship_v1_ResyncResponse__Output>;
  
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
   * The changed-block resync stream: the primary brings a replica whose gap the WAL no longer
   * covers (or whose log diverged after the fork point) back to a consistent image without a full
   * copy. Every request carries the identity (volume, epoch, primary, replica); the first must
   * carry `begin`. The replica answers `begin` with the blocks IT changed after the fork point
   * (`ranges` messages, then one `ranges_done`); the primary then sends the current content of
   * every block either copy changed since the fork (`blocks`, in any order, idempotent: a resumed
   * session simply sends them again), and the replica answers each with an `ack` once it is
   * written (flow control). `commit` makes the replica's log end at base_lsn with the primary's
   * record there; the replica answers `committed` and ends the stream (OK); the ship stream then
   * continues from base_lsn + 1.
   * Until commit the replica refuses reads, writes and shipped records (its RESYNC marker is
   * persisted and survives restarts: a later handshake reports it and a new session resumes).
   * The stream ends with: PERMISSION_DENIED unauthenticated_peer (not the assigned primary, or
   * replica_server_id is not this agent), NOT_FOUND volume_not_found, FAILED_PRECONDITION
   * not_replica (role does not accept entries), ABORTED epoch_mismatch (epoch differs from the
   * replica's, or moved mid-stream), INVALID_ARGUMENT invalid_argument (missing field, no begin
   * first, identity changed mid-stream, blocks not block-aligned or empty, a second begin with
   * another fork_lsn), OUT_OF_RANGE out_of_range (blocks past the end of the volume),
   * DATA_LOSS checksum_mismatch (the blocks' CRC does not match their data; nothing is written),
   * FAILED_PRECONDITION resync_untracked (the replica does not know its changes since fork_lsn:
   * a full rebuild is needed), FAILED_PRECONDITION resync_in_progress / resync_state
   * (storage refused the step in the marker's current phase), INTERNAL internal.
   */
  Resync: grpc.handleBidiStreamingCall<_blockship_v1_ResyncRequest__Output, _blockship_v1_ResyncResponse>;
  
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
  Resync: MethodDefinition<_blockship_v1_ResyncRequest, _blockship_v1_ResyncResponse, _blockship_v1_ResyncRequest__Output, _blockship_v1_ResyncResponse__Output>
  Ship: MethodDefinition<_blockship_v1_ShipRequest, _blockship_v1_ShipResponse, _blockship_v1_ShipRequest__Output, _blockship_v1_ShipResponse__Output>
}
