// Sub-block I/O for the NBD export: NBD clients that do not negotiate block sizes (and the Linux
// loop device under nbdfuse, which writes 512-byte sectors) send requests aligned to 512 bytes,
// while a volume stores whole blocks (4096 bytes). A request is split into whole blocks, written
// directly, and at most two partial blocks, read-modify-written under a per-block lock of the
// volume, so two partial writes to different bytes of one block never lose each other's bytes.
import type { HostedVolume } from "./hosted-volume";
import { KeyedMutex } from "./mutex";

/** The smallest unit NBD clients may address (what NBD_INFO_BLOCK_SIZE advertises as minimum). */
export const NBD_MIN_BLOCK_BYTES = 512;

export type Piece =
  /** Whole blocks: `offset` and `length` are multiples of the block size; `at` is where in the request. */
  | { readonly kind: "blocks"; readonly offset: number; readonly length: number; readonly at: number }
  /** Bytes [start, end) of the block at `blockOffset`; `at` is where in the request. */
  | {
      readonly kind: "partial";
      readonly blockOffset: number;
      readonly start: number;
      readonly end: number;
      readonly at: number;
    };

/** Splits [offset, offset + length) into whole-block runs and partial blocks (pure). */
export function splitByBlock(offset: number, length: number, blockBytes: number): Piece[] {
  const out: Piece[] = [];
  const end = offset + length;
  let pos = offset;
  while (pos < end) {
    const blockOffset = pos - (pos % blockBytes);
    const blockEnd = blockOffset + blockBytes;
    if (pos === blockOffset && end >= blockEnd) {
      const runEnd = end - (end % blockBytes);
      out.push({ kind: "blocks", offset: pos, length: runEnd - pos, at: pos - offset });
      pos = runEnd;
    } else {
      const stop = Math.min(end, blockEnd);
      out.push({
        kind: "partial",
        blockOffset,
        start: pos - blockOffset,
        end: stop - blockOffset,
        at: pos - offset,
      });
      pos = stop;
    }
  }
  return out;
}

/** The whole-block range that covers [offset, offset + length). */
export function coveringRange(
  offset: number,
  length: number,
  blockBytes: number,
): { offset: number; length: number } {
  const start = offset - (offset % blockBytes);
  const end = Math.ceil((offset + length) / blockBytes) * blockBytes;
  return { offset: start, length: end - start };
}

/** One lock table per volume, shared by every connection and export object of it. */
const locks = new WeakMap<HostedVolume, KeyedMutex>();

/**
 * Read-modify-write of one block under the volume's lock of that block: `patch` gets the block's
 * current bytes (a private copy) and changes them; `writeBlock` stores the result.
 */
export function modifyBlock(
  h: HostedVolume,
  blockOffset: number,
  readBlock: () => Promise<Buffer>,
  patch: (block: Buffer) => void,
  writeBlock: (block: Buffer) => Promise<unknown>,
): Promise<void> {
  let m = locks.get(h);
  if (m === undefined) {
    m = new KeyedMutex();
    locks.set(h, m);
  }
  return m.run(String(blockOffset), async () => {
    const block = Buffer.from(await readBlock());
    patch(block);
    await writeBlock(block);
  });
}
