// Client-side block I/O for tests: typed Volume calls plus an in-memory model of what the agent
// acknowledged, so a test can compare a copy byte for byte against what the client saw.
import {
  deadlineIn,
  type FlushResponse__Output,
  type ReadResponse__Output,
  type TrimResponse__Output,
  unary,
  type WriteResponse__Output,
} from "@blockship/rpc";
import type { AgentHandle } from "./agents";
import { MiB } from "./master";

const CALL_TIMEOUT_MS = 15_000;
export const BLOCK_BYTES = 4096;
/** Largest Read the agent serves in one call. */
const MAX_READ_BYTES = 8 * MiB;

/** A small deterministic PRNG (mulberry32) so that failures reproduce from the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function patternBytes(length: number, rand: () => number): Buffer {
  const data = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i += 4) data.writeUInt32LE(Math.floor(rand() * 4294967296), i);
  return data;
}

export async function write(
  agent: AgentHandle,
  volumeId: string,
  lba: number,
  data: Buffer,
  expectedEpoch = 0,
) {
  return unary<WriteResponse__Output>((cb) =>
    agent.volume.Write(
      { volume_id: volumeId, lba: String(lba), data, expected_epoch: String(expectedEpoch) },
      deadlineIn(CALL_TIMEOUT_MS),
      cb,
    ),
  );
}

export async function trim(agent: AgentHandle, volumeId: string, lba: number, lengthBytes: number) {
  return unary<TrimResponse__Output>((cb) =>
    agent.volume.Trim(
      { volume_id: volumeId, lba: String(lba), length_bytes: String(lengthBytes) },
      deadlineIn(CALL_TIMEOUT_MS),
      cb,
    ),
  );
}

export async function flush(agent: AgentHandle, volumeId: string, expectedEpoch = 0) {
  return unary<FlushResponse__Output>((cb) =>
    agent.volume.Flush(
      { volume_id: volumeId, expected_epoch: String(expectedEpoch) },
      deadlineIn(CALL_TIMEOUT_MS),
      cb,
    ),
  );
}

export interface ReadOptions {
  /** Read this agent's copy whatever its role (a replica, a demoted primary): allow_copy_read. */
  readonly allowCopyRead?: boolean;
}

/** Reads from a writable primary (the fence applies) unless `allowCopyRead`. */
export async function read(
  agent: AgentHandle,
  volumeId: string,
  lba: number,
  lengthBytes: number,
  options: ReadOptions = {},
): Promise<Buffer> {
  const res = await unary<ReadResponse__Output>((cb) =>
    agent.volume.Read(
      {
        volume_id: volumeId,
        lba: String(lba),
        length_bytes: lengthBytes,
        allow_copy_read: options.allowCopyRead === true,
      },
      deadlineIn(CALL_TIMEOUT_MS),
      cb,
    ),
  );
  return res.data;
}

/** Reads a whole copy through Volume.Read in chunks (any role: tests compare copies byte for byte). */
export async function readAll(agent: AgentHandle, volumeId: string, sizeBytes: number): Promise<Buffer> {
  const out = Buffer.alloc(sizeBytes);
  for (let offset = 0; offset < sizeBytes; offset += MAX_READ_BYTES) {
    const length = Math.min(MAX_READ_BYTES, sizeBytes - offset);
    const chunk = await read(agent, volumeId, offset / BLOCK_BYTES, length, { allowCopyRead: true });
    if (chunk.length !== length) throw new Error(`short read at ${offset}: ${chunk.length} of ${length}`);
    chunk.copy(out, offset);
  }
  return out;
}

/** First differing byte offset of two equal-length buffers, or -1 (for a readable failure). */
/** One block holding `text` (ASCII) at its start, zeros after: a block a test can recognise. */
export function textBlock(text: string): Buffer {
  const data = Buffer.alloc(BLOCK_BYTES);
  data.write(text, "ascii");
  return data;
}

export function firstDifference(a: Buffer, b: Buffer): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  if (a.equals(b)) return -1;
  for (let i = 0; i < a.length; i += BLOCK_BYTES) {
    if (!a.subarray(i, i + BLOCK_BYTES).equals(b.subarray(i, i + BLOCK_BYTES))) return i;
  }
  return -1;
}

/**
 * What the client saw acknowledged: `acked` applies every acknowledged write/trim; `flushed` is
 * the copy of `acked` taken when a flush covering all of it succeeded.
 */
export class VolumeModel {
  readonly acked: Buffer;
  flushed: Buffer;
  ops = 0;

  constructor(
    readonly volumeId: string,
    readonly sizeBytes: number,
  ) {
    this.acked = Buffer.alloc(sizeBytes);
    this.flushed = Buffer.alloc(sizeBytes);
  }

  get blocks(): number {
    return this.sizeBytes / BLOCK_BYTES;
  }

  /** Random writes (4 KiB .. 1 MiB) and trims through `agent`, applied to the model when acknowledged. */
  async randomOps(agent: AgentHandle, count: number, rand: () => number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const maxBlocks = MiB / BLOCK_BYTES;
      const blocks = 1 + Math.floor(rand() ** 3 * maxBlocks); // mostly small, sometimes 1 MiB
      const lba = Math.floor(rand() * (this.blocks - blocks + 1));
      if (rand() < 0.15) {
        await trim(agent, this.volumeId, lba, blocks * BLOCK_BYTES);
        this.acked.fill(0, lba * BLOCK_BYTES, (lba + blocks) * BLOCK_BYTES);
      } else {
        const data = patternBytes(blocks * BLOCK_BYTES, rand);
        await write(agent, this.volumeId, lba, data);
        data.copy(this.acked, lba * BLOCK_BYTES);
      }
      this.ops += 1;
    }
  }

  /** One 4 KiB write at a random block (light background load while something else is measured). */
  async smallWrite(agent: AgentHandle, rand: () => number): Promise<void> {
    const lba = Math.floor(rand() * this.blocks);
    const data = patternBytes(BLOCK_BYTES, rand);
    await write(agent, this.volumeId, lba, data);
    data.copy(this.acked, lba * BLOCK_BYTES);
    this.ops += 1;
  }

  async flush(agent: AgentHandle): Promise<FlushResponse__Output> {
    const res = await flush(agent, this.volumeId);
    this.flushed = Buffer.from(this.acked);
    return res;
  }
}
