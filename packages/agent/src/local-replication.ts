// RF=1 binding: no data plane. Shippers never connect, so a replicated flush with replicas fails
// loudly (never over-reports); with no replicas every mode reduces to the local fsync.
import { EventEmitter } from "node:events";
import { RpcError } from "@blockship/rpc";
import type { DurabilityMode, Volume } from "@blockship/storage";
import type {
  LiveShippingPolicy,
  ReplicationBinding,
  ShipperGroupPort,
  ShipperStatusView,
  ShipTarget,
} from "./replication-port";

class IdleShipperGroup extends EventEmitter implements ShipperGroupPort {
  private targets: readonly ShipTarget[] = [];
  setPolicy(_policy: LiveShippingPolicy): void {}
  policyChanged(): void {}
  historyDiverged(): void {}
  reprobe(): void {}
  setReplicas(targets: readonly ShipTarget[]): void {
    this.targets = [...targets];
  }
  statuses(): readonly ShipperStatusView[] {
    return this.targets.map((t) => ({
      ...t,
      state: "disconnected",
      cursorLsn: 0,
      receivedLsn: 0,
      durableLsn: 0,
      lastError: "replication is not available in this build",
    }));
  }
  async close(): Promise<void> {
    this.targets = [];
  }
}

export const localReplication: ReplicationBinding = {
  name: "local",
  createShipperGroup: () => new IdleShipperGroup(),
  createReceiver: () => ({}),
  async durableFlush(volume: Volume, group: ShipperGroupPort | null, mode: DurabilityMode): Promise<number> {
    const lsn = await volume.flush();
    const replicas = group?.statuses().length ?? 0;
    if (replicas > 0 && mode === "sync_all") {
      throw new RpcError(
        "durability_barrier_failed",
        `no replica confirmed LSN ${lsn} (replication unavailable)`,
      );
    }
    if (replicas > 0 && mode === "sync_quorum") {
      throw new RpcError(
        "durability_quorum_lost",
        `only the primary confirmed LSN ${lsn} (replication unavailable)`,
      );
    }
    return lsn;
  },
  serviceHandlers: () => ({}),
  rebuildHandlers: () => ({}),
  async pullRebuild() {
    throw new RpcError("unimplemented", "rebuild needs the gRPC replication binding");
  },
};
