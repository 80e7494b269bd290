// Validation and normalisation of one wire Assignment. Everything a role ignores is dropped, so
// two deliveries of the same assignment compare equal (idempotent re-delivery).
import type { Assignment__Output } from "@blockship/rpc";
import {
  invalidArgument,
  requireAddress,
  requireEnum,
  requireServerId,
  requireU64,
  requireVolumeId,
} from "@blockship/rpc";
import type { DurabilityMode } from "@blockship/storage";
import { MAX_LEASE_TTL_MS } from "./lease";
import { durabilityFromWire } from "./modes";
import { type Role, roleFromWire, WIRE_ROLES } from "./roles";

/** Most replicas one primary may be given. */
export const MAX_REPLICAS = 8;

export type RecoveryTarget = "default" | "none" | "catchup" | "rebuild";

export interface AssignedReplicaTarget {
  readonly serverId: string;
  readonly address: string;
}

export interface ParsedAssignment {
  readonly volumeId: string;
  readonly epoch: number;
  readonly role: Role;
  /** PRIMARY only (0 otherwise). */
  readonly leaseTtlMs: number;
  /** PRIMARY only, in the master's order. */
  readonly replicas: readonly AssignedReplicaTarget[];
  /** null = keep the persisted mode. */
  readonly durabilityMode: DurabilityMode | null;
  readonly recoveryTarget: RecoveryTarget;
  /** REPLICA / REBUILDING only. */
  readonly primaryServerId: string;
  /** REBUILDING only. */
  readonly primaryAddress: string;
  /** REBUILDING only: bytes per second, 0 = the agent's default. */
  readonly rebuildRateLimitBytesPerSecond: number;
}

const RECOVERY: Readonly<Record<string, RecoveryTarget>> = {
  RECOVERY_KIND_UNSPECIFIED: "default",
  RECOVERY_KIND_NONE: "none",
  RECOVERY_KIND_CATCHUP: "catchup",
  RECOVERY_KIND_REBUILD: "rebuild",
};

/**
 * What recovery_target may ask of each role. Recovery is automatic here: a primary runs a catch-up
 * session for each listed replica that lags (the phase gate needs it), a rebuilding copy pulls its
 * image; a value a role would accept and not do is refused instead.
 */
const RECOVERY_BY_ROLE: Readonly<Record<Role, readonly RecoveryTarget[]>> = {
  none: ["default", "none"],
  primary: ["default", "catchup"],
  replica: ["default", "none"],
  stale: ["default", "none"],
  rebuilding: ["default", "rebuild"],
  draining: ["default", "none"],
};

const RECOVERY_HINT: Readonly<Record<Role, string>> = {
  none: "this role runs no recovery session",
  primary:
    "a primary catches up each listed replica by itself; a rebuild is pulled by the copy (assign it ROLE_REBUILDING)",
  replica:
    "a replica's catch-up is run by its primary (StartRecovery there); for a rebuild assign ROLE_REBUILDING",
  stale: "this role runs no recovery session",
  rebuilding: "a rebuilding copy pulls its image (rebuild)",
  draining: "this role runs no recovery session",
};

