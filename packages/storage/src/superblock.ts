import { randomUUID } from "node:crypto";
import { changeGeometry } from "./change-region";
import { crc32 } from "./crc";
import { StorageError } from "./errors";
import { decodeHistory, encodeHistory, type Generation, HISTORY_BYTES } from "./history";
import { readU64, writeU64 } from "./u64";

/**
 * The first 4 KiB of the device hold two copies of the superblock (A at 0, B at 2048). Each write
 * goes to the copy NOT holding the newest generation, so a torn superblock write can only damage
 * the older copy: open() picks the valid copy with the highest `seq`. Each copy has its own CRC.
 */
export const SUPERBLOCK_REGION_BYTES = 4096;
export const SUPERBLOCK_COPY_BYTES = 2048;
export const WAL_OFFSET_BYTES = SUPERBLOCK_REGION_BYTES;
const MAGIC = Buffer.from("BLKSHIP1", "ascii");
/**
 * 2 added the changed-block tracking region and the history (bytes 200..). A version-1 superblock
 * is still read (no tracking region, empty history) and is rewritten as version 2 by the next
 * superblock write, which older code refuses to open (never misread).
 */
export const FORMAT_VERSION = 2;
/**
 * Written instead of FORMAT_VERSION while a resync marker is set, so code that does not know the
 * marker refuses the volume (its image is not consistent) rather than serving it; once the marker
 * clears, the next superblock write is version 2 again.
 */
export const RESYNC_FORMAT_VERSION = 3;
const HISTORY_OFFSET = 216;
/** The resync marker: fork u64, base u64, consistent u64, phase u8 (after the history). */
const RESYNC_OFFSET = HISTORY_OFFSET + HISTORY_BYTES;
const CRC_OFFSET = SUPERBLOCK_COPY_BYTES - 4;
const FLAG_INSTALL_PENDING = 1;
const FLAG_TAIL_CRC_KNOWN = 2;
/** Set when `walTailEpoch` is stored (volumes written before the field have it clear). */
const FLAG_TAIL_EPOCH_KNOWN = 4;
/** A changed-block resync is pending (the marker fields at RESYNC_OFFSET are valid). */
const FLAG_RESYNC_PENDING = 8;
const RESYNC_PHASES = ["transfer", "catchup"] as const;

/**
 * A pending changed-block resync. `transfer`: blocks are being written straight into the extent
 * (the image is a mix of old and new content); `catchup`: committed at baseLsn, consistent once
 * the log is durable up to consistentLsn. baseLsn/consistentLsn are 0 in phase transfer.
 */
export interface ResyncMarker {
  phase: (typeof RESYNC_PHASES)[number];
  forkLsn: number;
  baseLsn: number;
  consistentLsn: number;
}

export const DURABILITY_MODES = ["best_effort", "sync_all", "sync_quorum"] as const;
export type DurabilityMode = (typeof DURABILITY_MODES)[number];

export interface Superblock {
  blockSize: number;
  uuid: string;
  volumeSizeBytes: number;
  walSizeBytes: number;
  createdAtMs: number;
  /** Generation of this copy; the newest valid copy wins. */
  seq: number;
  epoch: number;
  durabilityMode: DurabilityMode;
  /** Highest LSN whose effect is in the extent and synced. */
  checkpointLsn: number;
  /** The extent may hold effects up to this LSN (written before extent writes start). */
  extentHighLsn: number;
  /** Logical WAL offset of the tail and the LSN of the last record before it. */
  walTailOffset: number;
  walTailLsn: number;
  /**
   * CRC of record walTailLsn (the chain value the first retained record must continue, and how a
   * fully checkpointed copy still names its head record in a handshake); undefined only when it was
   * never known (an install by an older version, whose source did not send it).
   */
  walTailCrc: number | undefined;
  /** Epoch of record walTailLsn; undefined when not known (volumes from before the field). */
  walTailEpoch: number | undefined;
  /** Advisory only: recovery scans from the tail regardless. */
  walHeadOffset: number;
  walHeadLsn: number;
  /** Base-image install in progress (commit point passed, copy may be incomplete). */
  installPending: boolean;
  installBaseLsn: number;
  installEpoch: number;
  installImageHighLsn: number;
  /** Staged WAL tail of the pending install: last LSN (installBaseLsn when none) and its byte length. */
  installTailLastLsn: number;
  installTailBytes: number;
  /** Device offset of the changed-block tracking region; 0: none (version-1 volume, device too small). */
  changeRegionOffset: number;
  /** Bytes of volume per tracking bit (0 without a region). */
  changeGrainBytes: number;
  /** Tracking slots are valid only with this tag; every install picks a new one (old marks void). */
  changeTag: number;
  /** Persisted history (oldest first, at most MAX_GENERATIONS). */
  generations: Generation[];
  /** Pending changed-block resync (undefined: none; volumes written before the field have none). */
  resync?: ResyncMarker | undefined;
}

