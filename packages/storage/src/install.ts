import * as fs from "node:fs";
import { type BlockDevice, FileDevice } from "./device";
import { StorageError, wrapIoError } from "./errors";
import { RECORD_HEADER_BYTES } from "./record";
import { SimDevice } from "./sim-device";
import type { VolumeState } from "./state";

/**
 * Where a base image is staged while it is being received. Staging is separate from the volume so
 * an unfinished install never touches the live state; only `commitInstall` copies it in.
 */
export interface StagingStore {
  /** Opens the staging image, `fresh` = discard any previous content. */
  open(sizeBytes: number, fresh: boolean): Promise<BlockDevice>;
  /** Opens an existing staging image (redo after a crash); undefined if there is none. */
  openExisting(): Promise<BlockDevice | undefined>;
  remove(): Promise<void>;
}

/** A sparse sidecar file, by default `<volume path>.install`. */
export function fileStaging(path: string): StagingStore {
  return {
    async open(sizeBytes, fresh) {
      if (fresh) await fs.promises.rm(path, { force: true });
      if (!fs.existsSync(path)) return FileDevice.createFile(path, sizeBytes);
      const dev = await FileDevice.open(path);
      if (dev.sizeBytes !== sizeBytes) {
        await dev.close();
        await fs.promises.rm(path, { force: true });
        return FileDevice.createFile(path, sizeBytes);
      }
      return dev;
    },
    async openExisting() {
      if (!fs.existsSync(path)) return undefined;
      return FileDevice.open(path);
    },
    async remove() {
      await fs.promises.rm(path, { force: true });
    },
  };
}

/** In-memory staging on a SimDevice (tests): `current` survives crashes the way the chooser says. */
export class SimStaging implements StagingStore {
  device: SimDevice | undefined;

  async open(sizeBytes: number, fresh: boolean): Promise<BlockDevice> {
    if (fresh || !this.device || this.device.sizeBytes !== sizeBytes) this.device = new SimDevice(sizeBytes);
    return this.device;
  }

  async openExisting(): Promise<BlockDevice | undefined> {
    return this.device;
  }

  async remove(): Promise<void> {
    this.device = undefined;
  }
}

const COPY_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * The redo half of a committed install (runs right after the commit point and again from open()
 * if the process died before it finished): copy staging → extent, invalidate the record slot at the
 * new WAL start, sync. Idempotent.
 */
export async function copyStagedImage(
  device: BlockDevice,
  staging: BlockDevice,
  s: VolumeState,
): Promise<void> {
  const size = s.sb.volumeSizeBytes;
  if (staging.sizeBytes < size)
    throw new StorageError("corrupt", "install staging image is smaller than the volume");
  try {
    const buf = Buffer.allocUnsafe(Math.min(COPY_CHUNK_BYTES, size));
    for (let off = 0; off < size; off += buf.length) {
      const chunk = buf.subarray(0, Math.min(buf.length, size - off));
      await staging.read(chunk, off);
      await device.writev([chunk], s.extentOffsetBytes + off);
    }
    // The WAL restarts at walTailOffset with LSN base+1: make sure no old record sits in that slot
    // (the CRC chain then rejects any stale record after the first new one).
    const phys = s.sb.walTailOffset % s.geo.walSizeBytes;
    const span = Math.min(RECORD_HEADER_BYTES, s.geo.walSizeBytes - phys);
    await device.writev([Buffer.alloc(span)], s.geo.walOffsetBytes + phys);
    if (span < RECORD_HEADER_BYTES)
      await device.writev([Buffer.alloc(RECORD_HEADER_BYTES)], s.geo.walOffsetBytes);
    await device.sync();
  } catch (err) {
    throw wrapIoError(err, "install copy");
  }
}
