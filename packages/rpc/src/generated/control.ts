import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AllocateVolumeRequest as _blockship_v1_AllocateVolumeRequest, AllocateVolumeRequest__Output as _blockship_v1_AllocateVolumeRequest__Output } from './blockship/v1/AllocateVolumeRequest';
import type { AllocateVolumeResponse as _blockship_v1_AllocateVolumeResponse, AllocateVolumeResponse__Output as _blockship_v1_AllocateVolumeResponse__Output } from './blockship/v1/AllocateVolumeResponse';
import type { ApplyAssignmentsRequest as _blockship_v1_ApplyAssignmentsRequest, ApplyAssignmentsRequest__Output as _blockship_v1_ApplyAssignmentsRequest__Output } from './blockship/v1/ApplyAssignmentsRequest';
import type { ApplyAssignmentsResponse as _blockship_v1_ApplyAssignmentsResponse, ApplyAssignmentsResponse__Output as _blockship_v1_ApplyAssignmentsResponse__Output } from './blockship/v1/ApplyAssignmentsResponse';
import type { Assignment as _blockship_v1_Assignment, Assignment__Output as _blockship_v1_Assignment__Output } from './blockship/v1/Assignment';
import type { AssignmentResult as _blockship_v1_AssignmentResult, AssignmentResult__Output as _blockship_v1_AssignmentResult__Output } from './blockship/v1/AssignmentResult';
import type { CancelRecoveryRequest as _blockship_v1_CancelRecoveryRequest, CancelRecoveryRequest__Output as _blockship_v1_CancelRecoveryRequest__Output } from './blockship/v1/CancelRecoveryRequest';
import type { CancelRecoveryResponse as _blockship_v1_CancelRecoveryResponse, CancelRecoveryResponse__Output as _blockship_v1_CancelRecoveryResponse__Output } from './blockship/v1/CancelRecoveryResponse';
import type { ControlClient as _blockship_v1_ControlClient, ControlDefinition as _blockship_v1_ControlDefinition } from './blockship/v1/Control';
import type { DeleteVolumeRequest as _blockship_v1_DeleteVolumeRequest, DeleteVolumeRequest__Output as _blockship_v1_DeleteVolumeRequest__Output } from './blockship/v1/DeleteVolumeRequest';
import type { DeleteVolumeResponse as _blockship_v1_DeleteVolumeResponse, DeleteVolumeResponse__Output as _blockship_v1_DeleteVolumeResponse__Output } from './blockship/v1/DeleteVolumeResponse';
import type { GetProtocolStateRequest as _blockship_v1_GetProtocolStateRequest, GetProtocolStateRequest__Output as _blockship_v1_GetProtocolStateRequest__Output } from './blockship/v1/GetProtocolStateRequest';
import type { GetProtocolStateResponse as _blockship_v1_GetProtocolStateResponse, GetProtocolStateResponse__Output as _blockship_v1_GetProtocolStateResponse__Output } from './blockship/v1/GetProtocolStateResponse';
import type { GetStatusRequest as _blockship_v1_GetStatusRequest, GetStatusRequest__Output as _blockship_v1_GetStatusRequest__Output } from './blockship/v1/GetStatusRequest';
import type { GetStatusResponse as _blockship_v1_GetStatusResponse, GetStatusResponse__Output as _blockship_v1_GetStatusResponse__Output } from './blockship/v1/GetStatusResponse';
import type { ItemStatus as _blockship_v1_ItemStatus, ItemStatus__Output as _blockship_v1_ItemStatus__Output } from './blockship/v1/ItemStatus';
import type { LeaseGrant as _blockship_v1_LeaseGrant, LeaseGrant__Output as _blockship_v1_LeaseGrant__Output } from './blockship/v1/LeaseGrant';
import type { LeaseResult as _blockship_v1_LeaseResult, LeaseResult__Output as _blockship_v1_LeaseResult__Output } from './blockship/v1/LeaseResult';
import type { NbdConnection as _blockship_v1_NbdConnection, NbdConnection__Output as _blockship_v1_NbdConnection__Output } from './blockship/v1/NbdConnection';
import type { RebuildSummary as _blockship_v1_RebuildSummary, RebuildSummary__Output as _blockship_v1_RebuildSummary__Output } from './blockship/v1/RebuildSummary';
import type { RenewLeasesRequest as _blockship_v1_RenewLeasesRequest, RenewLeasesRequest__Output as _blockship_v1_RenewLeasesRequest__Output } from './blockship/v1/RenewLeasesRequest';
import type { RenewLeasesResponse as _blockship_v1_RenewLeasesResponse, RenewLeasesResponse__Output as _blockship_v1_RenewLeasesResponse__Output } from './blockship/v1/RenewLeasesResponse';
import type { ReplicaExecutionState as _blockship_v1_ReplicaExecutionState, ReplicaExecutionState__Output as _blockship_v1_ReplicaExecutionState__Output } from './blockship/v1/ReplicaExecutionState';
import type { ReplicaStatus as _blockship_v1_ReplicaStatus, ReplicaStatus__Output as _blockship_v1_ReplicaStatus__Output } from './blockship/v1/ReplicaStatus';
import type { ReplicaTarget as _blockship_v1_ReplicaTarget, ReplicaTarget__Output as _blockship_v1_ReplicaTarget__Output } from './blockship/v1/ReplicaTarget';
import type { ResyncProgress as _blockship_v1_ResyncProgress, ResyncProgress__Output as _blockship_v1_ResyncProgress__Output } from './blockship/v1/ResyncProgress';
import type { ResyncSummary as _blockship_v1_ResyncSummary, ResyncSummary__Output as _blockship_v1_ResyncSummary__Output } from './blockship/v1/ResyncSummary';
import type { StartRecoveryRequest as _blockship_v1_StartRecoveryRequest, StartRecoveryRequest__Output as _blockship_v1_StartRecoveryRequest__Output } from './blockship/v1/StartRecoveryRequest';
import type { StartRecoveryResponse as _blockship_v1_StartRecoveryResponse, StartRecoveryResponse__Output as _blockship_v1_StartRecoveryResponse__Output } from './blockship/v1/StartRecoveryResponse';
import type { StatusReport as _blockship_v1_StatusReport, StatusReport__Output as _blockship_v1_StatusReport__Output } from './blockship/v1/StatusReport';
import type { VolumeStatus as _blockship_v1_VolumeStatus, VolumeStatus__Output as _blockship_v1_VolumeStatus__Output } from './blockship/v1/VolumeStatus';
import type { WalBatch as _blockship_v1_WalBatch, WalBatch__Output as _blockship_v1_WalBatch__Output } from './blockship/v1/WalBatch';
import type { WatchStatusRequest as _blockship_v1_WatchStatusRequest, WatchStatusRequest__Output as _blockship_v1_WatchStatusRequest__Output } from './blockship/v1/WatchStatusRequest';
import type { WatchStatusResponse as _blockship_v1_WatchStatusResponse, WatchStatusResponse__Output as _blockship_v1_WatchStatusResponse__Output } from './blockship/v1/WatchStatusResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  blockship: {
    v1: {
      AllocateVolumeRequest: MessageTypeDefinition<_blockship_v1_AllocateVolumeRequest, _blockship_v1_AllocateVolumeRequest__Output>
      AllocateVolumeResponse: MessageTypeDefinition<_blockship_v1_AllocateVolumeResponse, _blockship_v1_AllocateVolumeResponse__Output>
      ApplyAssignmentsRequest: MessageTypeDefinition<_blockship_v1_ApplyAssignmentsRequest, _blockship_v1_ApplyAssignmentsRequest__Output>
      ApplyAssignmentsResponse: MessageTypeDefinition<_blockship_v1_ApplyAssignmentsResponse, _blockship_v1_ApplyAssignmentsResponse__Output>
      Assignment: MessageTypeDefinition<_blockship_v1_Assignment, _blockship_v1_Assignment__Output>
      AssignmentResult: MessageTypeDefinition<_blockship_v1_AssignmentResult, _blockship_v1_AssignmentResult__Output>
      CancelRecoveryRequest: MessageTypeDefinition<_blockship_v1_CancelRecoveryRequest, _blockship_v1_CancelRecoveryRequest__Output>
      CancelRecoveryResponse: MessageTypeDefinition<_blockship_v1_CancelRecoveryResponse, _blockship_v1_CancelRecoveryResponse__Output>
      /**
       * Control is served by every agent (primary and replica alike: a role changes with
       * failover). The master pushes assignments and lease renewals and pulls or watches status.
       * Error reasons and codes are listed in blockship/v1/common.proto.
       * 
       * Leases and deadlines. Send every ApplyAssignments and RenewLeases with a gRPC deadline. The
       * agent refuses an assignment or grant that it reaches after the call's deadline (item status
       * DEADLINE_EXCEEDED deadline_exceeded; nothing changes), and counts a granted lease from the
       * call's arrival, never from the later moment it was applied. So a primary's lease never outlives
       * the grant's deadline plus its lease_ttl_ms, and the master's rule is: a new primary for a volume
       * may be chosen only after the old primary's last grant deadline plus that grant's lease_ttl_ms
       * has passed (on the master's clock, plus a margin for clock rate drift). gRPC carries deadlines
       * as relative timeouts, so time a request spends in transit before it arrives is not seen by the
       * agent; the master's margin must cover it. Promotion to ROLE_PRIMARY needs an epoch above the
       * copy's current one (REPLICA at epoch e → PRIMARY at e is refused with epoch_stale).
       */
      Control: SubtypeConstructor<typeof grpc.Client, _blockship_v1_ControlClient> & { service: _blockship_v1_ControlDefinition }
      DeleteVolumeRequest: MessageTypeDefinition<_blockship_v1_DeleteVolumeRequest, _blockship_v1_DeleteVolumeRequest__Output>
      DeleteVolumeResponse: MessageTypeDefinition<_blockship_v1_DeleteVolumeResponse, _blockship_v1_DeleteVolumeResponse__Output>
      DurabilityMode: EnumTypeDefinition
      GetProtocolStateRequest: MessageTypeDefinition<_blockship_v1_GetProtocolStateRequest, _blockship_v1_GetProtocolStateRequest__Output>
      GetProtocolStateResponse: MessageTypeDefinition<_blockship_v1_GetProtocolStateResponse, _blockship_v1_GetProtocolStateResponse__Output>
      GetStatusRequest: MessageTypeDefinition<_blockship_v1_GetStatusRequest, _blockship_v1_GetStatusRequest__Output>
      GetStatusResponse: MessageTypeDefinition<_blockship_v1_GetStatusResponse, _blockship_v1_GetStatusResponse__Output>
      ItemStatus: MessageTypeDefinition<_blockship_v1_ItemStatus, _blockship_v1_ItemStatus__Output>
      LeaseGrant: MessageTypeDefinition<_blockship_v1_LeaseGrant, _blockship_v1_LeaseGrant__Output>
      LeaseResult: MessageTypeDefinition<_blockship_v1_LeaseResult, _blockship_v1_LeaseResult__Output>
      NbdConnection: MessageTypeDefinition<_blockship_v1_NbdConnection, _blockship_v1_NbdConnection__Output>
      RebuildSummary: MessageTypeDefinition<_blockship_v1_RebuildSummary, _blockship_v1_RebuildSummary__Output>
      RecoveryKind: EnumTypeDefinition
      RenewLeasesRequest: MessageTypeDefinition<_blockship_v1_RenewLeasesRequest, _blockship_v1_RenewLeasesRequest__Output>
      RenewLeasesResponse: MessageTypeDefinition<_blockship_v1_RenewLeasesResponse, _blockship_v1_RenewLeasesResponse__Output>
      ReplicaExecutionState: MessageTypeDefinition<_blockship_v1_ReplicaExecutionState, _blockship_v1_ReplicaExecutionState__Output>
      ReplicaStatus: MessageTypeDefinition<_blockship_v1_ReplicaStatus, _blockship_v1_ReplicaStatus__Output>
      ReplicaTarget: MessageTypeDefinition<_blockship_v1_ReplicaTarget, _blockship_v1_ReplicaTarget__Output>
      ResyncProgress: MessageTypeDefinition<_blockship_v1_ResyncProgress, _blockship_v1_ResyncProgress__Output>
      ResyncSummary: MessageTypeDefinition<_blockship_v1_ResyncSummary, _blockship_v1_ResyncSummary__Output>
      Role: EnumTypeDefinition
      SenderState: EnumTypeDefinition
      SessionKind: EnumTypeDefinition
      SessionPhase: EnumTypeDefinition
      StartRecoveryRequest: MessageTypeDefinition<_blockship_v1_StartRecoveryRequest, _blockship_v1_StartRecoveryRequest__Output>
      StartRecoveryResponse: MessageTypeDefinition<_blockship_v1_StartRecoveryResponse, _blockship_v1_StartRecoveryResponse__Output>
      StatusReport: MessageTypeDefinition<_blockship_v1_StatusReport, _blockship_v1_StatusReport__Output>
      StatusTrigger: EnumTypeDefinition
      VolumeMode: EnumTypeDefinition
      VolumeStatus: MessageTypeDefinition<_blockship_v1_VolumeStatus, _blockship_v1_VolumeStatus__Output>
      WalBatch: MessageTypeDefinition<_blockship_v1_WalBatch, _blockship_v1_WalBatch__Output>
      WatchStatusRequest: MessageTypeDefinition<_blockship_v1_WatchStatusRequest, _blockship_v1_WatchStatusRequest__Output>
      WatchStatusResponse: MessageTypeDefinition<_blockship_v1_WatchStatusResponse, _blockship_v1_WatchStatusResponse__Output>
    }
  }
}

