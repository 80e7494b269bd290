import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { BaseChunk as _blockship_v1_BaseChunk, BaseChunk__Output as _blockship_v1_BaseChunk__Output } from './blockship/v1/BaseChunk';
import type { ItemStatus as _blockship_v1_ItemStatus, ItemStatus__Output as _blockship_v1_ItemStatus__Output } from './blockship/v1/ItemStatus';
import type { RebuildClient as _blockship_v1_RebuildClient, RebuildDefinition as _blockship_v1_RebuildDefinition } from './blockship/v1/Rebuild';
import type { RebuildDone as _blockship_v1_RebuildDone, RebuildDone__Output as _blockship_v1_RebuildDone__Output } from './blockship/v1/RebuildDone';
import type { ReplicaTarget as _blockship_v1_ReplicaTarget, ReplicaTarget__Output as _blockship_v1_ReplicaTarget__Output } from './blockship/v1/ReplicaTarget';
import type { StreamBaseRequest as _blockship_v1_StreamBaseRequest, StreamBaseRequest__Output as _blockship_v1_StreamBaseRequest__Output } from './blockship/v1/StreamBaseRequest';
import type { StreamBaseResponse as _blockship_v1_StreamBaseResponse, StreamBaseResponse__Output as _blockship_v1_StreamBaseResponse__Output } from './blockship/v1/StreamBaseResponse';
import type { WalBatch as _blockship_v1_WalBatch, WalBatch__Output as _blockship_v1_WalBatch__Output } from './blockship/v1/WalBatch';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  blockship: {
    v1: {
      BaseChunk: MessageTypeDefinition<_blockship_v1_BaseChunk, _blockship_v1_BaseChunk__Output>
      DurabilityMode: EnumTypeDefinition
      ItemStatus: MessageTypeDefinition<_blockship_v1_ItemStatus, _blockship_v1_ItemStatus__Output>
      /**
       * Rebuild is served by the primary of a volume and called by a replica in role REBUILDING.
       * Error reasons and codes are listed in blockship/v1/common.proto.
       */
      Rebuild: SubtypeConstructor<typeof grpc.Client, _blockship_v1_RebuildClient> & { service: _blockship_v1_RebuildDefinition }
      RebuildDone: MessageTypeDefinition<_blockship_v1_RebuildDone, _blockship_v1_RebuildDone__Output>
      RecoveryKind: EnumTypeDefinition
      ReplicaTarget: MessageTypeDefinition<_blockship_v1_ReplicaTarget, _blockship_v1_ReplicaTarget__Output>
      Role: EnumTypeDefinition
      SenderState: EnumTypeDefinition
      SessionKind: EnumTypeDefinition
      SessionPhase: EnumTypeDefinition
      StreamBaseRequest: MessageTypeDefinition<_blockship_v1_StreamBaseRequest, _blockship_v1_StreamBaseRequest__Output>
      StreamBaseResponse: MessageTypeDefinition<_blockship_v1_StreamBaseResponse, _blockship_v1_StreamBaseResponse__Output>
      VolumeMode: EnumTypeDefinition
      WalBatch: MessageTypeDefinition<_blockship_v1_WalBatch, _blockship_v1_WalBatch__Output>
    }
  }
}

