// One volume hosted by this agent: its storage, its fence and its protocol runtime.
import type { Volume } from "@blockship/storage";
import type { Clock } from "./clock";
import { Fence } from "./fence";
import type { Logger } from "./log";
import type { ReplicationBinding } from "./replication-port";
import { type HandshakeFn, VolumeRuntime } from "./runtime";

export interface HostedVolumeDeps {
  readonly localServerId: string;
  readonly binding: ReplicationBinding;
  readonly barrierTimeoutMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly handshake: HandshakeFn;
  readonly drainTimeoutMs?: number;
  readonly onChange: () => void;
  /** The live-shipping policy denied a replica (metrics). */
  readonly onGateDenied?: (volumeId: string, replicaId: string, reason: string | undefined) => void;
}

export class HostedVolume {
  readonly fence: Fence;
  readonly runtime: VolumeRuntime;
  readonly log: Logger;

  constructor(
    readonly volumeId: string,
    readonly volume: Volume,
    /** The device file or block device path. */
    readonly devicePath: string,
    readonly onBlockDevice: boolean,
    deps: HostedVolumeDeps,
  ) {
    this.log = deps.log.child({ volumeId });
    this.fence = new Fence(
      {
        persistedEpoch: () => volume.epoch,
        persistEpoch: (epoch) => volume.setEpoch(epoch),
      },
      deps.clock,
      deps.drainTimeoutMs,
    );
    this.runtime = new VolumeRuntime({
      volumeId,
      volume,
      fence: this.fence,
      localServerId: deps.localServerId,
      binding: deps.binding,
      barrierTimeoutMs: deps.barrierTimeoutMs,
      clock: deps.clock,
      log: this.log,
      handshake: deps.handshake,
      onChange: deps.onChange,
      ...(deps.onGateDenied === undefined
        ? {}
        : {
            onGateDenied: (replicaId: string, reason: string | undefined) =>
              deps.onGateDenied?.(volumeId, replicaId, reason),
          }),
    });
  }

  /** Whether writes are accepted right now, and why not. */
  writeBlockReason(): string {
    return this.fence.gateReason() ?? "";
  }

  /** Stops the data plane, then closes the volume (drains appends, final checkpoint, closes the device). */
  async close(): Promise<void> {
    await this.runtime.close();
    await this.volume.close();
  }
}
