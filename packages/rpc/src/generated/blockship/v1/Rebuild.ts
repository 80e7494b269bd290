// Original file: proto/blockship/v1/rebuild.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { StreamBaseRequest as _blockship_v1_StreamBaseRequest, StreamBaseRequest__Output as _blockship_v1_StreamBaseRequest__Output } from '../../blockship/v1/StreamBaseRequest';
import type { StreamBaseResponse as _blockship_v1_StreamBaseResponse, StreamBaseResponse__Output as _blockship_v1_StreamBaseResponse__Output } from '../../blockship/v1/StreamBaseResponse';

/**
 * Rebuild is served by the primary of a volume and called by a replica in role REBUILDING.
 * Error reasons and codes are listed in blockship/v1/common.proto.
 */
export interface RebuildClient extends grpc.Client {
  /**
   * Streams the base image of the volume in chunks (byte offsets increasing, from
   * resume_offset_bytes to the end), then the WAL tail (every entry after base_lsn up to the
   * primary's head at the end of the copy), then one RebuildDone. The image may be fuzzy
   * (concurrent writes); replaying the tail repairs it, so it is consistent only after Done.
   * A stream that breaks is resumed by a new call with resume_offset_bytes = the end of the last
   * chunk the replica stored and resume_base_lsn = the base_lsn it was given (resume_offset_bytes =
   * the volume size resumes in the tail: no chunks, the whole tail again from base_lsn + 1). The
   * primary keeps the WAL after base_lsn for a grace period (about a minute) after a stream
   * breaks, and after Done the WAL after last_lsn, so the replica's catch-up can take over.
   * One stream per replica: a newer call ends an older one with shutting_down ("superseded").
   * The rate limit covers image and tail bytes. Role, epoch and replica set are re-checked
   * before every message: a demotion or epoch change ends the stream with that error.
   * Errors: invalid_argument (offset not a multiple of the block size, rate out of range),
   * volume_not_found, not_primary, epoch_mismatch (request epoch differs from the primary's),
   * unauthenticated_peer (the caller is not in the replica set), out_of_range (offset beyond
   * the volume), wal_recycled (resume_base_lsn no longer retained: restart from offset 0).
   */
  StreamBase(argument: _blockship_v1_StreamBaseRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_blockship_v1_StreamBaseResponse__Output>;
  StreamBase(argument: _blockship_v1_StreamBaseRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_blockship_v1_StreamBaseResponse__Output>;
  /**
   * Streams the base image of the volume in chunks (byte offsets increasing, from
   * resume_offset_bytes to the end), then the WAL tail (every entry after base_lsn up to the
   * primary's head at the end of the copy), then one RebuildDone. The image may be fuzzy
   * (concurrent writes); replaying the tail repairs it, so it is consistent only after Done.
   * A stream that breaks is resumed by a new call with resume_offset_bytes = the end of the last
   * chunk the replica stored and resume_base_lsn = the base_lsn it was given (resume_offset_bytes =
   * the volume size resumes in the tail: no chunks, the whole tail again from base_lsn + 1). The
   * primary keeps the WAL after base_lsn for a grace period (about a minute) after a stream
   * breaks, and after Done the WAL after last_lsn, so the replica's catch-up can take over.
   * One stream per replica: a newer call ends an older one with shutting_down ("superseded").
   * The rate limit covers image and tail bytes. Role, epoch and replica set are re-checked
   * before every message: a demotion or epoch change ends the stream with that error.
   * Errors: invalid_argument (offset not a multiple of the block size, rate out of range),
   * volume_not_found, not_primary, epoch_mismatch (request epoch differs from the primary's),
   * unauthenticated_peer (the caller is not in the replica set), out_of_range (offset beyond
   * the volume), wal_recycled (resume_base_lsn no longer retained: restart from offset 0).
   */
  streamBase(argument: _blockship_v1_StreamBaseRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_blockship_v1_StreamBaseResponse__Output>;
  streamBase(argument: _blockship_v1_StreamBaseRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_blockship_v1_StreamBaseResponse__Output>;
  
}

/**
 * Rebuild is served by the primary of a volume and called by a replica in role REBUILDING.
 * Error reasons and codes are listed in blockship/v1/common.proto.
 */
export interface RebuildHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Streams the base image of the volume in chunks (byte offsets increasing, from
   * resume_offset_bytes to the end), then the WAL tail (every entry after base_lsn up to the
   * primary's head at the end of the copy), then one RebuildDone. The image may be fuzzy
   * (concurrent writes); replaying the tail repairs it, so it is consistent only after Done.
   * A stream that breaks is resumed by a new call with resume_offset_bytes = the end of the last
   * chunk the replica stored and resume_base_lsn = the base_lsn it was given (resume_offset_bytes =
   * the volume size resumes in the tail: no chunks, the whole tail again from base_lsn + 1). The
   * primary keeps the WAL after base_lsn for a grace period (about a minute) after a stream
   * breaks, and after Done the WAL after last_lsn, so the replica's catch-up can take over.
   * One stream per replica: a newer call ends an older one with shutting_down ("superseded").
   * The rate limit covers image and tail bytes. Role, epoch and replica set are re-checked
   * before every message: a demotion or epoch change ends the stream with that error.
   * Errors: invalid_argument (offset not a multiple of the block size, rate out of range),
   * volume_not_found, not_primary, epoch_mismatch (request epoch differs from the primary's),
   * unauthenticated_peer (the caller is not in the replica set), out_of_range (offset beyond
   * the volume), wal_recycled (resume_base_lsn no longer retained: restart from offset 0).
   */
  StreamBase: grpc.handleServerStreamingCall<_blockship_v1_StreamBaseRequest__Output, _blockship_v1_StreamBaseResponse>;
  
}

export interface RebuildDefinition extends grpc.ServiceDefinition {
  StreamBase: MethodDefinition<_blockship_v1_StreamBaseRequest, _blockship_v1_StreamBaseResponse, _blockship_v1_StreamBaseRequest__Output, _blockship_v1_StreamBaseResponse__Output>
}
