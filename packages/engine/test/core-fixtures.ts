// Fixtures of the VolumeCore tests (core-projection, core-commands): assignments and ready cores.
import {
  type CoreCommand,
  type CoreEvent,
  type CoreResult,
  type ReplicaTarget,
  type SessionKind,
  VolumeCore,
  type VolumeRole,
} from "../src/index";
import { ep } from "./helpers";

export const VOL = "/data/vol-a.blk";
export const R1 = `${VOL}/replica-1`;
export const R2 = `${VOL}/replica-2`;

export function replicas(ids: readonly string[], version = 0): ReplicaTarget[] {
  return ids.map((id) => ({ replicaId: id, endpoint: ep(`${id}:d`, `${id}:c`, version) }));
}

export function assign(
  role: VolumeRole,
  ids: readonly string[],
  epoch = 1n,
  target: SessionKind | null = role === "primary" && ids.length > 0 ? "catchup" : null,
  version = 0,
): CoreEvent {
  return {
    type: "assignment_delivered",
    epoch,
    role,
    replicas: replicas(ids, version),
    recoveryTarget: target,
  };
}

export function types(r: CoreResult): string[] {
  return r.commands.map((c) => c.type);
}

export function only<T extends CoreCommand["type"]>(
  r: CoreResult,
  type: T,
): Extract<CoreCommand, { type: T }>[] {
  return r.commands.filter((c): c is Extract<CoreCommand, { type: T }> => c.type === type);
}

/** A primary with one replica whose role is applied and shipper configured + connected. */
export function readyPrimary(ids: readonly string[] = [R1]): VolumeCore {
  const core = new VolumeCore(VOL);
  core.apply(assign("primary", ids));
  core.apply({ type: "role_applied" });
  core.apply({ type: "shipper_configured_observed" });
  core.apply({ type: "shipper_connected_observed" });
  return core;
}

export function readyReplica(target: SessionKind | null = null): VolumeCore {
  const core = new VolumeCore(VOL);
  core.apply(assign("replica", [R1], 1n, target));
  core.apply({ type: "role_applied" });
  core.apply({ type: "receiver_ready_observed" });
  return core;
}
