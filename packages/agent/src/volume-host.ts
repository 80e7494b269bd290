// The volumes of this agent: one device each (a file `<dataDir>/volumes/<volumeId>.blk`, or a block
// device named in config), allocated and deleted over Control, reopened on restart (storage's open
// runs crash recovery).
import { promises as fsp } from "node:fs";
import { join } from "node:path";
import { RpcError } from "@blockship/rpc";
import type { DurabilityMode, OpenOptions, VolumeTuning } from "@blockship/storage";
import {
  createVolumeFile,
  FileDevice,
  fileStaging,
  isStorageError,
  openVolumeFile,
  StorageError,
  Volume,
} from "@blockship/storage";
import { toAgentRpcError } from "./errors";
import { HostedVolume, type HostedVolumeDeps } from "./hosted-volume";
import type { Logger } from "./log";
import { KeyedMutex } from "./mutex";
import { inVolumeScope } from "./process-guard";

export interface AllocateParams {
  readonly volumeId: string;
  readonly sizeBytes: number;
  readonly blockSize: number;
  readonly walSizeBytes: number;
  readonly durabilityMode: DurabilityMode;
}

export interface VolumeHostOptions {
  readonly dataDir: string;
  readonly devices: ReadonlyMap<string, string>;
  readonly log: Logger;
  readonly hosted: HostedVolumeDeps;
  /** Storage tuning for every volume (retention budgets from config). */
  readonly tuning?: VolumeTuning;
}

const VOLUME_FILE = /^([A-Za-z0-9._-]{1,128})\.blk$/;
/** The superblock region at the start of every device (storage layout). */
const SUPERBLOCK_REGION_BYTES = 4096;

export class VolumeHost {
  private readonly volumes = new Map<string, HostedVolume>();
  /** Devices that exist but could not be opened at start-up: never overwritten silently. */
  private readonly broken = new Map<string, string>();
  /** Serializes everything that changes one volume (allocate, delete, assignments). */
  readonly locks = new KeyedMutex((volumeId, fn) => inVolumeScope(volumeId, fn));
  private closing = false;

  constructor(private readonly options: VolumeHostOptions) {}

  /**
   * Tuning, plus where a block-device volume stages a rebuild's base image: a sparse file in the
   * data dir (a file volume stages next to its own file).
   */
  private openOptions(volumeId: string, onBlockDevice: boolean): OpenOptions {
    return {
      ...this.options.tuning,
      ...(onBlockDevice ? { staging: fileStaging(this.blockDeviceStagingPath(volumeId)) } : {}),
    };
  }

  /** Where a block-device volume stages a rebuild (a file volume uses `<its file>.install`). */
  private blockDeviceStagingPath(volumeId: string): string {
    return join(this.volumesDir, `${volumeId}.install`);
  }

  /** A hosted volume changes itself (REBUILDING → REPLICA) under the same lock as assignments. */
  private hostedDeps(volumeId: string): HostedVolumeDeps {
    return { ...this.options.hosted, locked: (fn) => this.locks.run(volumeId, fn) };
  }

  get volumesDir(): string {
    return join(this.options.dataDir, "volumes");
  }

  /** Opens every volume found on disk and on the configured devices. */
  async openAll(): Promise<void> {
    await fsp.mkdir(this.volumesDir, { recursive: true });
    const log = this.options.log;
    for (const name of (await fsp.readdir(this.volumesDir)).sort()) {
      const m = VOLUME_FILE.exec(name);
      if (m === null) continue;
      const volumeId = m[1] as string;
      if (this.options.devices.has(volumeId)) {
        log.warn({ volumeId, file: name }, "volume file ignored: the volume is configured on a block device");
        continue;
      }
      await this.openOne(volumeId, join(this.volumesDir, name), false);
    }
    for (const [volumeId, path] of [...this.options.devices].sort()) await this.openOne(volumeId, path, true);
  }

  private async openOne(volumeId: string, path: string, onBlockDevice: boolean): Promise<void> {
    const log = this.options.log.child({ volumeId, path });
    try {
      const volume = await openVolumeFile(path, this.openOptions(volumeId, onBlockDevice));
      this.volumes.set(
        volumeId,
        new HostedVolume(volumeId, volume, path, onBlockDevice, this.hostedDeps(volumeId)),
      );
      log.info({ epoch: volume.epoch, headLsn: volume.headLsn, recovery: volume.recovery }, "volume opened");
    } catch (err) {
      if (
        onBlockDevice &&
        isStorageError(err) &&
        (err.reason === "corrupt" || err.reason === "foreign_device")
      ) {
        log.info("block device holds no volume yet (AllocateVolume formats it)");
        return;
      }
      const detail = err instanceof Error ? err.message : String(err);
      this.broken.set(volumeId, detail);
      log.error({ err: detail }, "volume could not be opened; it is not served");
    }
  }

  get(volumeId: string): HostedVolume | undefined {
    return this.volumes.get(volumeId);
  }

  /** Sorted by volume ID. */
  list(): HostedVolume[] {
    return [...this.volumes.values()].sort((a, b) =>
      a.volumeId < b.volumeId ? -1 : a.volumeId > b.volumeId ? 1 : 0,
    );
  }