export function extentOffsetBytes(sb: Pick<Superblock, "walSizeBytes">): number {
  return WAL_OFFSET_BYTES + sb.walSizeBytes;
}

export function requiredDeviceBytes(
  sb: Pick<Superblock, "walSizeBytes" | "volumeSizeBytes"> &
    Partial<Pick<Superblock, "changeRegionOffset" | "changeGrainBytes">>,
): number {
  const plain = WAL_OFFSET_BYTES + sb.walSizeBytes + sb.volumeSizeBytes;
  if (!sb.changeRegionOffset || !sb.changeGrainBytes) return plain;
  return sb.changeRegionOffset + changeGeometry(sb.volumeSizeBytes, sb.changeGrainBytes).regionBytes;
}

export function newSuperblock(args: {
  blockSize: number;
  volumeSizeBytes: number;
  walSizeBytes: number;
  durabilityMode: DurabilityMode;
  epoch: number;
  nowMs: number;
}): Superblock {
  return {
    blockSize: args.blockSize,
    uuid: randomUUID(),
    volumeSizeBytes: args.volumeSizeBytes,
    walSizeBytes: args.walSizeBytes,
    createdAtMs: args.nowMs,
    seq: 0,
    epoch: args.epoch,
    durabilityMode: args.durabilityMode,
    checkpointLsn: 0,
    extentHighLsn: 0,
    walTailOffset: 0,
    walTailLsn: 0,
    walTailCrc: 0,
    walTailEpoch: 0,
    walHeadOffset: 0,
    walHeadLsn: 0,
    installPending: false,
    installBaseLsn: 0,
    installEpoch: 0,
    installImageHighLsn: 0,
    installTailLastLsn: 0,
    installTailBytes: 0,
    changeRegionOffset: 0,
    changeGrainBytes: 0,
    changeTag: 0,
    generations: [],
    resync: undefined,
  };
}

