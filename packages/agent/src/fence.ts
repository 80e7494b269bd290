// Fencing of one volume on this agent: role, the master's epoch, the lease and the write gate.
// The epoch is persisted (superblock + fsync, via `persistEpoch`) before a role that uses it takes
// effect; roles are not persisted, so a restarted agent is NONE until the master re-assigns it.
import { RpcError } from "@blockship/rpc";
import type { Clock } from "./clock";
import { Lease } from "./lease";
import { type Role, transitionProblem } from "./roles";

export interface FenceStorage {
  /** The volume's persisted epoch. */
  persistedEpoch(): number;
  /** Persist a higher epoch durably (storage setEpoch: superblock write + fsync). */
  persistEpoch(epoch: number): Promise<void>;
}

export interface FenceTarget {
  readonly role: Role;
  readonly epoch: number;
  /** Used for PRIMARY only. */
  readonly leaseTtlMs: number;
}

export type GateReason = "not_primary" | "epoch_stale" | "lease_expired";

/** How long a demotion waits for in-flight writes/flushes before failing with drain_timeout. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

export class Fence {
  private currentRole: Role = "none";
  /** The epoch the master assigned with the current role (in memory); 0 = never assigned. */
  private assignedEpoch = 0;
  private inFlight = 0;
  private drained: (() => void) | undefined;
  readonly lease: Lease;
  /** Set when a rebuild of this copy committed (REBUILDING → REPLICA becomes allowed). */
  rebuildCommitted = false;

  constructor(
    private readonly storage: FenceStorage,
    clock: Clock,
    private readonly drainTimeoutMs = DEFAULT_DRAIN_TIMEOUT_MS,
  ) {
    this.lease = new Lease(clock);
  }

  get role(): Role {
    return this.currentRole;
  }

  get masterEpoch(): number {
    return this.assignedEpoch;
  }

  /** Why this assignment would be refused (before any state changes), or null. */
  check(target: FenceTarget): RpcError | null {
    return checkAssignment(this.currentRole, this.storage.persistedEpoch(), target, this.rebuildCommitted);
  }

  /**
   * Applies an assignment that passed check(). `beforeStale` runs once a demoted primary has
   * drained (the host stops its shippers there).
   */
  async apply(
    target: FenceTarget,
    beforeStale: () => Promise<void> = async () => {},
    leaseFromMs?: number,
  ): Promise<void> {
    const problem = this.check(target);
    if (problem !== null) throw problem;
    const from = this.currentRole;
    const to = target.role;
    if (from === "primary" && to !== "primary") {
      // Demote: new writes fail at once; in-flight ones finish; then stop shipping; then Stale.
      this.lease.revoke();
      this.currentRole = "draining";
      await this.drain();
      await beforeStale();
      if (to === "draining") {
        await this.adoptEpoch(target.epoch);
        return;
      }
    }
    await this.adoptEpoch(target.epoch);
    this.currentRole = to;
    // Counted from the grant's arrival, not from now: persisting the epoch or waiting for the
    // volume's lock must not lengthen the lease the master granted.
    if (to === "primary") this.lease.grant(target.leaseTtlMs, leaseFromMs);
  }

  /** Extends the lease of a primary at exactly `epoch`, counted from `fromMs` (the grant's arrival). */
  renew(epoch: number, ttlMs: number, fromMs?: number): void {
    if (this.currentRole !== "primary") throw new RpcError("not_primary", `role is ${this.currentRole}`);
    if (epoch !== this.assignedEpoch || epoch !== this.storage.persistedEpoch()) {
      throw new RpcError(
        "epoch_stale",
        `grant is for epoch ${epoch}, the volume is at ${this.assignedEpoch}`,
      );
    }
    this.lease.grant(ttlMs, fromMs);
  }

  /** Why a write/trim/flush may not be acknowledged now, or null. */
  gateReason(expectedEpoch = 0): GateReason | null {
    if (this.currentRole !== "primary") return "not_primary";
    const persisted = this.storage.persistedEpoch();
    if (persisted !== this.assignedEpoch || (expectedEpoch !== 0 && expectedEpoch !== this.assignedEpoch)) {
      return "epoch_stale";
    }
    if (!this.lease.live()) return "lease_expired";
    return null;
  }

  /** Throws FAILED_PRECONDITION with the gate's reason unless writes may be acknowledged. */
  assertWritable(expectedEpoch = 0): void {
    const reason = this.gateReason(expectedEpoch);
    if (reason === null) return;
    throw new RpcError(reason, this.gateDetail(reason, expectedEpoch));
  }

  /**
   * Runs a mutating operation under the gate: checked before, counted in flight (a demotion
   * waits for it), and checked again after it finished, so nothing is acknowledged by a copy
   * that lost its authority in the meantime.
   */
  async guarded<T>(expectedEpoch: number, op: () => Promise<T>): Promise<T> {
    this.assertWritable(expectedEpoch);
    this.inFlight++;
    try {
      const result = await op();
      this.assertWritable(expectedEpoch);
      return result;
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.drained?.();
    }
  }

  private gateDetail(reason: GateReason, expectedEpoch: number): string {
    switch (reason) {
      case "not_primary":
        return `the volume is ${this.currentRole} on this agent`;
      case "epoch_stale":
        return `volume epoch ${this.storage.persistedEpoch()}, assigned ${this.assignedEpoch}${expectedEpoch !== 0 ? `, expected ${expectedEpoch}` : ""}`;
      case "lease_expired":
        return "the primary's lease has lapsed; renew it first";
    }
  }

  private async adoptEpoch(epoch: number): Promise<void> {
    if (epoch > this.storage.persistedEpoch()) await this.storage.persistEpoch(epoch);
    this.assignedEpoch = epoch;
  }

  private drain(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.drained = undefined;
        reject(
          new RpcError(
            "drain_timeout",
            `${this.inFlight} operations still in flight after ${this.drainTimeoutMs} ms`,
          ),
        );
      }, this.drainTimeoutMs);
      this.drained = () => {
        clearTimeout(timer);
        this.drained = undefined;
        resolve();
      };
    });
  }
}

/**
 * The assignment checks that precede any state change: epoch regression, the role table, then
 * promotion: a copy becomes PRIMARY only at an epoch above its own (the old primary may still hold
 * the old epoch, and two primaries must never share one). NONE → PRIMARY at the same epoch stays
 * allowed: a restarted agent forgets its role, and the master re-assigns the primary it had.
 */
export function checkAssignment(
  role: Role,
  persistedEpoch: number,
  target: FenceTarget,
  rebuildCommitted: boolean,
): RpcError | null {
  if (target.epoch < persistedEpoch) {
    return new RpcError(
      "epoch_regression",
      `epoch ${target.epoch} is below the volume's epoch ${persistedEpoch}`,
    );
  }
  const problem = transitionProblem(role, target.role, { rebuildCommitted });
  if (problem !== null) return new RpcError("invalid_role_transition", problem);
  if (target.role === "primary" && role !== "primary" && role !== "none" && target.epoch <= persistedEpoch) {
    return new RpcError(
      "epoch_stale",
      `${role} → primary needs an epoch above the volume's epoch ${persistedEpoch}, got ${target.epoch}`,
    );
  }
  return null;
}
