// Translation of host inputs: a master assignment into the registry intent and the core event,
// and plain observations into core events.
import type { CoreEvent } from "./core-types";
import type { AssignedReplica, EngineCommand, EngineEvent, MasterRole } from "./engine-types";
import { makeReplicaId } from "./identity";
import type { AssignmentIntent, ReplicaTarget } from "./registry";
import { assertU64, type Epoch, ProtocolError, type SessionKind } from "./types";

export interface TranslatedAssignment {
  readonly intent: AssignmentIntent;
  /** null for roles that have no core meaning (none, stale, draining). */
  readonly coreEvent: Extract<CoreEvent, { type: "assignment_delivered" }> | null;
}

const MASTER_ROLES: readonly MasterRole[] = ["none", "primary", "replica", "stale", "rebuilding", "draining"];

/** Wire role number → role; anything above 5 means none (as the reference does). */
export function masterRoleFromWire(value: number): MasterRole {
  return MASTER_ROLES[value] ?? "none";
}

export function translateAssignment(
  volumeId: string,
  epoch: Epoch,
  role: MasterRole,
  assigned: readonly AssignedReplica[],
): TranslatedAssignment {
  const replicas: ReplicaTarget[] = assigned.map((r) => ({
    replicaId: makeReplicaId(volumeId, r.serverId),
    endpoint: { dataAddr: r.dataAddr, ctrlAddr: r.ctrlAddr, version: r.addressVersion ?? 0 },
  }));
  const targets = (kind: SessionKind): Record<string, SessionKind> =>
    Object.fromEntries(replicas.map((r) => [r.replicaId, kind]));
  switch (role) {
    case "primary":
      return {
        intent: { volumeId, epoch, replicas, recoveryTargets: targets("catchup") },
        coreEvent: {
          type: "assignment_delivered",
          epoch,
          role: "primary",
          replicas,
          recoveryTarget: replicas.length > 0 ? "catchup" : null,
        },
      };
    case "replica":
    case "rebuilding": {
      if (replicas.length !== 1) {
        throw new ProtocolError("invalid_argument", `${role} assignment must name exactly the local server`);
      }
      const rebuild = role === "rebuilding";
      return {
        intent: { volumeId, epoch, replicas, ...(rebuild ? { recoveryTargets: targets("rebuild") } : {}) },
        coreEvent: {
          type: "assignment_delivered",
          epoch,
          role: "replica",
          replicas,
          recoveryTarget: rebuild ? "rebuild" : null,
        },
      };
    }
    default:
      return { intent: { volumeId, epoch, replicas: [] }, coreEvent: null };
  }
}

/** Observation events that map 1:1 onto a core event; null for everything session-scoped. */
export function observationToCore(ev: EngineEvent): CoreEvent | null {
  switch (ev.type) {
    case "role_applied":
      return { type: "role_applied" };
    case "receiver_ready":
      return { type: "receiver_ready_observed" };
    case "shipper_configured":
      return { type: "shipper_configured_observed" };
    case "shipper_connected":
      return { type: "shipper_connected_observed" };
    case "committed_advanced":
      return { type: "committed_lsn_advanced", committedLsn: ev.committedLsn };
    case "checkpoint_advanced":
      return { type: "checkpoint_advanced", checkpointLsn: ev.checkpointLsn };
    case "shipped_advanced":
      return { type: "diagnostic_shipped_advanced", shippedLsn: ev.shippedLsn };
    case "barrier_accepted":
      return { type: "barrier_accepted", flushedLsn: ev.flushedLsn };
    case "barrier_rejected":
      return { type: "barrier_rejected", reason: ev.reason };
    default:
      return null;
  }
}

/** One event may move the projection more than once; the host only needs the last one. */
export function coalescePublishes(commands: readonly EngineCommand[]): EngineCommand[] {
  let last = -1;
  commands.forEach((c, i) => {
    if (c.type === "publish_projection") last = i;
  });
  return commands.filter((c, i) => c.type !== "publish_projection" || i === last);
}

/** Boundary check: LSNs/epochs must be u64 and times finite, non-negative numbers. */
export function checkEventBounds(event: object, prefix = ""): void {
  for (const [key, value] of Object.entries(event)) {
    const field = `${prefix}${key}`;
    if (typeof value === "bigint") assertU64(value, field);
    if (typeof value === "number" && !(Number.isFinite(value) && value >= 0)) {
      throw new ProtocolError("invalid_argument", `${field} must be a finite number >= 0`);
    }
    // Nested facts (the handshake's resync facts) are checked the same way; lists are not LSNs.
    if (typeof value === "object" && value !== null && !Array.isArray(value))
      checkEventBounds(value, `${field}.`);
  }
}
