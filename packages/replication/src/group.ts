import { EventEmitter } from "node:events";
import type { ReplicationClient } from "@blockship/rpc";
import type { NeedsRebuildEvent } from "@blockship/storage";
import type {
  BarrierOutcome,
  LiveShippingPolicy,
  ReplicaTarget,
  ShipperEvents,
  ShipperGroupOptions,
  ShipperStatus,
} from "./api";
import { resolveShipperConfig, type ShipperConfig } from "./config";
import { ReplicaShipper } from "./shipper";

export interface ShipperGroupInit extends ShipperGroupOptions {
  /**
   * Makes a Replication client for `address`, whose peer must be `serverId` (the agent owns
   * credentials and channel options; with TLS it pins the replica's certificate identity).
   */
  readonly connect: (address: string, serverId: string) => ReplicationClient;
}

/**
 * The primary side of one volume: one cursor shipper per replica, keyed by replica ID. The group
 * owns the live-shipping policy (so it survives reconfiguration and applies to shippers created
 * later) and forwards storage's retention releases to the shipper that owned the pin.
 */
export class ShipperGroup extends EventEmitter<ShipperEvents> {
  private readonly shippers = new Map<string, ReplicaShipper>();
  private readonly config: ShipperConfig;
  private policy: LiveShippingPolicy | null = null;
  private closed = false;
  private readonly onRetentionRelease = (ev: NeedsRebuildEvent): void => {
    this.shippers.get(ev.owner)?.retentionReleased(ev);
  };

  constructor(private readonly init: ShipperGroupInit) {
    super();
    this.config = resolveShipperConfig(init);
    init.volume.on("needsRebuild", this.onRetentionRelease);
  }

  get size(): number {
    return this.shippers.size;
  }

  /**
   * Reconciles the shippers with `targets` (by replica ID): new ones start, missing ones stop,
   * unchanged ones are left alone, a changed address or server ID replaces that shipper.
   */
  setReplicas(targets: readonly ReplicaTarget[]): void {
    if (this.closed) throw new Error("ShipperGroup is closed");
    const wanted = new Map<string, ReplicaTarget>();
    for (const t of targets) {
      if (wanted.has(t.replicaId)) throw new Error(`duplicate replica ${t.replicaId}`);
      wanted.set(t.replicaId, t);
    }
    for (const [id, shipper] of this.shippers) {
      const t = wanted.get(id);
      if (t === undefined) {
        this.shippers.delete(id);
        void shipper.close({ keepPin: false }).catch(() => {});
      } else if (t.address !== shipper.target.address || t.serverId !== shipper.target.serverId) {
        this.shippers.delete(id);
        void shipper.close({ keepPin: true }).catch(() => {});
      }
    }
    for (const [id, t] of wanted) {
      if (!this.shippers.has(id)) this.startShipper(t);
    }
    this.updateFlushHint();
  }

  /**
   * A replicated flush waits for barriers anyway, so local appends need not be durable one by one
   * (see Volume.setReplicatedFlushHint). Re-read at every replica-set change; a mode change in
   * between only costs speed, never safety.
   */
  private updateFlushHint(): void {
    const replicated = !this.closed && this.shippers.size > 0 && this.init.durabilityMode() !== "best_effort";
    this.init.volume.setReplicatedFlushHint(replicated);
  }

  /** Replaces one replica's shipper with a fresh one (e.g. after a rebuild cleared needs_rebuild). */
  restartReplica(replicaId: string): boolean {
    const old = this.shippers.get(replicaId);
    if (old === undefined || this.closed) return false;
    this.shippers.delete(replicaId);
    void old.close({ keepPin: true }).catch(() => {});
    this.startShipper(old.target);
    return true;
  }

  /**
   * Installs (or clears, with null) the phase gate for every current and future shipper. Safe to call
   * before setReplicas: shippers consult the group's policy at every decision.
   */
  setPolicy(policy: LiveShippingPolicy | null): void {
    this.policy = policy;
    this.policyChanged();
  }

  /**
   * The host's own handshake (a recovery session's) found the replica's history divergent: its
   * shipper goes to needs_rebuild with `reason` and probes until the copy was rebuilt.
   */
  historyDiverged(replicaId: string, reason: string): void {
    this.shippers.get(replicaId)?.historyDiverged(reason);
  }

  /** The replica was repaired outside its stream (a resync committed): its shipper probes it now. */
  reprobe(replicaId: string): void {
    this.shippers.get(replicaId)?.reprobe();
  }

  /** Tell the shippers the policy's answers may have changed (the agent re-derived its state). */
  policyChanged(): void {
    for (const s of this.shippers.values()) s.wake();
  }

  statuses(): ShipperStatus[] {
    return [...this.shippers.values()].map((s) => s.status());
  }

  /** Runs a barrier for `lsn` on every shipper in parallel; never rejects. */
  barrierAll(lsn: number): Promise<BarrierOutcome[]> {
    return Promise.all([...this.shippers.values()].map((s) => s.barrier(lsn)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.init.volume.off("needsRebuild", this.onRetentionRelease);
    const all = [...this.shippers.values()];
    this.shippers.clear();
    this.updateFlushHint();
    await Promise.all(all.map((s) => s.close({ keepPin: false })));
  }

  /** A throwing listener must not break a shipper's loop; it is reported as a process warning. */
  private safeEmit(emit: () => void): void {
    try {
      emit();
    } catch (err) {
      process.emitWarning(`ShipperGroup listener threw: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private startShipper(target: ReplicaTarget): void {
    const shipper = new ReplicaShipper(target, this.config, {
      volume: this.init.volume,
      connect: this.init.connect,
      policy: () => this.policy,
      emitState: (status) => this.safeEmit(() => this.emit("stateChange", status)),
      emitNeedsRebuild: (id, reason) => this.safeEmit(() => this.emit("needsRebuild", id, reason)),
      emitDurable: (id, lsn) => this.safeEmit(() => this.emit("durableAdvanced", id, lsn)),
    });
    this.shippers.set(target.replicaId, shipper);
    shipper.start();
  }
}
