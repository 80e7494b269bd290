import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { FlushRequest as _blockship_v1_FlushRequest, FlushRequest__Output as _blockship_v1_FlushRequest__Output } from './blockship/v1/FlushRequest';
import type { FlushResponse as _blockship_v1_FlushResponse, FlushResponse__Output as _blockship_v1_FlushResponse__Output } from './blockship/v1/FlushResponse';
import type { GetInfoRequest as _blockship_v1_GetInfoRequest, GetInfoRequest__Output as _blockship_v1_GetInfoRequest__Output } from './blockship/v1/GetInfoRequest';
import type { GetInfoResponse as _blockship_v1_GetInfoResponse, GetInfoResponse__Output as _blockship_v1_GetInfoResponse__Output } from './blockship/v1/GetInfoResponse';
import type { ItemStatus as _blockship_v1_ItemStatus, ItemStatus__Output as _blockship_v1_ItemStatus__Output } from './blockship/v1/ItemStatus';
import type { ReadRequest as _blockship_v1_ReadRequest, ReadRequest__Output as _blockship_v1_ReadRequest__Output } from './blockship/v1/ReadRequest';
import type { ReadResponse as _blockship_v1_ReadResponse, ReadResponse__Output as _blockship_v1_ReadResponse__Output } from './blockship/v1/ReadResponse';
import type { ReplicaTarget as _blockship_v1_ReplicaTarget, ReplicaTarget__Output as _blockship_v1_ReplicaTarget__Output } from './blockship/v1/ReplicaTarget';
import type { TrimRequest as _blockship_v1_TrimRequest, TrimRequest__Output as _blockship_v1_TrimRequest__Output } from './blockship/v1/TrimRequest';
import type { TrimResponse as _blockship_v1_TrimResponse, TrimResponse__Output as _blockship_v1_TrimResponse__Output } from './blockship/v1/TrimResponse';
import type { VolumeClient as _blockship_v1_VolumeClient, VolumeDefinition as _blockship_v1_VolumeDefinition } from './blockship/v1/Volume';
import type { WalBatch as _blockship_v1_WalBatch, WalBatch__Output as _blockship_v1_WalBatch__Output } from './blockship/v1/WalBatch';
import type { WriteOp as _blockship_v1_WriteOp, WriteOp__Output as _blockship_v1_WriteOp__Output } from './blockship/v1/WriteOp';
import type { WriteRequest as _blockship_v1_WriteRequest, WriteRequest__Output as _blockship_v1_WriteRequest__Output } from './blockship/v1/WriteRequest';
import type { WriteResponse as _blockship_v1_WriteResponse, WriteResponse__Output as _blockship_v1_WriteResponse__Output } from './blockship/v1/WriteResponse';
import type { WriteStreamRequest as _blockship_v1_WriteStreamRequest, WriteStreamRequest__Output as _blockship_v1_WriteStreamRequest__Output } from './blockship/v1/WriteStreamRequest';
import type { WriteStreamResponse as _blockship_v1_WriteStreamResponse, WriteStreamResponse__Output as _blockship_v1_WriteStreamResponse__Output } from './blockship/v1/WriteStreamResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  blockship: {
    v1: {
      DurabilityMode: EnumTypeDefinition
      FlushRequest: MessageTypeDefinition<_blockship_v1_FlushRequest, _blockship_v1_FlushRequest__Output>
      FlushResponse: MessageTypeDefinition<_blockship_v1_FlushResponse, _blockship_v1_FlushResponse__Output>
      GetInfoRequest: MessageTypeDefinition<_blockship_v1_GetInfoRequest, _blockship_v1_GetInfoRequest__Output>
      GetInfoResponse: MessageTypeDefinition<_blockship_v1_GetInfoResponse, _blockship_v1_GetInfoResponse__Output>
      ItemStatus: MessageTypeDefinition<_blockship_v1_ItemStatus, _blockship_v1_ItemStatus__Output>
      ReadRequest: MessageTypeDefinition<_blockship_v1_ReadRequest, _blockship_v1_ReadRequest__Output>
      ReadResponse: MessageTypeDefinition<_blockship_v1_ReadResponse, _blockship_v1_ReadResponse__Output>
      RecoveryKind: EnumTypeDefinition
      ReplicaTarget: MessageTypeDefinition<_blockship_v1_ReplicaTarget, _blockship_v1_ReplicaTarget__Output>
      Role: EnumTypeDefinition
      SenderState: EnumTypeDefinition
      SessionKind: EnumTypeDefinition
      SessionPhase: EnumTypeDefinition
      TrimRequest: MessageTypeDefinition<_blockship_v1_TrimRequest, _blockship_v1_TrimRequest__Output>
      TrimResponse: MessageTypeDefinition<_blockship_v1_TrimResponse, _blockship_v1_TrimResponse__Output>
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
      Volume: SubtypeConstructor<typeof grpc.Client, _blockship_v1_VolumeClient> & { service: _blockship_v1_VolumeDefinition }
      VolumeMode: EnumTypeDefinition
      WalBatch: MessageTypeDefinition<_blockship_v1_WalBatch, _blockship_v1_WalBatch__Output>
      WriteOp: MessageTypeDefinition<_blockship_v1_WriteOp, _blockship_v1_WriteOp__Output>
      WriteRequest: MessageTypeDefinition<_blockship_v1_WriteRequest, _blockship_v1_WriteRequest__Output>
      WriteResponse: MessageTypeDefinition<_blockship_v1_WriteResponse, _blockship_v1_WriteResponse__Output>
      WriteStreamRequest: MessageTypeDefinition<_blockship_v1_WriteStreamRequest, _blockship_v1_WriteStreamRequest__Output>
      WriteStreamResponse: MessageTypeDefinition<_blockship_v1_WriteStreamResponse, _blockship_v1_WriteStreamResponse__Output>
    }
  }
}

