import { expect } from "vitest";
import type { BlockRange, Volume } from "../src/index";

/** Ships the primary's records the replica lacks (what the cursor shipper does). */
export async function ship(primary: Volume, replica: Volume, maxBytes = 1 << 20): Promise<void> {
  for (let i = 0; replica.headLsn < primary.headLsn; i++) {
    expect(i).toBeLessThan(10_000);
    const batch = await primary.readRecords(replica.headLsn + 1, maxBytes);
    await replica.appendRecords(batch.bytes);
  }
}

/** Union of block ranges as a sorted list of LBAs (small test volumes only). */
export function lbasOf(...sets: Array<Iterable<BlockRange>>): number[] {
  const out = new Set<number>();
  for (const set of sets) for (const r of set) for (let i = 0; i < r.blocks; i++) out.add(r.lba + i);
  return [...out].sort((a, b) => a - b);
}

/**
 * One in-process resync pass, as the primary drives it: the union of the primary's changes since
 * the fork and the replica's own ranges is sent as the primary's current content, then committed
 * at the primary's head. Resolves with the commit's base and consistent LSNs.
 */
export async function resyncOnce(
  p: Volume,
  r: Volume,
  forkLsn: number,
  hooks: { afterBlock?: (n: number) => Promise<void> } = {},
): Promise<{ baseLsn: number; consistentLsn: number }> {
  const { ranges } = await r.beginResync({ forkLsn });
  const baseLsn = p.headLsn;
  // What the source does: the records after the base stay until the shipper took over.
  p.pinWal("resync:test", baseLsn + 1);
  const baseRecord = p.recordAt(baseLsn);
  expect(baseRecord?.epoch).toBeDefined();
  const lbas = lbasOf(
    p.changedBlocks(r.resyncState().pending ? forkLsnOf(r) : forkLsn).ranges(),
    ranges.ranges(),
  );
  let n = 0;
  for (const lba of lbas) {
    await r.writeResyncBlocks(lba * p.blockSize, await p.read(lba, p.blockSize));
    await hooks.afterBlock?.(++n);
  }
  const consistentLsn = p.headLsn;
  await r.commitResync({
    baseLsn,
    epoch: p.epoch,
    baseRecord: { crc: baseRecord!.crc, epoch: baseRecord!.epoch! },
    history: p.history(),
    consistentLsn,
  });
  return { baseLsn, consistentLsn };
}

function forkLsnOf(r: Volume): number {
  const st = r.resyncState();
  return st.pending ? st.forkLsn : 0;
}
