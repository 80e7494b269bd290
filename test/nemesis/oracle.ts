// Reading copies back and judging them against the history (see history.ts for the rule).
import { BLOCK_BYTES, identify } from "./block-content";
import type { Cluster } from "./cluster";
import type { History } from "./history";

export interface Violation {
  readonly when: string;
  readonly copy: string;
  readonly what: string;
}

/** At most this many differing blocks are listed per copy and check (then a count). */
const LISTED_PER_COPY = 4;
const READ_CHUNK_BYTES = 1024 * 1024;

export interface CopyToCheck {
  readonly name: string;
  /** A copy the master could promote next: it must hold every flushed block. */
  readonly promotable: boolean;
}

/**
 * Reads blocks [0, hotBlocks) of every listed copy and judges each block. A copy that cannot be
 * read is noted in `notes`, not judged. Returns the images read (for the cross-copy comparison).
 */
export async function checkCopies(
  cluster: Cluster,
  history: History,
  volumeId: string,
  copies: readonly CopyToCheck[],
  hotBlocks: number,
  when: string,
  violations: Violation[],
  notes: string[],
): Promise<Map<string, Buffer>> {
  const images = new Map<string, Buffer>();
  for (const copy of copies) {
    const image = await readImage(cluster, copy.name, volumeId, hotBlocks).catch((err: unknown) => {
      notes.push(`${when}: could not read ${copy.name}: ${String(err).slice(0, 100)}`);
      return undefined;
    });
    if (image === undefined) continue;
    images.set(copy.name, image);
    let bad = 0;
    for (let lba = 0; lba < hotBlocks; lba++) {
      const block = image.subarray(lba * BLOCK_BYTES, (lba + 1) * BLOCK_BYTES);
      const verdict = history.judge(lba, identify(block, lba), copy.promotable);
      if (verdict.ok) continue;
      bad += 1;
      if (bad <= LISTED_PER_COPY)
        violations.push({ when, copy: copy.name, what: `lba ${lba}: ${verdict.detail}` });
    }
    if (bad > LISTED_PER_COPY) {
      violations.push({ when, copy: copy.name, what: `… ${bad - LISTED_PER_COPY} more bad blocks` });
    }
  }
  return images;
}

async function readImage(cluster: Cluster, name: string, volumeId: string, blocks: number): Promise<Buffer> {
  const total = blocks * BLOCK_BYTES;
  const parts: Buffer[] = [];
  for (let offset = 0; offset < total; offset += READ_CHUNK_BYTES) {
    const length = Math.min(READ_CHUNK_BYTES, total - offset);
    const data = await cluster.readCopy(name, volumeId, offset / BLOCK_BYTES, length);
    if (data.length !== length) throw new Error(`short read at ${offset}: ${data.length} of ${length}`);
    parts.push(data);
  }
  return Buffer.concat(parts);
}

/** After a flush every copy confirmed: each copy must equal the primary block for block. */
export function compareWithPrimary(
  images: ReadonlyMap<string, Buffer>,
  primary: string,
  when: string,
  violations: Violation[],
): void {
  const reference = images.get(primary);
  if (reference === undefined) return;
  for (const [name, image] of images) {
    if (name === primary) continue;
    const differing: number[] = [];
    for (let lba = 0; lba * BLOCK_BYTES < image.length; lba++) {
      const a = image.subarray(lba * BLOCK_BYTES, (lba + 1) * BLOCK_BYTES);
      if (!a.equals(reference.subarray(lba * BLOCK_BYTES, (lba + 1) * BLOCK_BYTES))) differing.push(lba);
    }
    if (differing.length > 0) {
      violations.push({
        when,
        copy: name,
        what: `diverged from primary ${primary} after a confirmed flush: ${differing.length} blocks (first lbas ${differing.slice(0, 8).join(",")})`,
      });
    }
  }
}
