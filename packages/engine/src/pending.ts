// Runtime helpers for hosts that drive VolumeCore and RecoveryPlanner separately: a per-replica
// pending-plan slot that must match the core's start command (fail-closed), and
// the core events that close a plan. VolumeEngine does not need them; they exist for custom hosts.
import type { CoreEvent } from "./core-types";
import type { CatchUpPlan, RebuildPlan, RecoveryPlan } from "./planner";
import { type Lsn, maxLsn } from "./types";

export type PlanCanceller = (plan: RecoveryPlan, reason: string) => void;

function key(volumeId: string, replicaId: string): string {
  return `${volumeId}\u0000${replicaId}`;
}

export class PendingPlans {
  private readonly slots = new Map<string, RecoveryPlan>();
  private readonly cancelPlan: PlanCanceller;

  constructor(cancelPlan: PlanCanceller) {
    this.cancelPlan = cancelPlan;
  }

  /** Replaces the slot's plan; a replaced plan is cancelled so that its pins are released. */
  store(volumeId: string, plan: RecoveryPlan): void {
    const k = key(volumeId, plan.replicaId);
    const old = this.slots.get(k);
    this.slots.set(k, plan);
    if (old !== undefined && old !== plan) this.cancelPlan(old, "pending_plan_replaced");
  }

  has(volumeId: string, replicaId: string): boolean {
    return this.slots.has(key(volumeId, replicaId));
  }

  peek(volumeId: string, replicaId: string): RecoveryPlan | null {
    return this.slots.get(key(volumeId, replicaId)) ?? null;
  }

  /** Empties the slot. A plan whose target differs from the command's is cancelled, never run. */
  takeCatchUp(volumeId: string, replicaId: string, targetLsn: Lsn): CatchUpPlan | null {
    const plan = this.take(volumeId, replicaId);
    if (plan === null) return null;
    if (plan.kind !== "catchup" || plan.targetLsn !== targetLsn) {
      this.cancelPlan(plan, "start_catchup_target_mismatch");
      return null;
    }
    return plan;
  }

  takeRebuild(volumeId: string, replicaId: string, targetLsn: Lsn): RebuildPlan | null {
    const plan = this.take(volumeId, replicaId);
    if (plan === null) return null;
    if (plan.kind !== "rebuild" || plan.targetLsn !== targetLsn) {
      this.cancelPlan(plan, "start_rebuild_target_mismatch");
      return null;
    }
    return plan;
  }

  /** Cancels (callback) only when a plan is present. */
  cancel(volumeId: string, replicaId: string, reason: string): boolean {
    const plan = this.take(volumeId, replicaId);
    if (plan === null) return false;
    this.cancelPlan(plan, reason);
    return true;
  }

  private take(volumeId: string, replicaId: string): RecoveryPlan | null {
    const k = key(volumeId, replicaId);
    const plan = this.slots.get(k) ?? null;
    this.slots.delete(k);
    return plan;
  }
}

/** The core event that closes an executed catch-up plan: achieved = plan target (or start if 0). */
export function catchUpCompletedEvent(plan: CatchUpPlan): Extract<CoreEvent, { type: "catchup_completed" }> {
  return {
    type: "catchup_completed",
    replicaId: plan.replicaId,
    achievedLsn: plan.targetLsn > 0n ? plan.targetLsn : plan.startLsn,
  };
}

/**
 * The core event that closes an executed rebuild: flushed and checkpoint are the backend's committed
 * LSN when known, else the plan target; achieved is their max (or the reported achieved LSN).
 */
export function rebuildCommittedEvent(
  plan: RebuildPlan,
  backendCommittedLsn: Lsn | null,
  achievedLsn: Lsn = 0n,
): Extract<CoreEvent, { type: "rebuild_committed" }> {
  const flushed = backendCommittedLsn ?? plan.targetLsn;
  return {
    type: "rebuild_committed",
    replicaId: plan.replicaId,
    achievedLsn: maxLsn(achievedLsn, flushed),
    flushedLsn: flushed,
    checkpointLsn: flushed,
  };
}
