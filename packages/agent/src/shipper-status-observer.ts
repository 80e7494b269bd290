// Turns the shipper group's per-replica status changes into engine events. The data plane knows
// first when a replica connects, drops or falls out of the retained WAL; the engine only learns it
// through these events. It remembers which replicas were in sync (a drop from in_sync is a loss
// whose gap must be planned by a catch-up session) and which need a rebuild (with the reason).
// Callers defer the group's callbacks to a microtask: nothing here runs inside an engine command.
import type { EngineEvent } from "@blockship/engine";
import type { Logger } from "./log";
import type { LostReplicas } from "./lost-replicas";
import type { ShipperStatusView } from "./replication-port";

export interface ShipperStatusObserverDeps {
  readonly log: Logger;
  readonly lost: LostReplicas;
  /** Whether the engine has a sender for the replica (events about others would be refused). */
  readonly engineTracks: (replicaId: string) => boolean;
  readonly observe: (event: EngineEvent) => void;
  /** A fresh catch-up session for a lost replica (if it has none). */
  readonly startCatchUpSession: (replicaId: string) => void;
  /** Whether the engine runs a recovery session for the replica now. */
  readonly sessionActive: (replicaId: string) => boolean;
  /** The engine's sender state of the replica (undefined: not tracked). */
  readonly engineState: (replicaId: string) => string | undefined;
  /** Re-reads a running catch-up's progress (a status change may carry a new durable LSN). */
  readonly checkCatchUp: (replicaId: string) => void;
  readonly onChange: () => void;
}

export class ShipperStatusObserver {
  /** Replicas the shipper reported in sync since they were last lost. */
  private readonly connected = new Set<string>();
  /** The data plane's needs-rebuild verdicts, by replica: the reason. */
  private readonly needsRebuild = new Map<string, string>();

  constructor(private readonly deps: ShipperStatusObserverDeps) {}

  needsRebuildReason(replicaId: string): string | undefined {
    return this.needsRebuild.get(replicaId);
  }

  awaitingRebuild(replicaId: string): boolean {
    return this.needsRebuild.has(replicaId);
  }

  /** This host no longer ships (it is not the primary): its verdicts about replicas are void. */
  forgetRebuildVerdicts(): void {
    this.needsRebuild.clear();
  }

  /** The replica set changed: replicas no longer in it are not connected any more. */
  retainConnected(replicaIds: readonly string[]): void {
    for (const id of [...this.connected]) {
      if (!replicaIds.includes(id)) this.connected.delete(id);
    }
  }

  /** Shipping stopped: every connection went with it. */
  forgetConnections(): void {
    this.connected.clear();
  }

  onNeedsRebuild(replicaId: string, reason: string): void {
    this.needsRebuild.set(replicaId, reason);
    const engine = this.deps.engineState(replicaId);
    if (engine === undefined || engine === "needs_rebuild") {
      // Not the engine's replica, or the engine itself condemned it: nothing left to plan.
      this.deps.log.warn({ replicaId, reason }, "replica needs a rebuild");
      this.deps.onChange();
      return;
    }
    // The WAL alone cannot bring the copy back (its gap was recycled, or its history forked).
    // Whether the changed blocks can (resync) or only a full copy can is the engine's decision,
    // from a fresh handshake with both histories; the shipper probes meanwhile.
    this.deps.log.info({ replicaId, reason }, "the WAL cannot catch the replica up: planning its recovery");
    if (!this.deps.sessionActive(replicaId)) this.deps.startCatchUpSession(replicaId);
    this.deps.onChange();
  }

  onStateChange(status: ShipperStatusView): void {
    const { replicaId, state } = status;
    const wasNeedsRebuild = this.needsRebuild.has(replicaId);
    if (state !== "needs_rebuild") this.needsRebuild.delete(replicaId);
    if (
      wasNeedsRebuild &&
      state !== "needs_rebuild" &&
      this.deps.engineTracks(replicaId) &&
      !this.deps.sessionActive(replicaId)
    ) {
      // The copy was rebuilt (the shipper's probe found it within the retained WAL again): a fresh
      // catch-up session brings the engine's sender back to in_sync through the normal path.
      this.deps.log.info({ replicaId }, "replica is back within the retained WAL");
      this.deps.observe({ type: "start_recovery", replicaId, kind: "catchup" });
    }
    if (state === "in_sync" && !this.connected.has(replicaId)) {
      this.connected.add(replicaId);
      this.deps.observe({ type: "shipper_connected" });
    } else if (state !== "in_sync" && state !== "catching_up") {
      // Lost (disconnected, degraded, needs_rebuild): whatever it missed is planned by a session.
      const wasConnected = this.connected.delete(replicaId);
      if (wasConnected && this.deps.engineTracks(replicaId) && this.deps.lost.markLost(replicaId)) {
        this.deps.log.info({ replicaId, state }, "replica lost: live tail gated until a catch-up");
        if (state !== "needs_rebuild") this.deps.startCatchUpSession(replicaId);
      }
    }
    this.deps.checkCatchUp(replicaId);
    this.deps.onChange();
  }
}
