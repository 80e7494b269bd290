import * as fs from "node:fs";
import * as nodePath from "node:path";
import { type BlockDevice, FileDevice } from "./device";
import { StorageError, wrapIoError } from "./errors";
import { openTailFile, SimTailFile, type TailFile } from "./install-tail";
import { type CrashChooser, SimDevice } from "./sim-device";
import type { VolumeState } from "./state";

/**
 * Where a base image and its WAL tail are staged while they are being received. Staging is separate
 * from the volume so an unfinished install never touches the live state; only `commitInstall`
 * copies it in.
 */
export interface StagingStore {
  /**
   * How a committed image becomes the volume. "copy" (the default): the image sits at offset 0 of
   * the staging device and the redo copies it into the extent after the commit point. "swap": the
   * staging file is laid out like the volume file and is renamed over it (see `swapStaging`).
   */
  readonly layout?: "copy" | "swap";
  /**
   * Opens the staging image, `fresh` = discard any previous content. Whenever the previous content
   * is not kept (fresh, missing, another size, not a pure image), the resume record goes with it.
   */
  open(sizeBytes: number, fresh: boolean): Promise<BlockDevice>;
  /** The resume record of the image the last open() kept (see InstallResumePoint); undefined if none. */
  readResumeRecord(): Promise<string | undefined>;
  /** Replaces the resume record durably: written aside, synced, renamed over, directory synced. */
  writeResumeRecord(text: string): Promise<void>;
  /** Opens an existing staging image (redo after a crash); undefined if there is none. */
  openExisting(): Promise<BlockDevice | undefined>;
  /** Opens the staged-WAL-tail sidecar empty (previous content discarded). */
  openTail(): Promise<TailFile>;
  /** Opens the existing tail sidecar (redo after a crash); undefined if there is none. */
  openExistingTail(): Promise<TailFile | undefined>;
  /** Makes the staging files' existence durable (directory entries); called before the commit point. */
  syncEntries(): Promise<void>;
  /** Removes the image, the tail and the resume record. */
  remove(): Promise<void>;
}

/** The resume record of a file staging: `<path>-resume`, replaced atomically. */
function resumeRecordFile(path: string): {
  read(): Promise<string | undefined>;
  write(text: string): Promise<void>;
  drop(): Promise<void>;
} {
  const file = `${path}-resume`;
  return {
    async read() {
      try {
        return await fs.promises.readFile(file, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw wrapIoError(err, "install resume record read");
      }
    },
    async write(text) {
      const tmp = `${file}.tmp`;
      try {
        const fh = await fs.promises.open(tmp, "w");
        try {
          await fh.writeFile(text, "utf8");
          await fh.datasync();
        } finally {
          await fh.close();
        }
        await fs.promises.rename(tmp, file);
        await syncDirectory(file);
      } catch (err) {
        throw wrapIoError(err, "install resume record write");
      }
    },
    async drop() {
      await fs.promises.rm(file, { force: true });
      await fs.promises.rm(`${file}.tmp`, { force: true });
    },
  };
}

async function syncDirectory(path: string): Promise<void> {
  const dir = await fs.promises.open(nodePath.dirname(path), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * Sparse sidecar files: the image at `path` (by default `<volume path>.install`), the tail at
 * `<path>-tail`, the resume record at `<path>-resume`. `keep` decides whether an existing image of
 * the right size may be kept by a non-fresh open (the swap layout keeps only pure images).
 */
export function fileStaging(
  path: string,
  keep: (image: BlockDevice) => Promise<boolean> = async () => true,
): StagingStore {
  const tailPath = `${path}-tail`;
  const resume = resumeRecordFile(path);
  return {
    async open(sizeBytes, fresh) {
      if (!fresh && fs.existsSync(path)) {
        const dev = await FileDevice.open(path);
        if (dev.sizeBytes === sizeBytes && (await keep(dev))) return dev;
        await dev.close();
      }
      await resume.drop();
      await fs.promises.rm(path, { force: true });
      return FileDevice.createFile(path, sizeBytes);
    },
    readResumeRecord: () => resume.read(),
    writeResumeRecord: (text) => resume.write(text),
    async openExisting() {
      if (!fs.existsSync(path)) return undefined;
      return FileDevice.open(path);
    },
    openTail: () => openTailFile(tailPath, true),
    async openExistingTail() {
      if (!fs.existsSync(tailPath)) return undefined;
      return openTailFile(tailPath, false);
    },
    syncEntries: () => syncDirectory(path),
    async remove() {
      await resume.drop();
      await fs.promises.rm(path, { force: true });
      await fs.promises.rm(tailPath, { force: true });
    },
  };
}

/**
 * In-memory staging for tests. The image and the tail survive a volume crash as they are; call
 * `crash()` to also lose what was not synced (image writes as the chooser says, tail bytes dropped).
 */
export class SimStaging implements StagingStore {
  device: SimDevice | undefined;
  tail: SimTailFile | undefined;
  /** Written durably (a crash keeps it), like the file staging's renamed-over record. */
  resumeRecord: string | undefined;

  async open(sizeBytes: number, fresh: boolean): Promise<BlockDevice> {
    if (fresh || !this.device || this.device.sizeBytes !== sizeBytes) {
      this.device = new SimDevice(sizeBytes);
      this.resumeRecord = undefined;
    }
    return this.reopened(this.device);
  }

  async readResumeRecord(): Promise<string | undefined> {
    return this.resumeRecord;
  }

  async writeResumeRecord(text: string): Promise<void> {
    this.resumeRecord = text;
  }

  async openExisting(): Promise<BlockDevice | undefined> {
    return this.device && this.reopened(this.device);
  }

  /** A volume closing its staging closes the device; the next open sees the same bytes. */
  private reopened(dev: SimDevice): SimDevice {
    if (dev.isClosed) this.device = dev.snapshot();
    return this.device!;
  }

  async openTail(): Promise<TailFile> {
    this.tail = new SimTailFile();
    return this.tail;
  }

  async openExistingTail(): Promise<TailFile | undefined> {
    return this.tail;
  }

  async syncEntries(): Promise<void> {}

  async remove(): Promise<void> {
    this.device = undefined;
    this.tail = undefined;
    this.resumeRecord = undefined;
  }

  crash(chooser: CrashChooser): void {
    this.device = this.device?.crash(chooser);
    this.tail = this.tail?.crash();
  }
}

const COPY_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * First step of the install redo (right after the commit point, and again from open() after a
 * crash): copy staging → extent. Not synced here; the redo syncs once after the tail replay. Idempotent.
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
  } catch (err) {
    throw wrapIoError(err, "install copy");
  }
}