/** Encodes one 2048-byte copy. */
export function encodeSuperblock(sb: Superblock): Buffer {
  const buf = Buffer.alloc(SUPERBLOCK_COPY_BYTES);
  MAGIC.copy(buf, 0);
  buf.writeUInt16LE(sb.resync ? RESYNC_FORMAT_VERSION : FORMAT_VERSION, 8);
  const flags =
    (sb.resync ? FLAG_RESYNC_PENDING : 0) |
    (sb.installPending ? FLAG_INSTALL_PENDING : 0) |
    (sb.walTailCrc !== undefined ? FLAG_TAIL_CRC_KNOWN : 0) |
    (sb.walTailEpoch !== undefined ? FLAG_TAIL_EPOCH_KNOWN : 0);
  buf.writeUInt16LE(flags, 10);
  buf.writeUInt32LE(sb.blockSize, 12);
  Buffer.from(sb.uuid.replaceAll("-", ""), "hex").copy(buf, 16);
  writeU64(buf, 32, sb.volumeSizeBytes);
  writeU64(buf, 40, WAL_OFFSET_BYTES);
  writeU64(buf, 48, sb.walSizeBytes);
  writeU64(buf, 56, extentOffsetBytes(sb));
  writeU64(buf, 64, sb.createdAtMs);
  writeU64(buf, 72, sb.seq);
  writeU64(buf, 80, sb.epoch);
  buf.writeUInt8(DURABILITY_MODES.indexOf(sb.durabilityMode), 88);
  writeU64(buf, 96, sb.checkpointLsn);
  writeU64(buf, 104, sb.extentHighLsn);
  writeU64(buf, 112, sb.walTailOffset);
  writeU64(buf, 120, sb.walTailLsn);
  writeU64(buf, 128, sb.walHeadOffset);
  writeU64(buf, 136, sb.walHeadLsn);
  writeU64(buf, 144, sb.installBaseLsn);
  writeU64(buf, 152, sb.installEpoch);
  writeU64(buf, 160, sb.installImageHighLsn);
  buf.writeUInt32LE(sb.walTailCrc ?? 0, 168);
  writeU64(buf, 176, sb.installTailLastLsn);
  writeU64(buf, 184, sb.installTailBytes);
  writeU64(buf, 192, sb.walTailEpoch ?? 0);
  writeU64(buf, 200, sb.changeRegionOffset);
  buf.writeUInt32LE(sb.changeGrainBytes, 208);
  buf.writeUInt32LE(sb.changeTag >>> 0, 212);
  encodeHistory(buf, HISTORY_OFFSET, sb.generations);
  if (sb.resync) {
    writeU64(buf, RESYNC_OFFSET, sb.resync.forkLsn);
    writeU64(buf, RESYNC_OFFSET + 8, sb.resync.baseLsn);
    writeU64(buf, RESYNC_OFFSET + 16, sb.resync.consistentLsn);
    buf.writeUInt8(RESYNC_PHASES.indexOf(sb.resync.phase), RESYNC_OFFSET + 24);
  }
  buf.writeUInt32LE(crc32(buf.subarray(0, CRC_OFFSET)), CRC_OFFSET);
  return buf;
}

export type DecodeResult =
  | { ok: true; sb: Superblock }
  | { ok: false; reason: "foreign" | "corrupt"; detail: string };

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** Decodes and validates one copy. */
export function decodeSuperblock(buf: Buffer): DecodeResult {
  if (!buf.subarray(0, 8).equals(MAGIC)) return { ok: false, reason: "foreign", detail: "bad magic" };
  if (buf.readUInt32LE(CRC_OFFSET) !== crc32(buf.subarray(0, CRC_OFFSET))) {
    return { ok: false, reason: "corrupt", detail: "superblock checksum mismatch" };
  }
  const corrupt = (detail: string): DecodeResult => ({ ok: false, reason: "corrupt", detail });
  const version = buf.readUInt16LE(8);
  if (version !== FORMAT_VERSION && version !== RESYNC_FORMAT_VERSION && version !== 1)
    return corrupt(`unsupported version ${version}`);
  // Version 1 wrote zeros from byte 200 on: no tracking region, no history.
  const generations = decodeHistory(buf, HISTORY_OFFSET);
  if (generations === undefined) return corrupt("bad history");
  const flags = buf.readUInt16LE(10);
  const blockSize = buf.readUInt32LE(12);
  const hex = buf.subarray(16, 32).toString("hex");
  const mode = DURABILITY_MODES[buf.readUInt8(88)];
  const sb: Superblock = {
    blockSize,
    uuid: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
    volumeSizeBytes: readU64(buf, 32),
    walSizeBytes: readU64(buf, 48),
    createdAtMs: readU64(buf, 64),
    seq: readU64(buf, 72),
    epoch: readU64(buf, 80),
    durabilityMode: mode ?? "best_effort",
    checkpointLsn: readU64(buf, 96),
    extentHighLsn: readU64(buf, 104),
    walTailOffset: readU64(buf, 112),
    walTailLsn: readU64(buf, 120),
    walTailCrc: (flags & FLAG_TAIL_CRC_KNOWN) !== 0 ? buf.readUInt32LE(168) : undefined,
    // Older volumes left bytes 192.. zero and the flag clear: readable, the tail epoch just unknown.
    walTailEpoch: (flags & FLAG_TAIL_EPOCH_KNOWN) !== 0 ? readU64(buf, 192) : undefined,
    walHeadOffset: readU64(buf, 128),
    walHeadLsn: readU64(buf, 136),
    installPending: (flags & FLAG_INSTALL_PENDING) !== 0,
    installBaseLsn: readU64(buf, 144),
    installEpoch: readU64(buf, 152),
    installImageHighLsn: readU64(buf, 160),
    installTailLastLsn: readU64(buf, 176),
    installTailBytes: readU64(buf, 184),
    changeRegionOffset: version === 1 ? 0 : readU64(buf, 200),
    changeGrainBytes: version === 1 ? 0 : buf.readUInt32LE(208),
    changeTag: version === 1 ? 0 : buf.readUInt32LE(212),
    generations: version === 1 ? [] : generations,
    resync: (flags & FLAG_RESYNC_PENDING) !== 0 ? decodeResync(buf) : undefined,
  };
  if ((flags & FLAG_RESYNC_PENDING) !== 0 && (version !== RESYNC_FORMAT_VERSION || !sb.resync))
    return corrupt("bad resync marker");
  if (mode === undefined) return corrupt("unknown durability mode");
  if (Object.values(sb).some((v) => v === -1)) return corrupt("field out of range");
  if (version === RESYNC_FORMAT_VERSION && !sb.resync) return corrupt("version 3 without a resync marker");
  if (sb.changeRegionOffset !== 0) {
    const g = sb.changeGrainBytes;
    if (g < blockSize || (g & (g - 1)) !== 0 || sb.changeRegionOffset < readU64(buf, 56) + sb.volumeSizeBytes)
      return corrupt("bad change tracking region");
  }
  if (!isPowerOfTwo(blockSize) || blockSize < 512 || blockSize > 65536)
    return corrupt(`bad block size ${blockSize}`);
  if (readU64(buf, 40) !== WAL_OFFSET_BYTES) return corrupt("bad WAL offset");
  if (sb.volumeSizeBytes <= 0 || sb.volumeSizeBytes % blockSize !== 0) return corrupt("bad volume size");
  if (sb.walSizeBytes <= 0 || sb.walSizeBytes % 4096 !== 0) return corrupt("bad WAL size");
  if (readU64(buf, 56) !== extentOffsetBytes(sb)) return corrupt("bad extent offset");
  if (sb.walTailLsn > sb.checkpointLsn || sb.checkpointLsn > sb.extentHighLsn)
    return corrupt("bad LSN order");
  return { ok: true, sb };
}

