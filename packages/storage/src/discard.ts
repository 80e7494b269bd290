import * as fs from "node:fs";
import { createRequire } from "node:module";

/**
 * Releasing a byte range so it reads back as zeros (what a TRIM does to the extent). Node has no
 * fallocate/ioctl, so a small N-API helper (native/discard.cc, built by `npm ci` through node-gyp)
 * does it off the event loop: punch hole (FALLOC_FL_PUNCH_HOLE | KEEP_SIZE) on regular files,
 * BLKZEROOUT on block devices. When the helper cannot load, or the file system refuses the call,
 * the range is written with zeros instead: correct, but it costs the bytes and allocates the space.
 */
interface NativeDiscard {
  discard(fd: number, offsetBytes: number, lengthBytes: number, blockDevice: boolean): Promise<void>;
}

export type DiscardBackend = "native" | "zero-writes";

let native: NativeDiscard | undefined;
let loadError: string | undefined;
if (process.env.BLOCKSHIP_NATIVE_DISCARD === "0") {
  loadError = "disabled by BLOCKSHIP_NATIVE_DISCARD=0";
} else {
  try {
    const require = createRequire(import.meta.url);
    native = require("../native/build/Release/blockship_discard.node") as NativeDiscard;
  } catch (err) {
    loadError = err instanceof Error ? err.message.split("\n")[0] : String(err);
  }
}

/** Which way trims reach the extent in this process, and why the helper is missing if it is. */
export function discardBackend(): { backend: DiscardBackend; detail: string } {
  return native
    ? { backend: "native", detail: "fallocate(PUNCH_HOLE) on files, BLKZEROOUT on block devices" }
    : { backend: "zero-writes", detail: `native discard helper not loaded: ${loadError ?? "unknown"}` };
}

/** Bytes per zero write of the fallback: one shared buffer, never a buffer the size of the range. */
const ZERO_CHUNK_BYTES = 1024 * 1024;
const ZERO_IOVECS = 64;
let zeroChunk: Buffer | undefined;

/** The fallback: plain zero writes of [offset, offset + length), 64 MiB per pwritev. */
export async function writeZeros(
  writev: (bufs: readonly Buffer[], offsetBytes: number) => Promise<void>,
  offsetBytes: number,
  lengthBytes: number,
): Promise<void> {
  zeroChunk ??= Buffer.alloc(ZERO_CHUNK_BYTES);
  const zero = zeroChunk;
  for (let pos = 0; pos < lengthBytes; ) {
    const bufs: Buffer[] = [];
    let n = 0;
    while (bufs.length < ZERO_IOVECS && pos + n < lengthBytes) {
      const len = Math.min(zero.length, lengthBytes - pos - n);
      bufs.push(len === zero.length ? zero : zero.subarray(0, len));
      n += len;
    }
    await writev(bufs, offsetBytes + pos);
    pos += n;
  }
}

/**
 * The fallback of a device that can read: zero writes only where the range does not already read as
 * zeros, so a trim of a sparse file's never-written space (the common case: mkfs, fstrim) reads
 * through the holes instead of allocating them.
 */
export async function writeZerosWhereNonZero(
  read: (buf: Buffer, offsetBytes: number) => Promise<void>,
  writev: (bufs: readonly Buffer[], offsetBytes: number) => Promise<void>,
  offsetBytes: number,
  lengthBytes: number,
): Promise<void> {
  zeroChunk ??= Buffer.alloc(ZERO_CHUNK_BYTES);
  const zero = zeroChunk;
  const buf = Buffer.allocUnsafe(ZERO_CHUNK_BYTES);
  for (let pos = 0; pos < lengthBytes; pos += zero.length) {
    const len = Math.min(zero.length, lengthBytes - pos);
    const view = buf.subarray(0, len);
    await read(view, offsetBytes + pos);
    if (!view.equals(zero.subarray(0, len))) await writev([zero.subarray(0, len)], offsetBytes + pos);
  }
}

/** Errors after which the zero-write fallback is used (the call is unsupported, not failed). */
const UNSUPPORTED = new Set(["EOPNOTSUPP", "ENOTTY", "ENOSYS"]);

/**
 * Discards [offset, offset + length) of the open descriptor `fd` natively. Resolves false when the
 * helper is missing or the file system does not support it (the caller writes zeros); a real I/O
 * error rejects.
 */
export async function nativeDiscard(
  fd: number,
  offsetBytes: number,
  lengthBytes: number,
  blockDevice: boolean,
): Promise<boolean> {
  if (!native || lengthBytes <= 0) return native !== undefined;
  try {
    await native.discard(fd, offsetBytes, lengthBytes, blockDevice);
    return true;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && UNSUPPORTED.has(code)) return false;
    throw err;
  }
}

/** Allocated bytes of a file (st_blocks × 512): what `du` reports. */
export function allocatedBytes(path: string): number {
  return fs.statSync(path).blocks * 512;
}
