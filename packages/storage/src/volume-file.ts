import type { CreateOptions } from "./config";
import { FileDevice } from "./device";
import { deviceBytesFor } from "./format";
import { swapStaging } from "./install-swap";
import { type OpenOptions, Volume } from "./volume";

/**
 * Creates a new sparse volume file at `path` (fails if it exists); installs stage in `<path>.install`
 * laid out like the volume file and renamed over it at commit (swap staging).
 */
export async function createVolumeFile(path: string, opts: CreateOptions & OpenOptions): Promise<Volume> {
  const device = await FileDevice.createFile(path, deviceBytesFor(opts));
  try {
    // A freshly created sparse file reads as zeros: no need to zero the WAL.
    return await Volume.create(device, {
      walKnownZero: true,
      staging: swapStaging(path),
      ...opts,
    });
  } catch (err) {
    await device.close();
    throw err;
  }
}

/**
 * Opens an existing volume file (swap staging in `<path>.install`) or block device. Block devices
 * need an explicit `staging` for installs (copy layout: a sidecar file holding just the image).
 */
export async function openVolumeFile(path: string, opts: OpenOptions = {}): Promise<Volume> {
  const device = await FileDevice.open(path);
  try {
    return await Volume.open(device, {
      staging: path.startsWith("/dev/") ? undefined : swapStaging(path),
      ...opts,
    });
  } catch (err) {
    await device.close();
    throw err;
  }
}
