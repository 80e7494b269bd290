import { randomInt } from "node:crypto";
import { changeGeometry, changeRegionOffset, defaultGrainBytes, validateGrain } from "./change-region";
import {
  type CreateOptions,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_WAL_SIZE_BYTES,
  resolveTuning,
  validateGeometry,
} from "./config";
import type { BlockDevice } from "./device";
import { StorageError, wrapIoError } from "./errors";
import {
  DURABILITY_MODES,
  decodeSuperblockRegion,
  encodeSuperblock,
  newSuperblock,
  requiredDeviceBytes,
  SUPERBLOCK_REGION_BYTES,
  type Superblock,
  WAL_OFFSET_BYTES,
} from "./superblock";

/**
 * Writes a new, empty volume onto `device`. Order: invalidate any old superblock, zero the WAL
 * (unless known zero), sync, then write both superblock copies and sync — the superblock is the
 * commit point, so an interrupted create never looks like a volume.
 */
export async function formatDevice(device: BlockDevice, opts: CreateOptions): Promise<void> {
  const blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
  const walSizeBytes = opts.walSizeBytes ?? DEFAULT_WAL_SIZE_BYTES;
  validateGeometry(opts.volumeSizeBytes, walSizeBytes, blockSize);
  const mode = opts.durabilityMode ?? "best_effort";
  if (!DURABILITY_MODES.includes(mode))
    throw new StorageError("invalid_argument", `unknown durability mode ${mode}`);
  const epoch = opts.epoch ?? 0;
  if (!Number.isSafeInteger(epoch) || epoch < 0)
    throw new StorageError("invalid_argument", `bad epoch ${epoch}`);
  resolveTuning(opts, walSizeBytes, blockSize); // validate before touching the device
  const sb = newSuperblock({
    blockSize,
    volumeSizeBytes: opts.volumeSizeBytes,
    walSizeBytes,
    durabilityMode: mode,
    epoch,
    nowMs: Date.now(),
  });
  const need = requiredDeviceBytes(sb);
  if (device.sizeBytes < need) {
    throw new StorageError("too_small", `device has ${device.sizeBytes} bytes, the volume needs ${need}`);
  }
  // The tracking region follows the extent when the device has room for it (deviceBytesFor);
  // without it the volume tracks changes only as far back as its WAL reaches.
  const grain = opts.changeGrainBytes ?? defaultGrainBytes(opts.volumeSizeBytes, blockSize);
  validateGrain(grain, blockSize);
  const region = {
    changeRegionOffset: changeRegionOffset(WAL_OFFSET_BYTES + walSizeBytes, opts.volumeSizeBytes),
    changeGrainBytes: grain,
  };
  if (device.sizeBytes >= requiredDeviceBytes({ ...sb, ...region })) {
    // No slot is valid yet: the uuid is new and the tag random, so stale bytes of an older volume
    // on the same device never count; open() writes the first slot.
    Object.assign(sb, region, { changeTag: randomTag() });
  }
  try {
    if (!opts.walKnownZero) {
      await device.writev([Buffer.alloc(SUPERBLOCK_REGION_BYTES)], 0);
      const zeros = Buffer.alloc(Math.min(walSizeBytes, 4 * 1024 * 1024));
      for (let off = 0; off < walSizeBytes; off += zeros.length) {
        await device.writev(
          [zeros.subarray(0, Math.min(zeros.length, walSizeBytes - off))],
          WAL_OFFSET_BYTES + off,
        );
      }
      await device.sync();
    }
    await device.writev([encodeSuperblock({ ...sb, seq: 1 }), encodeSuperblock({ ...sb, seq: 2 })], 0);
    await device.sync();
  } catch (err) {
    throw wrapIoError(err, "formatting the device");
  }
}

function randomTag(): number {
  return randomInt(1, 0xffff_ffff);
}

/** A fresh tracking tag (installs pick one: the marks of the replaced content are void). */
export const newChangeTag = randomTag;

/** Device bytes a volume with these options needs, including its changed-block tracking region. */
export function deviceBytesFor(
  opts: Pick<CreateOptions, "volumeSizeBytes" | "walSizeBytes" | "blockSize" | "changeGrainBytes">,
): number {
  const walSizeBytes = opts.walSizeBytes ?? DEFAULT_WAL_SIZE_BYTES;
  const blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
  const grain = opts.changeGrainBytes ?? defaultGrainBytes(opts.volumeSizeBytes, blockSize);
  if (opts.changeGrainBytes !== undefined) validateGrain(grain, blockSize);
  const offset = changeRegionOffset(WAL_OFFSET_BYTES + walSizeBytes, opts.volumeSizeBytes);
  return offset + changeGeometry(opts.volumeSizeBytes, grain).regionBytes;
}

/** Reads and validates the superblock region; checks the device is as large as it says. */
export async function readSuperblock(device: BlockDevice): Promise<Superblock> {
  if (device.sizeBytes < SUPERBLOCK_REGION_BYTES) {
    throw new StorageError("too_small", `device has ${device.sizeBytes} bytes, less than a superblock`);
  }
  const region = Buffer.alloc(SUPERBLOCK_REGION_BYTES);
  await device.read(region, 0);
  const sb = decodeSuperblockRegion(region);
  const need = requiredDeviceBytes(sb);
  if (device.sizeBytes < need) {
    throw new StorageError("too_small", `device has ${device.sizeBytes} bytes, its superblock says ${need}`);
  }
  return sb;
}
