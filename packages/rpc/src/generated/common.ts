import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ItemStatus as _blockship_v1_ItemStatus, ItemStatus__Output as _blockship_v1_ItemStatus__Output } from './blockship/v1/ItemStatus';
import type { ReplicaTarget as _blockship_v1_ReplicaTarget, ReplicaTarget__Output as _blockship_v1_ReplicaTarget__Output } from './blockship/v1/ReplicaTarget';
import type { WalBatch as _blockship_v1_WalBatch, WalBatch__Output as _blockship_v1_WalBatch__Output } from './blockship/v1/WalBatch';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  blockship: {
    v1: {
      DurabilityMode: EnumTypeDefinition
      ItemStatus: MessageTypeDefinition<_blockship_v1_ItemStatus, _blockship_v1_ItemStatus__Output>
      RecoveryKind: EnumTypeDefinition
      ReplicaTarget: MessageTypeDefinition<_blockship_v1_ReplicaTarget, _blockship_v1_ReplicaTarget__Output>
      Role: EnumTypeDefinition
      SenderState: EnumTypeDefinition
      SessionKind: EnumTypeDefinition
      SessionPhase: EnumTypeDefinition
      VolumeMode: EnumTypeDefinition
      WalBatch: MessageTypeDefinition<_blockship_v1_WalBatch, _blockship_v1_WalBatch__Output>
    }
  }
}

