// What a delivered assignment implies for the volume core, kept apart from the
// core's event switch: readiness that a new epoch/role/replica set invalidates, the per-replica
// recovery-task reconciliation against its latches, and resolving which desired replica an
// observation is about. Deterministic and side-effect free apart from the latch map handed in.
import { sameReplicas } from "./core-projection";
import type { CoreCommand, Readiness, VolumeRole } from "./core-types";
import type { ReplicaTarget } from "./registry";
import { type Endpoint, type Epoch, endpointChanged, type SessionKind } from "./types";

/** The last start_recovery_task issued for one replica. */
export interface TaskLatch {
  readonly epoch: Epoch;
  readonly kind: SessionKind;
  readonly endpoint: Endpoint;
}

export interface AssignmentChange {
  readonly epochChanged: boolean;
  readonly roleChanged: boolean;
  readonly replicasChanged: boolean;
}

/**
 * Readiness flags the new assignment leaves standing. A replica's receiver survives a re-delivery of
 * the same epoch and role; a primary's shipper survives one that also keeps the same replicas.
 */
export function readinessAfterAssignment(
  previous: Readiness,
  role: VolumeRole,
  change: AssignmentChange,
): Readiness {
  const { epochChanged, roleChanged, replicasChanged } = change;
  let r: Readiness = { ...previous, assigned: true };
  if (epochChanged || roleChanged) r = { ...r, roleApplied: false };
  if (role === "replica") {
    if (epochChanged || roleChanged) r = { ...r, receiverReady: false };
    r = { ...r, shipperConfigured: false, shipperConnected: false };
  } else if (role === "primary") {
    r = { ...r, receiverReady: false };
    if (epochChanged || roleChanged || replicasChanged)
      r = { ...r, shipperConfigured: false, shipperConnected: false };
  } else {
    r = { ...r, receiverReady: false, shipperConfigured: false, shipperConnected: false };
  }
  return r;
}

/**
 * Drain tasks for replicas no longer wanted (sorted, for determinism), then start a task for each
 * wanted replica whose latch is missing or stale. Updates `latches` to what was issued.
 */
export function reconcileRecoveryTasks(
  volumeId: string,
  epoch: Epoch,
  recoveryTarget: SessionKind | null,
  desired: readonly ReplicaTarget[],
  latches: Map<string, TaskLatch>,
  commands: CoreCommand[],
): void {
  const wanted = new Map<string, Endpoint>();
  if (recoveryTarget !== null) {
    for (const d of desired) if (d.replicaId !== "") wanted.set(d.replicaId, d.endpoint);
  }
  for (const id of [...latches.keys()].sort()) {
    if (wanted.has(id)) continue;
    commands.push({ type: "drain_recovery_task", volumeId, replicaId: id, reason: "assignment_removed" });
    latches.delete(id);
  }
  if (recoveryTarget === null) return; // nothing is wanted, so nothing starts
  const kind = recoveryTarget;
  for (const [id, endpoint] of wanted) {
    const latch = latches.get(id);
    // Per replica: a task restarts only when its epoch, kind or address changed (the same rule the
    // registry uses to decide whether a re-delivered target gets a new session).
    if (
      latch !== undefined &&
      latch.epoch === epoch &&
      latch.kind === kind &&
      !endpointChanged(latch.endpoint, endpoint)
    ) {
      continue;
    }
    commands.push({ type: "start_recovery_task", volumeId, replicaId: id, kind });
    latches.set(id, { epoch, kind, endpoint });
  }
}

/** Which desired replica an observation refers to. */
export type Resolution =
  | { readonly kind: "resolved"; readonly id: string }
  | { readonly kind: "unresolved" }
  | { readonly kind: "unknown" };

/** Named replica must be desired; no name resolves only when exactly one replica is desired. */
export function resolveReplica(desired: readonly ReplicaTarget[], replicaId: string | undefined): Resolution {
  if (replicaId !== undefined && replicaId !== "") {
    return desired.some((d) => d.replicaId === replicaId)
      ? { kind: "resolved", id: replicaId }
      : { kind: "unknown" };
  }
  return desired.length === 1 ? { kind: "resolved", id: desired[0]!.replicaId } : { kind: "unresolved" };
}

/** The last apply_role / start_receiver / configure_shipper the core issued. */
export interface HostSetupLatches {
  role: { readonly epoch: Epoch; readonly role: VolumeRole } | null;
  receiverEpoch: Epoch | null;
  shipper: { readonly epoch: Epoch; readonly replicas: readonly ReplicaTarget[] } | null;
}

export interface HostSetupInput {
  readonly volumeId: string;
  readonly epoch: Epoch;
  readonly role: VolumeRole;
  readonly recoveryTarget: SessionKind | null;
  readonly desired: readonly ReplicaTarget[];
  readonly readiness: Readiness;
}

/**
 * Role, receiver and shipper setup commands for the current assignment, each issued once per change
 * (the latch is what makes a re-delivered assignment emit nothing). A replica awaiting a rebuild gets
 * no receiver: the rebuild, not live shipping, brings its data.
 */
export function issueHostSetup(
  input: HostSetupInput,
  latches: HostSetupLatches,
  commands: CoreCommand[],
): void {
  const { volumeId, epoch, role, desired, readiness } = input;
  if (latches.role === null || latches.role.epoch !== epoch || latches.role.role !== role) {
    commands.push({ type: "apply_role", volumeId, epoch, role });
    latches.role = { epoch, role };
  }
  if (
    role === "replica" &&
    input.recoveryTarget !== "rebuild" &&
    !readiness.receiverReady &&
    latches.receiverEpoch !== epoch
  ) {
    commands.push({ type: "start_receiver", volumeId });
    latches.receiverEpoch = epoch;
  }
  // An empty set is configured too once shippers exist: the host must stop every one of them.
  const hadReplicas = latches.shipper !== null && latches.shipper.replicas.length > 0;
  if (
    role === "primary" &&
    (desired.length > 0 || hadReplicas) &&
    !readiness.shipperConfigured &&
    (latches.shipper === null ||
      latches.shipper.epoch !== epoch ||
      !sameReplicas(latches.shipper.replicas, desired))
  ) {
    commands.push({ type: "configure_shipper", volumeId, replicas: desired });
    latches.shipper = { epoch, replicas: desired };
  }
}