function decodeResync(buf: Buffer): ResyncMarker | undefined {
  const phase = RESYNC_PHASES[buf.readUInt8(RESYNC_OFFSET + 24)];
  const forkLsn = readU64(buf, RESYNC_OFFSET);
  const baseLsn = readU64(buf, RESYNC_OFFSET + 8);
  const consistentLsn = readU64(buf, RESYNC_OFFSET + 16);
  if (phase === undefined || forkLsn < 0 || baseLsn < 0 || consistentLsn < 0) return undefined;
  if (phase === "catchup" && (baseLsn < forkLsn || consistentLsn < baseLsn)) return undefined;
  return { phase, forkLsn, baseLsn, consistentLsn };
}

/** Picks the newest valid copy from the 4 KiB region, or throws a typed error. */
export function decodeSuperblockRegion(region: Buffer): Superblock {
  const a = decodeSuperblock(region.subarray(0, SUPERBLOCK_COPY_BYTES));
  const b = decodeSuperblock(region.subarray(SUPERBLOCK_COPY_BYTES, SUPERBLOCK_REGION_BYTES));
  const valid = [a, b].flatMap((r) => (r.ok ? [r.sb] : []));
  if (valid.length === 0) {
    if (!a.ok && !b.ok && a.reason === "foreign" && b.reason === "foreign") {
      throw new StorageError("foreign_device", "not a blockship volume (bad superblock magic)");
    }
    const detail = [a, b].map((r) => (r.ok ? "ok" : r.detail)).join("; ");
    throw new StorageError("corrupt", `no valid superblock copy (${detail})`);
  }
  valid.sort((x, y) => y.seq - x.seq);
  return valid[0]!;
}

/** Byte offset of the copy that generation `seq` is written to (alternates A/B). */
export function superblockCopyOffset(seq: number): number {
  return (seq % 2) * SUPERBLOCK_COPY_BYTES;
}
