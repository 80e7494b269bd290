// Original file: proto/blockship/v1/control.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AllocateVolumeRequest as _blockship_v1_AllocateVolumeRequest, AllocateVolumeRequest__Output as _blockship_v1_AllocateVolumeRequest__Output } from '../../blockship/v1/AllocateVolumeRequest';
import type { AllocateVolumeResponse as _blockship_v1_AllocateVolumeResponse, AllocateVolumeResponse__Output as _blockship_v1_AllocateVolumeResponse__Output } from '../../blockship/v1/AllocateVolumeResponse';
import type { ApplyAssignmentsRequest as _blockship_v1_ApplyAssignmentsRequest, ApplyAssignmentsRequest__Output as _blockship_v1_ApplyAssignmentsRequest__Output } from '../../blockship/v1/ApplyAssignmentsRequest';
import type { ApplyAssignmentsResponse as _blockship_v1_ApplyAssignmentsResponse, ApplyAssignmentsResponse__Output as _blockship_v1_ApplyAssignmentsResponse__Output } from '../../blockship/v1/ApplyAssignmentsResponse';
import type { CancelRecoveryRequest as _blockship_v1_CancelRecoveryRequest, CancelRecoveryRequest__Output as _blockship_v1_CancelRecoveryRequest__Output } from '../../blockship/v1/CancelRecoveryRequest';
import type { CancelRecoveryResponse as _blockship_v1_CancelRecoveryResponse, CancelRecoveryResponse__Output as _blockship_v1_CancelRecoveryResponse__Output } from '../../blockship/v1/CancelRecoveryResponse';
import type { DeleteVolumeRequest as _blockship_v1_DeleteVolumeRequest, DeleteVolumeRequest__Output as _blockship_v1_DeleteVolumeRequest__Output } from '../../blockship/v1/DeleteVolumeRequest';
import type { DeleteVolumeResponse as _blockship_v1_DeleteVolumeResponse, DeleteVolumeResponse__Output as _blockship_v1_DeleteVolumeResponse__Output } from '../../blockship/v1/DeleteVolumeResponse';
import type { GetProtocolStateRequest as _blockship_v1_GetProtocolStateRequest, GetProtocolStateRequest__Output as _blockship_v1_GetProtocolStateRequest__Output } from '../../blockship/v1/GetProtocolStateRequest';
import type { GetProtocolStateResponse as _blockship_v1_GetProtocolStateResponse, GetProtocolStateResponse__Output as _blockship_v1_GetProtocolStateResponse__Output } from '../../blockship/v1/GetProtocolStateResponse';
import type { GetStatusRequest as _blockship_v1_GetStatusRequest, GetStatusRequest__Output as _blockship_v1_GetStatusRequest__Output } from '../../blockship/v1/GetStatusRequest';
import type { GetStatusResponse as _blockship_v1_GetStatusResponse, GetStatusResponse__Output as _blockship_v1_GetStatusResponse__Output } from '../../blockship/v1/GetStatusResponse';
import type { RenewLeasesRequest as _blockship_v1_RenewLeasesRequest, RenewLeasesRequest__Output as _blockship_v1_RenewLeasesRequest__Output } from '../../blockship/v1/RenewLeasesRequest';
import type { RenewLeasesResponse as _blockship_v1_RenewLeasesResponse, RenewLeasesResponse__Output as _blockship_v1_RenewLeasesResponse__Output } from '../../blockship/v1/RenewLeasesResponse';
import type { StartRecoveryRequest as _blockship_v1_StartRecoveryRequest, StartRecoveryRequest__Output as _blockship_v1_StartRecoveryRequest__Output } from '../../blockship/v1/StartRecoveryRequest';
import type { StartRecoveryResponse as _blockship_v1_StartRecoveryResponse, StartRecoveryResponse__Output as _blockship_v1_StartRecoveryResponse__Output } from '../../blockship/v1/StartRecoveryResponse';
import type { WatchStatusRequest as _blockship_v1_WatchStatusRequest, WatchStatusRequest__Output as _blockship_v1_WatchStatusRequest__Output } from '../../blockship/v1/WatchStatusRequest';
import type { WatchStatusResponse as _blockship_v1_WatchStatusResponse, WatchStatusResponse__Output as _blockship_v1_WatchStatusResponse__Output } from '../../blockship/v1/WatchStatusResponse';

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
export interface ControlClient extends grpc.Client {
  /**
   * Creates a volume (device file) on this agent in role NONE. Idempotent: an existing
   * volume with identical parameters is answered OK with created = false.
   * Errors: invalid_argument (bad size/block size/WAL size/mode), volume_exists (parameters
   * differ from the existing volume), internal (device creation failed; nothing is left behind).
   */
  AllocateVolume(argument: _blockship_v1_AllocateVolumeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_AllocateVolumeResponse__Output>): grpc.ClientUnaryCall;
  AllocateVolume(argument: _blockship_v1_AllocateVolumeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_AllocateVolumeResponse__Output>): grpc.ClientUnaryCall;
  AllocateVolume(argument: _blockship_v1_AllocateVolumeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_AllocateVolumeResponse__Output>): grpc.ClientUnaryCall;
  AllocateVolume(argument: _blockship_v1_AllocateVolumeRequest, callback: grpc.requestCallback<_blockship_v1_AllocateVolumeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Creates a volume (device file) on this agent in role NONE. Idempotent: an existing
   * volume with identical parameters is answered OK with created = false.
   * Errors: invalid_argument (bad size/block size/WAL size/mode), volume_exists (parameters
   * differ from the existing volume), internal (device creation failed; nothing is left behind).
   */
  allocateVolume(argument: _blockship_v1_AllocateVolumeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_AllocateVolumeResponse__Output>): grpc.ClientUnaryCall;
  allocateVolume(argument: _blockship_v1_AllocateVolumeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_AllocateVolumeResponse__Output>): grpc.ClientUnaryCall;
  allocateVolume(argument: _blockship_v1_AllocateVolumeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_AllocateVolumeResponse__Output>): grpc.ClientUnaryCall;
  allocateVolume(argument: _blockship_v1_AllocateVolumeRequest, callback: grpc.requestCallback<_blockship_v1_AllocateVolumeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Applies a batch of assignments, in order, and returns one result per item (same order).
   * The RPC itself fails only for a malformed request as a whole (INVALID_ARGUMENT
   * invalid_argument, e.g. more than 1024 items); item failures are reported per item with
   * reasons invalid_argument, volume_not_found, epoch_regression, invalid_role_transition,
   * epoch_stale (promotion without a higher epoch), deadline_exceeded, drain_timeout or internal,
   * and the rest of the batch still runs.
   * Idempotent: re-delivering an assignment identical to the applied one is a no-op
   * answered OK with unchanged = true. The epoch is persisted before the role that uses it
   * takes effect; after every batch the per-replica protocol state (phase gate) is re-derived.
   */
  ApplyAssignments(argument: _blockship_v1_ApplyAssignmentsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_ApplyAssignmentsResponse__Output>): grpc.ClientUnaryCall;
  ApplyAssignments(argument: _blockship_v1_ApplyAssignmentsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_ApplyAssignmentsResponse__Output>): grpc.ClientUnaryCall;
  ApplyAssignments(argument: _blockship_v1_ApplyAssignmentsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_ApplyAssignmentsResponse__Output>): grpc.ClientUnaryCall;
  ApplyAssignments(argument: _blockship_v1_ApplyAssignmentsRequest, callback: grpc.requestCallback<_blockship_v1_ApplyAssignmentsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Applies a batch of assignments, in order, and returns one result per item (same order).
   * The RPC itself fails only for a malformed request as a whole (INVALID_ARGUMENT
   * invalid_argument, e.g. more than 1024 items); item failures are reported per item with
   * reasons invalid_argument, volume_not_found, epoch_regression, invalid_role_transition,
   * epoch_stale (promotion without a higher epoch), deadline_exceeded, drain_timeout or internal,
   * and the rest of the batch still runs.
   * Idempotent: re-delivering an assignment identical to the applied one is a no-op
   * answered OK with unchanged = true. The epoch is persisted before the role that uses it
   * takes effect; after every batch the per-replica protocol state (phase gate) is re-derived.
   */
  applyAssignments(argument: _blockship_v1_ApplyAssignmentsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_ApplyAssignmentsResponse__Output>): grpc.ClientUnaryCall;
  applyAssignments(argument: _blockship_v1_ApplyAssignmentsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_ApplyAssignmentsResponse__Output>): grpc.ClientUnaryCall;
  applyAssignments(argument: _blockship_v1_ApplyAssignmentsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_ApplyAssignmentsResponse__Output>): grpc.ClientUnaryCall;
  applyAssignments(argument: _blockship_v1_ApplyAssignmentsRequest, callback: grpc.requestCallback<_blockship_v1_ApplyAssignmentsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Cancels the active recovery session of one replica (if any) and re-derives the phase gate.
   * Idempotent: with no active session it answers OK with cancelled = false.
   * Errors: invalid_argument, volume_not_found, replica_not_found, epoch_stale.
   */
  CancelRecovery(argument: _blockship_v1_CancelRecoveryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_CancelRecoveryResponse__Output>): grpc.ClientUnaryCall;
  CancelRecovery(argument: _blockship_v1_CancelRecoveryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_CancelRecoveryResponse__Output>): grpc.ClientUnaryCall;
  CancelRecovery(argument: _blockship_v1_CancelRecoveryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_CancelRecoveryResponse__Output>): grpc.ClientUnaryCall;
  CancelRecovery(argument: _blockship_v1_CancelRecoveryRequest, callback: grpc.requestCallback<_blockship_v1_CancelRecoveryResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Cancels the active recovery session of one replica (if any) and re-derives the phase gate.
   * Idempotent: with no active session it answers OK with cancelled = false.
   * Errors: invalid_argument, volume_not_found, replica_not_found, epoch_stale.
   */
  cancelRecovery(argument: _blockship_v1_CancelRecoveryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_CancelRecoveryResponse__Output>): grpc.ClientUnaryCall;
  cancelRecovery(argument: _blockship_v1_CancelRecoveryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_CancelRecoveryResponse__Output>): grpc.ClientUnaryCall;
  cancelRecovery(argument: _blockship_v1_CancelRecoveryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_CancelRecoveryResponse__Output>): grpc.ClientUnaryCall;
  cancelRecovery(argument: _blockship_v1_CancelRecoveryRequest, callback: grpc.requestCallback<_blockship_v1_CancelRecoveryResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Closes and deletes a volume and its device file. Idempotent: a missing volume is
   * answered OK with existed = false. Errors: invalid_argument, internal.
   */
  DeleteVolume(argument: _blockship_v1_DeleteVolumeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_DeleteVolumeResponse__Output>): grpc.ClientUnaryCall;
  DeleteVolume(argument: _blockship_v1_DeleteVolumeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_DeleteVolumeResponse__Output>): grpc.ClientUnaryCall;
  DeleteVolume(argument: _blockship_v1_DeleteVolumeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_DeleteVolumeResponse__Output>): grpc.ClientUnaryCall;
  DeleteVolume(argument: _blockship_v1_DeleteVolumeRequest, callback: grpc.requestCallback<_blockship_v1_DeleteVolumeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Closes and deletes a volume and its device file. Idempotent: a missing volume is
   * answered OK with existed = false. Errors: invalid_argument, internal.
   */
  deleteVolume(argument: _blockship_v1_DeleteVolumeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_DeleteVolumeResponse__Output>): grpc.ClientUnaryCall;
  deleteVolume(argument: _blockship_v1_DeleteVolumeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_DeleteVolumeResponse__Output>): grpc.ClientUnaryCall;
  deleteVolume(argument: _blockship_v1_DeleteVolumeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_DeleteVolumeResponse__Output>): grpc.ClientUnaryCall;
  deleteVolume(argument: _blockship_v1_DeleteVolumeRequest, callback: grpc.requestCallback<_blockship_v1_DeleteVolumeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Returns the per-replica execution state that drives the live-shipping phase gate
   * (a replica with an active recovery session gets no live-tail WAL entries).
   * Errors: invalid_argument, volume_not_found.
   */
  GetProtocolState(argument: _blockship_v1_GetProtocolStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_GetProtocolStateResponse__Output>): grpc.ClientUnaryCall;
  GetProtocolState(argument: _blockship_v1_GetProtocolStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_GetProtocolStateResponse__Output>): grpc.ClientUnaryCall;
  GetProtocolState(argument: _blockship_v1_GetProtocolStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_GetProtocolStateResponse__Output>): grpc.ClientUnaryCall;
  GetProtocolState(argument: _blockship_v1_GetProtocolStateRequest, callback: grpc.requestCallback<_blockship_v1_GetProtocolStateResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Returns the per-replica execution state that drives the live-shipping phase gate
   * (a replica with an active recovery session gets no live-tail WAL entries).
   * Errors: invalid_argument, volume_not_found.
   */
  getProtocolState(argument: _blockship_v1_GetProtocolStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_GetProtocolStateResponse__Output>): grpc.ClientUnaryCall;
  getProtocolState(argument: _blockship_v1_GetProtocolStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_GetProtocolStateResponse__Output>): grpc.ClientUnaryCall;
  getProtocolState(argument: _blockship_v1_GetProtocolStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_GetProtocolStateResponse__Output>): grpc.ClientUnaryCall;
  getProtocolState(argument: _blockship_v1_GetProtocolStateRequest, callback: grpc.requestCallback<_blockship_v1_GetProtocolStateResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Returns a status snapshot of the listed volumes (all volumes when the list is empty).
   * Unknown volume ids are left out of the report rather than failing the call.
   */
  GetStatus(argument: _blockship_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _blockship_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _blockship_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _blockship_v1_GetStatusRequest, callback: grpc.requestCallback<_blockship_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Returns a status snapshot of the listed volumes (all volumes when the list is empty).
   * Unknown volume ids are left out of the report rather than failing the call.
   */
  getStatus(argument: _blockship_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _blockship_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _blockship_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _blockship_v1_GetStatusRequest, callback: grpc.requestCallback<_blockship_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Extends the write lease of primaries, one result per grant (same order). A grant applies
   * only to a volume in role PRIMARY at exactly the given epoch; otherwise the item fails with
   * volume_not_found, not_primary, epoch_stale or deadline_exceeded (reached after the call's
   * deadline). Renew at most every lease_ttl_ms / 3.
   */
  RenewLeases(argument: _blockship_v1_RenewLeasesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_RenewLeasesResponse__Output>): grpc.ClientUnaryCall;
  RenewLeases(argument: _blockship_v1_RenewLeasesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_RenewLeasesResponse__Output>): grpc.ClientUnaryCall;
  RenewLeases(argument: _blockship_v1_RenewLeasesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_RenewLeasesResponse__Output>): grpc.ClientUnaryCall;
  RenewLeases(argument: _blockship_v1_RenewLeasesRequest, callback: grpc.requestCallback<_blockship_v1_RenewLeasesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Extends the write lease of primaries, one result per grant (same order). A grant applies
   * only to a volume in role PRIMARY at exactly the given epoch; otherwise the item fails with
   * volume_not_found, not_primary, epoch_stale or deadline_exceeded (reached after the call's
   * deadline). Renew at most every lease_ttl_ms / 3.
   */
  renewLeases(argument: _blockship_v1_RenewLeasesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_RenewLeasesResponse__Output>): grpc.ClientUnaryCall;
  renewLeases(argument: _blockship_v1_RenewLeasesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_RenewLeasesResponse__Output>): grpc.ClientUnaryCall;
  renewLeases(argument: _blockship_v1_RenewLeasesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_RenewLeasesResponse__Output>): grpc.ClientUnaryCall;
  renewLeases(argument: _blockship_v1_RenewLeasesRequest, callback: grpc.requestCallback<_blockship_v1_RenewLeasesResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Starts an operator-driven catch-up session for one replica of a primary, superseding any
   * active session of that replica, and re-derives the phase gate. A rebuild is pulled by the
   * copy itself (Rebuild.StreamBase): the master assigns that replica ROLE_REBUILDING with
   * primary_address = this agent; RECOVERY_KIND_REBUILD here answers rebuild_by_assignment.
   * Errors: invalid_argument, volume_not_found, replica_not_found, not_primary, epoch_stale,
   * rebuild_by_assignment.
   */
  StartRecovery(argument: _blockship_v1_StartRecoveryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_StartRecoveryResponse__Output>): grpc.ClientUnaryCall;
  StartRecovery(argument: _blockship_v1_StartRecoveryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_StartRecoveryResponse__Output>): grpc.ClientUnaryCall;
  StartRecovery(argument: _blockship_v1_StartRecoveryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_StartRecoveryResponse__Output>): grpc.ClientUnaryCall;
  StartRecovery(argument: _blockship_v1_StartRecoveryRequest, callback: grpc.requestCallback<_blockship_v1_StartRecoveryResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Starts an operator-driven catch-up session for one replica of a primary, superseding any
   * active session of that replica, and re-derives the phase gate. A rebuild is pulled by the
   * copy itself (Rebuild.StreamBase): the master assigns that replica ROLE_REBUILDING with
   * primary_address = this agent; RECOVERY_KIND_REBUILD here answers rebuild_by_assignment.
   * Errors: invalid_argument, volume_not_found, replica_not_found, not_primary, epoch_stale,
   * rebuild_by_assignment.
   */
  startRecovery(argument: _blockship_v1_StartRecoveryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_StartRecoveryResponse__Output>): grpc.ClientUnaryCall;
  startRecovery(argument: _blockship_v1_StartRecoveryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_blockship_v1_StartRecoveryResponse__Output>): grpc.ClientUnaryCall;
  startRecovery(argument: _blockship_v1_StartRecoveryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_blockship_v1_StartRecoveryResponse__Output>): grpc.ClientUnaryCall;
  startRecovery(argument: _blockship_v1_StartRecoveryRequest, callback: grpc.requestCallback<_blockship_v1_StartRecoveryResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Streams status reports: an initial snapshot at once, then a report whenever a volume's
   * role, epoch, mode, sender state or session changes (coalesced), and at least every
   * interval_ms. The stream ends only when the client cancels or the agent shuts down
   * (UNAVAILABLE shutting_down). Errors: invalid_argument (interval out of range).
   */
  WatchStatus(argument: _blockship_v1_WatchStatusRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_blockship_v1_WatchStatusResponse__Output>;
  WatchStatus(argument: _blockship_v1_WatchStatusRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_blockship_v1_WatchStatusResponse__Output>;
  /**
   * Streams status reports: an initial snapshot at once, then a report whenever a volume's
   * role, epoch, mode, sender state or session changes (coalesced), and at least every
   * interval_ms. The stream ends only when the client cancels or the agent shuts down
   * (UNAVAILABLE shutting_down). Errors: invalid_argument (interval out of range).
   */
  watchStatus(argument: _blockship_v1_WatchStatusRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_blockship_v1_WatchStatusResponse__Output>;
  watchStatus(argument: _blockship_v1_WatchStatusRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_blockship_v1_WatchStatusResponse__Output>;
  
}

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
export interface ControlHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Creates a volume (device file) on this agent in role NONE. Idempotent: an existing
   * volume with identical parameters is answered OK with created = false.
   * Errors: invalid_argument (bad size/block size/WAL size/mode), volume_exists (parameters
   * differ from the existing volume), internal (device creation failed; nothing is left behind).
   */
  AllocateVolume: grpc.handleUnaryCall<_blockship_v1_AllocateVolumeRequest__Output, _blockship_v1_AllocateVolumeResponse>;
  
  /**
   * Applies a batch of assignments, in order, and returns one result per item (same order).
   * The RPC itself fails only for a malformed request as a whole (INVALID_ARGUMENT
   * invalid_argument, e.g. more than 1024 items); item failures are reported per item with
   * reasons invalid_argument, volume_not_found, epoch_regression, invalid_role_transition,
   * epoch_stale (promotion without a higher epoch), deadline_exceeded, drain_timeout or internal,
   * and the rest of the batch still runs.
   * Idempotent: re-delivering an assignment identical to the applied one is a no-op
   * answered OK with unchanged = true. The epoch is persisted before the role that uses it
   * takes effect; after every batch the per-replica protocol state (phase gate) is re-derived.
   */
  ApplyAssignments: grpc.handleUnaryCall<_blockship_v1_ApplyAssignmentsRequest__Output, _blockship_v1_ApplyAssignmentsResponse>;
  
  /**
   * Cancels the active recovery session of one replica (if any) and re-derives the phase gate.
   * Idempotent: with no active session it answers OK with cancelled = false.
   * Errors: invalid_argument, volume_not_found, replica_not_found, epoch_stale.
   */
  CancelRecovery: grpc.handleUnaryCall<_blockship_v1_CancelRecoveryRequest__Output, _blockship_v1_CancelRecoveryResponse>;
  
  /**
   * Closes and deletes a volume and its device file. Idempotent: a missing volume is
   * answered OK with existed = false. Errors: invalid_argument, internal.
   */
  DeleteVolume: grpc.handleUnaryCall<_blockship_v1_DeleteVolumeRequest__Output, _blockship_v1_DeleteVolumeResponse>;
  
  /**
   * Returns the per-replica execution state that drives the live-shipping phase gate
   * (a replica with an active recovery session gets no live-tail WAL entries).
   * Errors: invalid_argument, volume_not_found.
   */
  GetProtocolState: grpc.handleUnaryCall<_blockship_v1_GetProtocolStateRequest__Output, _blockship_v1_GetProtocolStateResponse>;
  
  /**
   * Returns a status snapshot of the listed volumes (all volumes when the list is empty).
   * Unknown volume ids are left out of the report rather than failing the call.
   */
  GetStatus: grpc.handleUnaryCall<_blockship_v1_GetStatusRequest__Output, _blockship_v1_GetStatusResponse>;
  
  /**
   * Extends the write lease of primaries, one result per grant (same order). A grant applies
   * only to a volume in role PRIMARY at exactly the given epoch; otherwise the item fails with
   * volume_not_found, not_primary, epoch_stale or deadline_exceeded (reached after the call's
   * deadline). Renew at most every lease_ttl_ms / 3.
   */
  RenewLeases: grpc.handleUnaryCall<_blockship_v1_RenewLeasesRequest__Output, _blockship_v1_RenewLeasesResponse>;
  
  /**
   * Starts an operator-driven catch-up session for one replica of a primary, superseding any
   * active session of that replica, and re-derives the phase gate. A rebuild is pulled by the
   * copy itself (Rebuild.StreamBase): the master assigns that replica ROLE_REBUILDING with
   * primary_address = this agent; RECOVERY_KIND_REBUILD here answers rebuild_by_assignment.
   * Errors: invalid_argument, volume_not_found, replica_not_found, not_primary, epoch_stale,
   * rebuild_by_assignment.
   */
  StartRecovery: grpc.handleUnaryCall<_blockship_v1_StartRecoveryRequest__Output, _blockship_v1_StartRecoveryResponse>;
  
  /**
   * Streams status reports: an initial snapshot at once, then a report whenever a volume's
   * role, epoch, mode, sender state or session changes (coalesced), and at least every
   * interval_ms. The stream ends only when the client cancels or the agent shuts down
   * (UNAVAILABLE shutting_down). Errors: invalid_argument (interval out of range).
   */
  WatchStatus: grpc.handleServerStreamingCall<_blockship_v1_WatchStatusRequest__Output, _blockship_v1_WatchStatusResponse>;
  
}

export interface ControlDefinition extends grpc.ServiceDefinition {
  AllocateVolume: MethodDefinition<_blockship_v1_AllocateVolumeRequest, _blockship_v1_AllocateVolumeResponse, _blockship_v1_AllocateVolumeRequest__Output, _blockship_v1_AllocateVolumeResponse__Output>
  ApplyAssignments: MethodDefinition<_blockship_v1_ApplyAssignmentsRequest, _blockship_v1_ApplyAssignmentsResponse, _blockship_v1_ApplyAssignmentsRequest__Output, _blockship_v1_ApplyAssignmentsResponse__Output>
  CancelRecovery: MethodDefinition<_blockship_v1_CancelRecoveryRequest, _blockship_v1_CancelRecoveryResponse, _blockship_v1_CancelRecoveryRequest__Output, _blockship_v1_CancelRecoveryResponse__Output>
  DeleteVolume: MethodDefinition<_blockship_v1_DeleteVolumeRequest, _blockship_v1_DeleteVolumeResponse, _blockship_v1_DeleteVolumeRequest__Output, _blockship_v1_DeleteVolumeResponse__Output>
  GetProtocolState: MethodDefinition<_blockship_v1_GetProtocolStateRequest, _blockship_v1_GetProtocolStateResponse, _blockship_v1_GetProtocolStateRequest__Output, _blockship_v1_GetProtocolStateResponse__Output>
  GetStatus: MethodDefinition<_blockship_v1_GetStatusRequest, _blockship_v1_GetStatusResponse, _blockship_v1_GetStatusRequest__Output, _blockship_v1_GetStatusResponse__Output>
  RenewLeases: MethodDefinition<_blockship_v1_RenewLeasesRequest, _blockship_v1_RenewLeasesResponse, _blockship_v1_RenewLeasesRequest__Output, _blockship_v1_RenewLeasesResponse__Output>
  StartRecovery: MethodDefinition<_blockship_v1_StartRecoveryRequest, _blockship_v1_StartRecoveryResponse, _blockship_v1_StartRecoveryRequest__Output, _blockship_v1_StartRecoveryResponse__Output>
  WatchStatus: MethodDefinition<_blockship_v1_WatchStatusRequest, _blockship_v1_WatchStatusResponse, _blockship_v1_WatchStatusRequest__Output, _blockship_v1_WatchStatusResponse__Output>
}