  /** Idempotent: identical parameters → created false; different ones → volume_exists. */
  allocate(p: AllocateParams): Promise<{ created: boolean; hosted: HostedVolume }> {
    return this.locks.run(p.volumeId, async () => {
      if (this.closing) throw new RpcError("shutting_down", "the agent is stopping");
      const existing = this.volumes.get(p.volumeId);
      if (existing !== undefined) {
        const diff = differences(existing.volume, p);
        if (diff.length > 0) {
          throw new RpcError(
            "volume_exists",
            `volume ${p.volumeId} exists with different ${diff.join(", ")}`,
          );
        }
        return { created: false, hosted: existing };
      }
      const broken = this.broken.get(p.volumeId);
      if (broken !== undefined) {
        throw new RpcError(
          "internal",
          `the device of ${p.volumeId} exists but could not be opened (${broken}); remove it first`,
        );
      }
      const device = this.options.devices.get(p.volumeId);
      const path = device ?? join(this.volumesDir, `${p.volumeId}.blk`);
      const opts = {
        ...this.openOptions(p.volumeId, device !== undefined),
        volumeSizeBytes: p.sizeBytes,
        blockSize: p.blockSize,
        walSizeBytes: p.walSizeBytes,
        durabilityMode: p.durabilityMode,
      };
      let volume: Volume;
      try {
        if (device === undefined) {
          volume = await createVolumeFile(path, opts);
        } else {
          const dev = await FileDevice.open(path);
          try {
            volume = await Volume.create(dev, opts);
          } catch (err) {
            await dev.close();
            throw err;
          }
        }
      } catch (err) {
        // Nothing is left behind: a half-created file would be "broken" at the next start.
        if (device === undefined && !(isStorageError(err) && err.reason === "invalid_argument")) {
          await fsp.rm(path, { force: true });
        }
        throw toAgentRpcError(err);
      }
      const hosted = new HostedVolume(
        p.volumeId,
        volume,
        path,
        device !== undefined,
        this.hostedDeps(p.volumeId),
      );
      this.volumes.set(p.volumeId, hosted);
      hosted.log.info({ ...opts, path }, "volume allocated");
      return { created: true, hosted };
    });
  }

  /** Closes and deletes the volume and its device file (a block device's superblock is wiped). */
  delete(volumeId: string): Promise<boolean> {
    return this.locks.run(volumeId, async () => {
      const hosted = this.volumes.get(volumeId);
      if (hosted === undefined) return false;
      this.volumes.delete(volumeId);
      try {
        await hosted.close();
      } catch (err) {
        hosted.log.warn({ err: String(err) }, "close before delete failed");
      }
      if (hosted.onBlockDevice) {
        const dev = await FileDevice.open(hosted.devicePath);
        try {
          await dev.writev([Buffer.alloc(SUPERBLOCK_REGION_BYTES)], 0);
          await dev.sync();
        } finally {
          await dev.close();
        }
      } else {
        await fsp.rm(hosted.devicePath, { force: true });
      }
      // An unfinished rebuild's staging (image, tail, resume record) goes with the volume.
      const staging = hosted.onBlockDevice
        ? this.blockDeviceStagingPath(volumeId)
        : `${hosted.devicePath}.install`;
      await fileStaging(staging).remove();
      hosted.log.info("volume deleted");
      return true;
    });
  }

  /**
   * Fails a hosted volume the way a failed fsync does (the process guard: an error escaped from
   * work on it, so its in-memory state is in doubt): every later write, flush and barrier fails
   * with volume_failed until the volume is reopened (agent restart). False if not hosted here.
   */
  fail(volumeId: string, cause: unknown): boolean {
    const h = this.volumes.get(volumeId);
    if (h === undefined) return false;
    const what = cause instanceof Error ? cause.message : String(cause);
    h.volume.fail(new StorageError("io_error", `an error escaped the agent's handling: ${what}`, { cause }));
    h.log.error({ err: what }, "volume failed by the process guard");
    return true;
  }

  /** Shutdown: every volume is closed (appends drained, checkpointed, device closed). */
  async closeAll(): Promise<void> {
    this.closing = true;
    const all = [...this.volumes.values()];
    this.volumes.clear();
    await Promise.all(
      all.map((h) =>
        this.locks.run(h.volumeId, () =>
          h.close().catch((err: unknown) => h.log.error({ err: String(err) }, "close failed")),
        ),
      ),
    );
  }
}

function differences(v: Volume, p: AllocateParams): string[] {
  const out: string[] = [];
  if (v.volumeSizeBytes !== p.sizeBytes) out.push(`size_bytes (${v.volumeSizeBytes}, asked ${p.sizeBytes})`);
  if (v.blockSize !== p.blockSize) out.push(`block_size (${v.blockSize}, asked ${p.blockSize})`);
  const wal = v.stats().walSizeBytes;
  if (wal !== p.walSizeBytes) out.push(`wal_size_bytes (${wal}, asked ${p.walSizeBytes})`);
  if (v.durabilityMode !== p.durabilityMode)
    out.push(`durability_mode (${v.durabilityMode}, asked ${p.durabilityMode})`);
  return out;
}
