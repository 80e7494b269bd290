// Control.StartRecovery / CancelRecovery: operator-driven sessions for one replica of a primary.
// Both go through the engine (start_recovery / cancel_recovery events), so the phase gate is
// re-derived like after any other event. A catch-up runs like an assignment's (handshake, then
// the cursor shipper); a rebuild is pulled by the copy (assignment ROLE_REBUILDING), so it is refused here.
import type {
  CancelRecoveryRequest__Output,
  CancelRecoveryResponse,
  StartRecoveryRequest__Output,
  StartRecoveryResponse,
} from "@blockship/rpc";
import {
  invalidArgument,
  parseReplicaId,
  RpcError,
  requireEnum,
  requireU64,
  requireVolumeId,
} from "@blockship/rpc";
import { volumeNotFound } from "./errors";
import type { HostedVolume } from "./hosted-volume";
import { replicaExecutionToWire } from "./status";
import type { VolumeHost } from "./volume-host";

function target(
  host: VolumeHost,
  req: { volume_id: string; replica_id: string; epoch: string },
  mustBePrimary: boolean,
) {
  const volumeId = requireVolumeId(req.volume_id);
  const rid = parseReplicaId(req.replica_id);
  if (rid.volumeId !== volumeId)
    throw invalidArgument("replica_id", `belongs to ${rid.volumeId}, not ${volumeId}`);
  const epoch = requireU64(req.epoch, "epoch", { min: 1n });
  const h = host.get(volumeId);
  if (h === undefined) throw volumeNotFound(volumeId);
  if (mustBePrimary && h.fence.role !== "primary")
    throw new RpcError("not_primary", `the volume is ${h.fence.role} here`);
  if (epoch !== BigInt(h.fence.masterEpoch)) {
    throw new RpcError("epoch_stale", `request epoch ${epoch}, the volume is at ${h.fence.masterEpoch}`);
  }
  const replicaId = req.replica_id;
  if (!h.runtime.executionState.replicas.has(replicaId)) {
    throw new RpcError("replica_not_found", `${replicaId} is not in the replica set of ${volumeId}`);
  }
  return { h, replicaId };
}

function stateOf(h: HostedVolume, replicaId: string) {
  const s = h.runtime.executionState.replicas.get(replicaId);
  return s === undefined ? null : replicaExecutionToWire(s, h.runtime.liveEligibility(replicaId));
}

export function startRecovery(
  host: VolumeHost,
  req: StartRecoveryRequest__Output,
): Promise<StartRecoveryResponse> {
  const kind = requireEnum(
    String(req.kind),
    ["RECOVERY_KIND_CATCHUP", "RECOVERY_KIND_REBUILD"] as const,
    "kind",
  );
  requireU64(req.rate_limit_bytes_per_second, "rate_limit_bytes_per_second");
  if (kind === "RECOVERY_KIND_REBUILD") {
    // The copy pulls its image (Rebuild.StreamBase); the primary cannot push one.
    throw new RpcError(
      "rebuild_by_assignment",
      "a rebuild is pulled by the replica itself: assign it ROLE_REBUILDING with primary_address = this agent",
    );
  }
  const volumeId = requireVolumeId(req.volume_id);
  return host.locks.run(volumeId, async () => {
    const { h, replicaId } = target(host, req, true);
    h.runtime.observe({
      type: "start_recovery",
      replicaId,
      kind: kind === "RECOVERY_KIND_CATCHUP" ? "catchup" : "rebuild",
    });
    h.log.info({ replicaId, kind }, "operator started a recovery session");
    return { state: stateOf(h, replicaId) };
  });
}

export function cancelRecovery(
  host: VolumeHost,
  req: CancelRecoveryRequest__Output,
): Promise<CancelRecoveryResponse> {
  const volumeId = requireVolumeId(req.volume_id);
  return host.locks.run(volumeId, async () => {
    const { h, replicaId } = target(host, req, false);
    const active = h.runtime.executionState.replicas.get(replicaId)?.sessionActive === true;
    if (active) {
      h.runtime.observe({ type: "cancel_recovery", replicaId, reason: "operator_cancel_recovery" });
      h.log.info({ replicaId }, "operator cancelled a recovery session");
    }
    return { cancelled: active, state: stateOf(h, replicaId) };
  });
}
