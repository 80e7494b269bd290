// A tiny external master for tests: allocate volumes, push assignments, renew leases, read status —
// only through the agents' Control API, as the real master would.
import {
  type AllocateVolumeResponse__Output,
  type ApplyAssignmentsResponse__Output,
  type Assignment,
  type AssignmentResult__Output,
  type DurabilityMode,
  deadlineIn,
  type GetProtocolStateResponse__Output,
  type GetStatusResponse__Output,
  type RenewLeasesResponse__Output,
  unary,
  type VolumeStatus__Output,
} from "@blockship/rpc";
import type { AgentHandle } from "./agents";

export const KiB = 1024;
export const MiB = 1024 * KiB;
const CALL_TIMEOUT_MS = 15_000;

export type Mode = "best_effort" | "sync_all" | "sync_quorum";

export function durabilityMode(mode: Mode): DurabilityMode {
  return `DURABILITY_MODE_${mode.toUpperCase()}` as DurabilityMode;
}

export interface VolumeSpec {
  readonly volumeId: string;
  readonly sizeBytes?: number;
  readonly walSizeBytes?: number;
  readonly mode?: Mode;
}

/** Small volumes keep the suite fast: 64 MiB with a 16 MiB WAL unless told otherwise. */
export async function allocate(
  agent: AgentHandle,
  spec: VolumeSpec,
): Promise<AllocateVolumeResponse__Output> {
  return unary<AllocateVolumeResponse__Output>((cb) =>
    agent.control.AllocateVolume(
      {
        volume_id: spec.volumeId,
        size_bytes: String(spec.sizeBytes ?? 64 * MiB),
        wal_size_bytes: String(spec.walSizeBytes ?? 16 * MiB),
        durability_mode: durabilityMode(spec.mode ?? "best_effort"),
      },
      deadlineIn(CALL_TIMEOUT_MS),
      cb,
    ),
  );
}

export function primaryAssignment(
  volumeId: string,
  epoch: number | bigint,
  replicas: readonly AgentHandle[],
  extra: Partial<Assignment> = {},
): Assignment {
  return {
    volume_id: volumeId,
    epoch: String(epoch),
    role: "ROLE_PRIMARY",
    lease_ttl_ms: 60_000,
    replicas: replicas.map((r) => ({ server_id: r.serverId, address: r.address })),
    ...extra,
  };
}

export function replicaAssignment(
  volumeId: string,
  epoch: number | bigint,
  primary: AgentHandle,
): Assignment {
  return {
    volume_id: volumeId,
    epoch: String(epoch),
    role: "ROLE_REPLICA",
    primary_server_id: primary.serverId,
  };
}

/** ApplyAssignments as a batch; returns the per-item results (the RPC itself must succeed). */
export async function assignAll(
  agent: AgentHandle,
  assignments: readonly Assignment[],
): Promise<AssignmentResult__Output[]> {
  const res = await unary<ApplyAssignmentsResponse__Output>((cb) =>
    agent.control.ApplyAssignments({ assignments: [...assignments] }, deadlineIn(CALL_TIMEOUT_MS), cb),
  );
  return res.results;
}

/** One assignment that must succeed; returns its result (`unchanged` tells a re-delivery). */
export async function assign(agent: AgentHandle, assignment: Assignment): Promise<AssignmentResult__Output> {
  const [result] = await assignAll(agent, [assignment]);
  if (result === undefined) throw new Error("ApplyAssignments returned no result");
  if (result.status?.code !== 0) {
    throw new Error(
      `assignment ${JSON.stringify(assignment)} failed on ${agent.serverId}: ${JSON.stringify(result.status)}`,
    );
  }
  return result;
}

export async function renew(
  agent: AgentHandle,
  volumeId: string,
  epoch: number | bigint,
  leaseTtlMs: number,
): Promise<RenewLeasesResponse__Output> {
  return unary<RenewLeasesResponse__Output>((cb) =>
    agent.control.RenewLeases(
      { grants: [{ volume_id: volumeId, epoch: String(epoch), lease_ttl_ms: leaseTtlMs }] },
      deadlineIn(CALL_TIMEOUT_MS),
      cb,
    ),
  );
}

export async function volumeStatus(agent: AgentHandle, volumeId: string): Promise<VolumeStatus__Output> {
  const res = await unary<GetStatusResponse__Output>((cb) =>
    agent.control.GetStatus({ volume_ids: [volumeId] }, deadlineIn(CALL_TIMEOUT_MS), cb),
  );
  const status = res.report?.volumes.find((v) => v.volume_id === volumeId);
  if (status === undefined) throw new Error(`${agent.serverId}: no status for ${volumeId}`);
  return status;
}

export async function protocolState(
  agent: AgentHandle,
  volumeId: string,
): Promise<GetProtocolStateResponse__Output> {
  return unary<GetProtocolStateResponse__Output>((cb) =>
    agent.control.GetProtocolState({ volume_id: volumeId }, deadlineIn(CALL_TIMEOUT_MS), cb),
  );
}

/** True once the primary reports every replica IN_SYNC and live-eligible. */
export async function replicasInSync(
  primary: AgentHandle,
  volumeId: string,
  count: number,
): Promise<boolean> {
  const status = await volumeStatus(primary, volumeId);
  return (
    status.replicas.length === count &&
    status.replicas.every((r) => r.sender_state === "SENDER_STATE_IN_SYNC" && r.live_eligible)
  );
}