/** Throws invalid_argument naming the field; `localServerId` may not appear as a replica. */
export function parseAssignment(
  a: Assignment__Output,
  localServerId: string,
  field = "assignment",
): ParsedAssignment {
  const f = (name: string): string => `${field}.${name}`;
  const volumeId = requireVolumeId(a.volume_id, f("volume_id"));
  const epoch = Number(requireU64(a.epoch, f("epoch"), { min: 1n, max: BigInt(Number.MAX_SAFE_INTEGER) }));
  const role = roleFromWire(requireEnum(a.role, WIRE_ROLES, f("role")));
  const recoveryTarget = RECOVERY[String(a.recovery_target)];
  if (recoveryTarget === undefined)
    throw invalidArgument(f("recovery_target"), `unknown value ${String(a.recovery_target)}`);
  if (!RECOVERY_BY_ROLE[role].includes(recoveryTarget)) {
    throw invalidArgument(
      f("recovery_target"),
      `${String(a.recovery_target)} does not apply to ${String(a.role)}: ${RECOVERY_HINT[role]}`,
    );
  }
  let durabilityMode: DurabilityMode | null = null;
  if (a.durability_mode !== "DURABILITY_MODE_UNSPECIFIED") {
    const mode = durabilityFromWire(String(a.durability_mode));
    if (mode === undefined)
      throw invalidArgument(f("durability_mode"), `unknown value ${String(a.durability_mode)}`);
    durabilityMode = mode;
  }
  let leaseTtlMs = 0;
  let replicas: AssignedReplicaTarget[] = [];
  let primaryServerId = "";
  let primaryAddress = "";
  if (role === "primary") {
    if (!Number.isInteger(a.lease_ttl_ms) || a.lease_ttl_ms < 1 || a.lease_ttl_ms > MAX_LEASE_TTL_MS) {
      throw invalidArgument(
        f("lease_ttl_ms"),
        `required for ROLE_PRIMARY: 1..${MAX_LEASE_TTL_MS}, got ${a.lease_ttl_ms}`,
      );
    }
    leaseTtlMs = a.lease_ttl_ms;
    const list = a.replicas ?? [];
    if (list.length > MAX_REPLICAS)
      throw invalidArgument(f("replicas"), `at most ${MAX_REPLICAS} replicas, got ${list.length}`);
    const seen = new Set<string>();
    replicas = list.map((r, i) => {
      const serverId = requireServerId(r.server_id, f(`replicas[${i}].server_id`));
      const address = requireAddress(r.address, f(`replicas[${i}].address`));
      if (seen.has(serverId))
        throw invalidArgument(f(`replicas[${i}].server_id`), `${serverId} is listed twice`);
      if (serverId === localServerId) {
        throw invalidArgument(f(`replicas[${i}].server_id`), `${serverId} is this agent (the primary)`);
      }
      seen.add(serverId);
      return { serverId, address };
    });
    if (durabilityMode === "sync_quorum" && replicas.length < 2) {
      throw invalidArgument(f("durability_mode"), "DURABILITY_MODE_SYNC_QUORUM needs at least 2 replicas");
    }
  }
  if (role === "replica" || role === "rebuilding") {
    primaryServerId = requireServerId(a.primary_server_id, f("primary_server_id"));
    if (primaryServerId === localServerId) {
      throw invalidArgument(f("primary_server_id"), `${primaryServerId} is this agent`);
    }
  }
  let rebuildRateLimitBytesPerSecond = 0;
  if (role === "rebuilding") {
    primaryAddress = requireAddress(a.primary_address, f("primary_address"));
    rebuildRateLimitBytesPerSecond = Number(
      requireU64(a.rebuild_rate_limit_bytes_per_second, f("rebuild_rate_limit_bytes_per_second"), {
        max: BigInt(Number.MAX_SAFE_INTEGER),
      }),
    );
  }
  return {
    volumeId,
    epoch,
    role,
    leaseTtlMs,
    replicas,
    durabilityMode,
    recoveryTarget,
    primaryServerId,
    primaryAddress,
    rebuildRateLimitBytesPerSecond,
  };
}

/** Identical assignments (after normalisation) are no-ops on re-delivery. */
export function sameAssignment(a: ParsedAssignment | undefined, b: ParsedAssignment): boolean {
  if (a === undefined) return false;
  return (
    a.volumeId === b.volumeId &&
    a.epoch === b.epoch &&
    a.role === b.role &&
    a.leaseTtlMs === b.leaseTtlMs &&
    a.durabilityMode === b.durabilityMode &&
    a.recoveryTarget === b.recoveryTarget &&
    a.primaryServerId === b.primaryServerId &&
    a.primaryAddress === b.primaryAddress &&
    a.rebuildRateLimitBytesPerSecond === b.rebuildRateLimitBytesPerSecond &&
    a.replicas.length === b.replicas.length &&
    a.replicas.every((r, i) => r.serverId === b.replicas[i]?.serverId && r.address === b.replicas[i]?.address)
  );
}
