import type { BlockRange } from "@blockship/storage";

// Block-range sets of a resync, kept as sorted runs (never one entry per block): the union of the
// primary's and the replica's changes is merged lazily while it is sent.

/** Sorted, disjoint, non-adjacent runs from any number of sorted (possibly overlapping) inputs. */
export function* unionRanges(...inputs: Iterable<BlockRange>[]): Generator<BlockRange> {
  const its = inputs.map((i) => i[Symbol.iterator]());
  const heads: (BlockRange | undefined)[] = its.map((it) => nextRun(it));
  let cur: { lba: number; blocks: number } | undefined;
  for (;;) {
    let k = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h !== undefined && (k < 0 || h.lba < (heads[k] as BlockRange).lba)) k = i;
    }
    if (k < 0) break;
    const h = heads[k] as BlockRange;
    heads[k] = nextRun(its[k] as Iterator<BlockRange>);
    if (cur !== undefined && h.lba <= cur.lba + cur.blocks) {
      cur.blocks = Math.max(cur.blocks, h.lba + h.blocks - cur.lba);
    } else {
      if (cur !== undefined) yield cur;
      cur = { lba: h.lba, blocks: h.blocks };
    }
  }
  if (cur !== undefined) yield cur;
}

function nextRun(it: Iterator<BlockRange>): BlockRange | undefined {
  for (;;) {
    const r = it.next();
    if (r.done) return undefined;
    if (r.value.blocks > 0) return r.value;
  }
}

/** Blocks in a set of runs (iterates it once). */
export function countBlocks(ranges: Iterable<BlockRange>): number {
  let n = 0;
  for (const r of ranges) n += r.blocks;
  return n;
}

/** Splits runs into pieces of at most `maxBlocks` blocks (the messages of a pass). */
export function* pieces(ranges: Iterable<BlockRange>, maxBlocks: number): Generator<BlockRange> {
  for (const r of ranges) {
    for (let done = 0; done < r.blocks; done += maxBlocks) {
      yield { lba: r.lba + done, blocks: Math.min(maxBlocks, r.blocks - done) };
    }
  }
}

/**
 * The replica's ranges as they arrive (`ranges` messages): checked to be sorted, disjoint and inside
 * the volume, so a confused peer cannot make the primary read out of range or loop.
 */
export class RangeCollector {
  readonly runs: BlockRange[] = [];
  blockCount = 0;
  private endLba = 0;

  constructor(private readonly volumeBlocks: number) {}

  /** Returns an error text for a bad run (the caller fails the session), else undefined. */
  add(lba: number, blocks: number): string | undefined {
    if (blocks < 1) return `range at block ${lba} has ${blocks} blocks`;
    if (lba < this.endLba)
      return `range at block ${lba} is not after the previous one (ends at ${this.endLba})`;
    if (lba + blocks > this.volumeBlocks)
      return `range ${lba}+${blocks} lies beyond the volume (${this.volumeBlocks} blocks)`;
    this.endLba = lba + blocks;
    this.blockCount += blocks;
    this.runs.push({ lba, blocks });
    return undefined;
  }
}
