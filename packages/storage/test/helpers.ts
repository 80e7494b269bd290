import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "vitest";
import {
  type CreateOptions,
  deviceBytesFor,
  type OpenOptions,
  SimDevice,
  SimStaging,
  StorageError,
  type StorageErrorReason,
  Volume,
} from "../src/index";

export const BS = 512;
export const SMALL: CreateOptions = { volumeSizeBytes: 64 * BS, walSizeBytes: 16 * 1024, blockSize: BS };

export function deviceFor(opts: CreateOptions): SimDevice {
  // With room for the changed-block tracking region, as createVolumeFile allocates.
  return new SimDevice(deviceBytesFor(opts));
}

export async function simVolume(
  opts: Partial<CreateOptions & OpenOptions> = {},
): Promise<{ vol: Volume; dev: SimDevice; staging: SimStaging; opts: CreateOptions & OpenOptions }> {
  const staging = new SimStaging();
  // Plain appends + group-commit fdatasync unless a test asks for O_DSYNC appends (durableAppendMaxBytes).
  const full = { ...SMALL, flushIntervalMs: 60_000, durableAppendMaxBytes: 0, staging, ...opts };
  const dev = deviceFor(full);
  const vol = await Volume.create(dev, full);
  return { vol, dev, staging, opts: full };
}

/** Deterministic block content: the LBA and a tag in every 4-byte word. */
export function block(lba: number, tag: number, blocks = 1, bs = BS): Buffer {
  const b = Buffer.alloc(bs * blocks);
  for (let i = 0; i < b.length; i += 8) {
    b.writeUInt32LE(lba + Math.floor(i / bs), i);
    b.writeUInt32LE(tag, i + 4);
  }
  return b;
}

export async function expectReason(
  p: Promise<unknown> | (() => unknown),
  reason: StorageErrorReason,
): Promise<StorageError> {
  let err: unknown;
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err, `expected a ${reason} error`).toBeInstanceOf(StorageError);
  expect((err as StorageError).reason).toBe(reason);
  return err as StorageError;
}

export function tmpDir(prefix = "blockship-storage-"): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Resolves when `cond()` holds, checking after each event-loop turn (no fixed sleeps). */
export async function waitFor(cond: () => boolean, what: string, maxTurns = 200_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (cond()) return;
    await new Promise<void>((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface FakeClock {
  now(): number;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  /** Moves time forward and fires every interval callback once. */
  advance(ms: number): void;
}

export function fakeClock(): FakeClock {
  let t = 1_000_000;
  const fns = new Map<number, () => void>();
  let next = 1;
  return {
    now: () => t,
    setInterval: (fn) => {
      fns.set(next, fn);
      return next++;
    },
    clearInterval: (h) => {
      fns.delete(h as number);
    },
    advance(ms) {
      t += ms;
      for (const f of fns.values()) f();
    },
  };
}
