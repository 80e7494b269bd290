// Per-replica catch-up observations of the volume core. The volume's progress
// is its slowest replica's: target = max, achieved = min, done = every planned replica completed.
import { type Lsn, maxLsn, minLsn } from "./types";

interface Observation {
  target: Lsn;
  achieved: Lsn;
  completed: boolean;
}

export interface CatchUpAggregate {
  readonly target: Lsn;
  readonly achieved: Lsn;
  readonly allDone: boolean;
}

export class CatchUpObservations {
  private readonly byReplica = new Map<string, Observation>();

  /** A new target resets that replica's progress; the same target only re-opens it. */
  plan(replicaId: string, targetLsn: Lsn): void {
    if (targetLsn === 0n) return;
    const existing = this.byReplica.get(replicaId);
    if (existing === undefined || existing.target !== targetLsn) {
      this.byReplica.set(replicaId, { target: targetLsn, achieved: 0n, completed: false });
    } else {
      existing.completed = false;
    }
  }

  has(replicaId: string): boolean {
    return this.byReplica.has(replicaId);
  }

  pending(replicaId: string): boolean {
    return this.byReplica.get(replicaId)?.completed === false;
  }

  /** Returns false when the replica has no plan. */
  progress(replicaId: string, achievedLsn: Lsn): boolean {
    const o = this.byReplica.get(replicaId);
    if (o === undefined) return false;
    o.achieved = maxLsn(o.achieved, achievedLsn);
    return true;
  }

  /** Completion counts at least the planned target. Returns false when the replica has no plan. */
  complete(replicaId: string, achievedLsn: Lsn): boolean {
    const o = this.byReplica.get(replicaId);
    if (o === undefined) return false;
    o.achieved = maxLsn(maxLsn(achievedLsn, o.achieved), o.target);
    o.completed = true;
    return true;
  }

  clear(): void {
    this.byReplica.clear();
  }

  aggregate(): CatchUpAggregate {
    let target = 0n;
    let achieved: Lsn | null = null;
    let allDone = true;
    for (const o of this.byReplica.values()) {
      target = maxLsn(target, o.target);
      achieved = achieved === null ? o.achieved : minLsn(achieved, o.achieved);
      allDone &&= o.completed;
    }
    return { target, achieved: achieved ?? 0n, allDone };
  }
}
