// Mode/publication recompute and structural equality of projections.
import type { Boundary, Mode, Publication, Readiness, RecoveryView, VolumeRole } from "./core-types";
import type { ReplicaTarget } from "./registry";
import { endpointChanged, type SessionKind } from "./types";

export interface RecomputeInput {
  readonly role: VolumeRole;
  readonly readiness: Readiness;
  readonly boundary: Boundary;
  readonly recovery: RecoveryView;
  readonly hasReplicas: boolean;
  readonly needsRebuild: boolean;
  readonly rebuildReason: string;
  readonly degraded: boolean;
  readonly degradeReason: string;
  readonly recoveryTarget: SessionKind | null;
}

export interface Recomputed {
  readonly mode: Mode;
  readonly publication: Publication;
}

const AUTHORITY = "constrained_v1";

function failClosed(name: "needs_rebuild" | "degraded", reason: string): Recomputed {
  return { mode: { name, reason, authority: AUTHORITY }, publication: { healthy: false, reason } };
}

function bootstrapReason(s: RecomputeInput): string {
  const r = s.readiness;
  if (!r.roleApplied) return "awaiting_role_apply";
  if (s.role === "replica" && s.recoveryTarget === "rebuild") return "awaiting_rebuild_start";
  if (s.role === "replica" && !r.receiverReady) return "awaiting_receiver_ready";
  if (s.role === "primary" && !r.shipperConfigured) return "awaiting_shipper_configured";
  if (s.role === "primary" && !r.shipperConnected) return "awaiting_shipper_connected";
  if (s.role === "primary" && s.boundary.durableLsn === 0n) return "awaiting_barrier_durability";
  return "bootstrap_pending";
}

/** Priority order, first match wins: fail-closed modes outrank everything; healthy needs durability. */
export function recomputeMode(s: RecomputeInput): Recomputed {
  const r = s.readiness;
  if (s.needsRebuild) return failClosed("needs_rebuild", s.rebuildReason || "needs_rebuild");
  if (s.degraded) return failClosed("degraded", s.degradeReason || "degraded");
  const pending = (reason: string): Recomputed => ({
    mode: { name: "bootstrap_pending", reason, authority: AUTHORITY },
    publication: { healthy: false, reason },
  });
  if (s.recovery.phase === "catching_up" || s.recovery.phase === "rebuilding")
    return pending("recovery_in_progress");
  const quiet = (name: "allocated_only" | "replica_ready", reason: string): Recomputed => ({
    mode: { name, reason: "", authority: AUTHORITY },
    publication: { healthy: false, reason },
  });
  if (!s.hasReplicas) return quiet("allocated_only", "allocated_only");
  if (s.role === "replica" && r.replicaReady) return quiet("replica_ready", "replica_not_primary");
  if (
    s.role === "primary" &&
    r.roleApplied &&
    r.shipperConfigured &&
    r.shipperConnected &&
    s.boundary.durableLsn > 0n
  ) {
    return {
      mode: { name: "publish_healthy", reason: "", authority: AUTHORITY },
      publication: { healthy: true, reason: "" },
    };
  }
  if (r.assigned || r.roleApplied) return pending(bootstrapReason(s));
  return quiet("allocated_only", "allocated_only");
}

/** Structural equality over plain data (objects, arrays, primitives incl. bigint). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const rb = b as Record<string, unknown>;
  const ra = a as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(rb, k) && deepEqual(ra[k], rb[k]));
}

export const INITIAL_READINESS: Readiness = Object.freeze({
  assigned: false,
  roleApplied: false,
  receiverReady: false,
  shipperConfigured: false,
  shipperConnected: false,
  replicaReady: false,
});

export const INITIAL_BOUNDARY: Boundary = Object.freeze({
  committedLsn: 0n,
  durableLsn: 0n,
  checkpointLsn: 0n,
  targetLsn: 0n,
  achievedLsn: 0n,
  diagnosticShippedLsn: 0n,
  lastBarrierOk: false,
  lastBarrierReason: "",
});

/** Same IDs in the same order with equal endpoints. */
export function sameReplicas(a: readonly ReplicaTarget[], b: readonly ReplicaTarget[]): boolean {
  return (
    a.length === b.length &&
    a.every((r, i) => r.replicaId === b[i]!.replicaId && !endpointChanged(r.endpoint, b[i]!.endpoint))
  );
}
