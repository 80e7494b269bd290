// One volume hosted by this agent: its storage, its fence and its protocol runtime.
import type { Volume } from "@blockship/storage";
import type { ParsedAssignment } from "./assignment";
import type { Clock } from "./clock";
import { Fence } from "./fence";
import type { Logger } from "./log";
import type { RebuildSourcePort, ReplicationBinding } from "./replication-port";
import type { ResyncFn } from "./resync-run";
import { type HandshakeFn, VolumeRuntime } from "./runtime";

export interface HostedVolumeDeps {
  readonly localServerId: string;
  readonly binding: ReplicationBinding;
  readonly barrierTimeoutMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly handshake: HandshakeFn;
  readonly resync: ResyncFn;
  readonly drainTimeoutMs?: number;
  readonly onChange: () => void;
  /** The live-shipping policy denied a replica (metrics). */
  readonly onGateDenied?: (volumeId: string, replicaId: string, reason: string | undefined) => void;
  /** Default transfer rate of rebuilds this agent pulls (bytes/s, 0 = the primary's default). */
  readonly rebuildRateLimitBytesPerSecond?: number;
  /** Runs `fn` under this volume's lock (the one assignments take); set by the VolumeHost. */
  readonly locked?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export class HostedVolume {
  readonly fence: Fence;
  readonly runtime: VolumeRuntime;
  readonly log: Logger;
  /** What the Rebuild service serves from this volume (it checks role, epoch and caller itself). */
  readonly rebuildSource: RebuildSourcePort;

  constructor(
    readonly volumeId: string,
    readonly volume: Volume,
    /** The device file or block device path. */
    readonly devicePath: string,
    readonly onBlockDevice: boolean,
    deps: HostedVolumeDeps,
  ) {
    this.log = deps.log.child({ volumeId });
    this.rebuildSource = {
      volume,
      authority: () => ({
        role: this.fence.role,
        epoch: this.fence.masterEpoch,
        replicaServerIds: new Set(this.runtime.assignment?.replicas.map((r) => r.serverId) ?? []),
      }),
    };
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
      resync: deps.resync,
      onChange: deps.onChange,
      onRebuildCommitted: () => {
        const locked = deps.locked ?? ((fn) => fn());
        locked(() => this.becomeReplicaAfterRebuild()).catch((err: unknown) =>
          this.log.error(
            { err: err instanceof Error ? err.message : String(err) },
            "REBUILDING → REPLICA failed",
          ),
        );
      },
      ...(deps.rebuildRateLimitBytesPerSecond === undefined
        ? {}
        : { rebuildRateLimitBytesPerSecond: deps.rebuildRateLimitBytesPerSecond }),
      ...(deps.onGateDenied === undefined
        ? {}
        : {
            onGateDenied: (replicaId: string, reason: string | undefined) =>
              deps.onGateDenied?.(volumeId, replicaId, reason),
          }),
    });
  }

  /**
   * The rebuilt copy takes role REPLICA at the same epoch by itself (DESIGN §7), so the primary's
   * shipper can reach it without waiting for the master. The REBUILDING assignment it completed is
   * remembered: a re-delivery of it is a no-op, not a second rebuild.
   */
  private async becomeReplicaAfterRebuild(): Promise<void> {
    const a = this.runtime.assignment;
    if (a === undefined || a.role !== "rebuilding" || this.fence.role !== "rebuilding") return;
    this.fence.rebuildCommitted = true;
    const replica = { ...a, role: "replica" as const, primaryAddress: "", rebuildRateLimitBytesPerSecond: 0 };
    await this.fence.apply(replica);
    this.completedRebuild = a;
    this.runtime.assignment = replica;
    const executed = this.runtime.deliver(replica);
    this.log.info({ epoch: a.epoch, executed }, "rebuild committed: REBUILDING → REPLICA");
  }

  /** The REBUILDING assignment whose rebuild committed here (re-deliveries of it change nothing). */
  completedRebuild: ParsedAssignment | undefined;

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
