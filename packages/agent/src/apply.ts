// ApplyAssignments: every item is validated before any state changes (shape, volume exists, epoch
// not regressing, role change allowed — checked against the batch's own earlier items), then the
// valid items are applied in order, each under its volume's lock: durability mode, fence (epoch
// persisted before the role that uses it), then the engine. An identical re-delivery is a no-op.
import type { Assignment__Output, AssignmentResult } from "@blockship/rpc";
import { itemStatusOf, OK_ITEM_STATUS, RpcError } from "@blockship/rpc";
import { type ParsedAssignment, parseAssignment, sameAssignment } from "./assignment";
import type { Clock } from "./clock";
import { toAgentRpcError, volumeNotFound } from "./errors";
import { checkAssignment } from "./fence";
import type { HostedVolume } from "./hosted-volume";
import { type GrantWindow, windowProblem } from "./lease";
import type { Role } from "./roles";
import type { VolumeHost } from "./volume-host";

/** The call's timing: an item reached after the call's deadline is refused (deadline_exceeded). */
export interface CallTiming {
  readonly clock: Clock;
  readonly window: GrantWindow;
}

interface Planned {
  readonly index: number;
  readonly parsed: ParsedAssignment | null;
  readonly error: RpcError | null;
}

function isUnchanged(h: HostedVolume, a: ParsedAssignment): boolean {
  if (h.fence.masterEpoch !== a.epoch) return false;
  if (sameAssignment(h.runtime.assignment, a) && h.fence.role === a.role) return true;
  // The rebuild this REBUILDING assignment asked for already committed (the copy is REPLICA now).
  return h.fence.role === "replica" && sameAssignment(h.completedRebuild, a);
}

/** Validation of the whole batch, against a simulation of the batch's own effects. */
export function planBatch(
  host: VolumeHost,
  items: readonly Assignment__Output[],
  localServerId: string,
): Planned[] {
  const sim = new Map<string, { role: Role; epoch: number; rebuildCommitted: boolean }>();
  return items.map((item, index) => {
    try {
      const a = parseAssignment(item, localServerId, `assignments[${index}]`);
      const h = host.get(a.volumeId);
      if (h === undefined) throw volumeNotFound(a.volumeId);
      const now = sim.get(a.volumeId) ?? {
        role: h.fence.role,
        epoch: h.volume.epoch,
        rebuildCommitted: h.fence.rebuildCommitted,
      };
      const problem = checkAssignment(now.role, now.epoch, a, now.rebuildCommitted);
      if (problem !== null) throw problem;
      const mode = a.durabilityMode ?? h.volume.durabilityMode;
      if (a.role === "primary" && mode === "sync_quorum" && a.replicas.length < 2) {
        throw new RpcError(
          "invalid_argument",
          `assignments[${index}].replicas: the volume's durability mode sync_quorum needs at least 2 replicas`,
        );
      }
      sim.set(a.volumeId, {
        role: a.role,
        epoch: Math.max(now.epoch, a.epoch),
        rebuildCommitted: now.rebuildCommitted,
      });
      return { index, parsed: a, error: null };
    } catch (err) {
      return { index, parsed: null, error: toAgentRpcError(err) };
    }
  });
}

/** Applies one validated assignment under the volume's lock; returns whether it was a no-op. */
export async function applyOne(
  host: VolumeHost,
  a: ParsedAssignment,
  timing?: CallTiming,
): Promise<{ unchanged: boolean; executed: string[] }> {
  return host.locks.run(a.volumeId, async () => {
    const h = host.get(a.volumeId);
    if (h === undefined) throw volumeNotFound(a.volumeId);
    // The master stopped waiting for this call: it may already act on its failure (e.g. choose
    // another primary), so an assignment reached only now must not take effect.
    const late = timing === undefined ? null : windowProblem(timing.clock, timing.window, "assignment");
    if (late !== null) {
      h.log.warn(
        { epoch: a.epoch, role: a.role, reason: late.reason },
        "assignment refused: deadline passed",
      );
      throw late;
    }
    if (isUnchanged(h, a)) return { unchanged: true, executed: [] };
    // Re-check under the lock: another call may have moved the volume since validation.
    const problem = h.fence.check(a);
    if (problem !== null) throw problem;
    if (a.durabilityMode !== null && a.durabilityMode !== h.volume.durabilityMode) {
      await h.volume.setDurabilityMode(a.durabilityMode);
    }
    const from = h.fence.role;
    const fromEpoch = h.fence.masterEpoch;
    // A demoted primary stops shipping once drained, before it turns STALE.
    await h.fence.apply(a, () => h.runtime.stopShipping(), timing?.window.arrivedAtMs);
    h.runtime.assignment = a;
    h.completedRebuild = undefined;
    // A (new) rebuild must commit before this copy may become REPLICA again.
    if (a.role === "rebuilding") h.fence.rebuildCommitted = false;
    const executed = h.runtime.deliver(a);
    h.log.info(
      {
        epoch: a.epoch,
        role: a.role,
        from,
        fromEpoch,
        replicas: a.replicas.map((r) => r.serverId),
        executed,
      },
      "assignment applied",
    );
    return { unchanged: false, executed };
  });
}

export async function applyBatch(
  host: VolumeHost,
  items: readonly Assignment__Output[],
  localServerId: string,
  timing?: CallTiming,
): Promise<AssignmentResult[]> {
  const planned = planBatch(host, items, localServerId);
  const results: AssignmentResult[] = [];
  for (const p of planned) {
    const item = items[p.index] as Assignment__Output;
    const base = { volume_id: String(item.volume_id ?? ""), epoch: String(item.epoch ?? "0") };
    if (p.parsed === null) {
      results.push({ ...base, status: itemStatusOf(p.error), unchanged: false });
      continue;
    }
    try {
      const { unchanged } = await applyOne(host, p.parsed, timing);
      results.push({ ...base, status: { ...OK_ITEM_STATUS }, unchanged });
    } catch (err) {
      results.push({ ...base, status: itemStatusOf(toAgentRpcError(err)), unchanged: false });
    }
  }
  return results;
}
