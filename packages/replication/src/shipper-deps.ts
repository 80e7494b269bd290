import type { ReplicationClient } from "@blockship/rpc";
import type { Volume } from "@blockship/storage";
import type { LiveShippingPolicy, ShipperStatus } from "./api";

/** What a ReplicaShipper needs from its group: the volume, a dialer, the phase gate and listeners. */
export interface ShipperDeps {
  readonly volume: Volume;
  /** Makes a fresh client per connection attempt, so our back-off (not the channel's) decides retries. */
  readonly connect: (address: string, serverId: string) => ReplicationClient;
  readonly policy: () => LiveShippingPolicy | null;
  readonly emitState: (status: ShipperStatus) => void;
  readonly emitNeedsRebuild: (replicaId: string, reason: string) => void;
  readonly emitDurable: (replicaId: string, durableLsn: number) => void;
}
