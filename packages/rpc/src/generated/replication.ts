import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Barrier as _blockship_v1_Barrier, Barrier__Output as _blockship_v1_Barrier__Output } from './blockship/v1/Barrier';
import type { BarrierResponse as _blockship_v1_BarrierResponse, BarrierResponse__Output as _blockship_v1_BarrierResponse__Output } from './blockship/v1/BarrierResponse';
import type { BlockRange as _blockship_v1_BlockRange, BlockRange__Output as _blockship_v1_BlockRange__Output } from './blockship/v1/BlockRange';
import type { Generation as _blockship_v1_Generation, Generation__Output as _blockship_v1_Generation__Output } from './blockship/v1/Generation';
import type { HandshakeRequest as _blockship_v1_HandshakeRequest, HandshakeRequest__Output as _blockship_v1_HandshakeRequest__Output } from './blockship/v1/HandshakeRequest';
import type { HandshakeResponse as _blockship_v1_HandshakeResponse, HandshakeResponse__Output as _blockship_v1_HandshakeResponse__Output } from './blockship/v1/HandshakeResponse';
import type { ItemStatus as _blockship_v1_ItemStatus, ItemStatus__Output as _blockship_v1_ItemStatus__Output } from './blockship/v1/ItemStatus';
import type { RecordId as _blockship_v1_RecordId, RecordId__Output as _blockship_v1_RecordId__Output } from './blockship/v1/RecordId';
import type { ReplicaTarget as _blockship_v1_ReplicaTarget, ReplicaTarget__Output as _blockship_v1_ReplicaTarget__Output } from './blockship/v1/ReplicaTarget';
import type { ReplicationClient as _blockship_v1_ReplicationClient, ReplicationDefinition as _blockship_v1_ReplicationDefinition } from './blockship/v1/Replication';
import type { ResyncAck as _blockship_v1_ResyncAck, ResyncAck__Output as _blockship_v1_ResyncAck__Output } from './blockship/v1/ResyncAck';
import type { ResyncBegin as _blockship_v1_ResyncBegin, ResyncBegin__Output as _blockship_v1_ResyncBegin__Output } from './blockship/v1/ResyncBegin';
import type { ResyncBlocks as _blockship_v1_ResyncBlocks, ResyncBlocks__Output as _blockship_v1_ResyncBlocks__Output } from './blockship/v1/ResyncBlocks';
import type { ResyncCommit as _blockship_v1_ResyncCommit, ResyncCommit__Output as _blockship_v1_ResyncCommit__Output } from './blockship/v1/ResyncCommit';
import type { ResyncCommitted as _blockship_v1_ResyncCommitted, ResyncCommitted__Output as _blockship_v1_ResyncCommitted__Output } from './blockship/v1/ResyncCommitted';
import type { ResyncRanges as _blockship_v1_ResyncRanges, ResyncRanges__Output as _blockship_v1_ResyncRanges__Output } from './blockship/v1/ResyncRanges';
import type { ResyncRangesDone as _blockship_v1_ResyncRangesDone, ResyncRangesDone__Output as _blockship_v1_ResyncRangesDone__Output } from './blockship/v1/ResyncRangesDone';
import type { ResyncRequest as _blockship_v1_ResyncRequest, ResyncRequest__Output as _blockship_v1_ResyncRequest__Output } from './blockship/v1/ResyncRequest';
import type { ResyncResponse as _blockship_v1_ResyncResponse, ResyncResponse__Output as _blockship_v1_ResyncResponse__Output } from './blockship/v1/ResyncResponse';
import type { ResyncStatus as _blockship_v1_ResyncStatus, ResyncStatus__Output as _blockship_v1_ResyncStatus__Output } from './blockship/v1/ResyncStatus';
import type { ShipAck as _blockship_v1_ShipAck, ShipAck__Output as _blockship_v1_ShipAck__Output } from './blockship/v1/ShipAck';
import type { ShipRequest as _blockship_v1_ShipRequest, ShipRequest__Output as _blockship_v1_ShipRequest__Output } from './blockship/v1/ShipRequest';
import type { ShipResponse as _blockship_v1_ShipResponse, ShipResponse__Output as _blockship_v1_ShipResponse__Output } from './blockship/v1/ShipResponse';
import type { WalBatch as _blockship_v1_WalBatch, WalBatch__Output as _blockship_v1_WalBatch__Output } from './blockship/v1/WalBatch';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  blockship: {
    v1: {
      Barrier: MessageTypeDefinition<_blockship_v1_Barrier, _blockship_v1_Barrier__Output>
      BarrierResponse: MessageTypeDefinition<_blockship_v1_BarrierResponse, _blockship_v1_BarrierResponse__Output>
      BlockRange: MessageTypeDefinition<_blockship_v1_BlockRange, _blockship_v1_BlockRange__Output>
      DurabilityMode: EnumTypeDefinition
      Generation: MessageTypeDefinition<_blockship_v1_Generation, _blockship_v1_Generation__Output>
      HandshakeRequest: MessageTypeDefinition<_blockship_v1_HandshakeRequest, _blockship_v1_HandshakeRequest__Output>
      HandshakeResponse: MessageTypeDefinition<_blockship_v1_HandshakeResponse, _blockship_v1_HandshakeResponse__Output>
      ItemStatus: MessageTypeDefinition<_blockship_v1_ItemStatus, _blockship_v1_ItemStatus__Output>
      RecordId: MessageTypeDefinition<_blockship_v1_RecordId, _blockship_v1_RecordId__Output>
      RecoveryKind: EnumTypeDefinition
      ReplicaTarget: MessageTypeDefinition<_blockship_v1_ReplicaTarget, _blockship_v1_ReplicaTarget__Output>
      /**
       * Replication is served by every agent and called by the primary of a volume on each of its
       * replicas. A replica accepts calls only from the primary it was assigned (by server_id) at
       * its current epoch. Error reasons and codes are listed in blockship/v1/common.proto.
       */
      Replication: SubtypeConstructor<typeof grpc.Client, _blockship_v1_ReplicationClient> & { service: _blockship_v1_ReplicationDefinition }
      ResyncAck: MessageTypeDefinition<_blockship_v1_ResyncAck, _blockship_v1_ResyncAck__Output>
      ResyncBegin: MessageTypeDefinition<_blockship_v1_ResyncBegin, _blockship_v1_ResyncBegin__Output>
      ResyncBlocks: MessageTypeDefinition<_blockship_v1_ResyncBlocks, _blockship_v1_ResyncBlocks__Output>
      ResyncCommit: MessageTypeDefinition<_blockship_v1_ResyncCommit, _blockship_v1_ResyncCommit__Output>
      ResyncCommitted: MessageTypeDefinition<_blockship_v1_ResyncCommitted, _blockship_v1_ResyncCommitted__Output>
      ResyncRanges: MessageTypeDefinition<_blockship_v1_ResyncRanges, _blockship_v1_ResyncRanges__Output>
      ResyncRangesDone: MessageTypeDefinition<_blockship_v1_ResyncRangesDone, _blockship_v1_ResyncRangesDone__Output>
      ResyncRequest: MessageTypeDefinition<_blockship_v1_ResyncRequest, _blockship_v1_ResyncRequest__Output>
      ResyncResponse: MessageTypeDefinition<_blockship_v1_ResyncResponse, _blockship_v1_ResyncResponse__Output>
      ResyncStatus: MessageTypeDefinition<_blockship_v1_ResyncStatus, _blockship_v1_ResyncStatus__Output>
      Role: EnumTypeDefinition
      SenderState: EnumTypeDefinition
      SessionKind: EnumTypeDefinition
      SessionPhase: EnumTypeDefinition
      ShipAck: MessageTypeDefinition<_blockship_v1_ShipAck, _blockship_v1_ShipAck__Output>
      ShipRequest: MessageTypeDefinition<_blockship_v1_ShipRequest, _blockship_v1_ShipRequest__Output>
      ShipResponse: MessageTypeDefinition<_blockship_v1_ShipResponse, _blockship_v1_ShipResponse__Output>
      VolumeMode: EnumTypeDefinition
      WalBatch: MessageTypeDefinition<_blockship_v1_WalBatch, _blockship_v1_WalBatch__Output>
    }
  }
}

