import { BITMAP_PAGE_BYTES, type BlockRange, ChangeBitmap } from "./change-bitmap";
import {
  CHANGE_HEADER_BYTES,
  type ChangeGeometry,
  changeGeometry,
  decodeSlotHeader,
  encodeSlotHeader,
} from "./change-region";
import type { BlockDevice } from "./device";
import { StorageError, wrapIoError } from "./errors";
import type { ChangeSink, VolumeState } from "./state";

/** What `changedBlocks` answers: every block written by a record in (sinceLsn, throughLsn] is in `ranges()`. */
export interface ChangedBlocks {
  sinceLsn: number;
  /** The head when the answer was taken; later writes are not included. */
  throughLsn: number;
  /** Ranges are exact (from the WAL) or whole tracking grains (from the bitmap). */
  exact: boolean;
  /** Blocks in all ranges together. */
  blockCount: number;
  /** Sorted, disjoint, merged ranges; lazily produced (bounded memory). */
  ranges(): Iterable<BlockRange>;
}

export interface ChangeTrackingStatus {
  /** false: no tracking region (version-1 volume or too small a device): the base follows the WAL tail. */
  persistent: boolean;
  /** Changes after this LSN are known; a peer that forked below it needs a full rebuild. */
  baseLsn: number;
  grainBytes: number;
  /** Grains marked since the base. */
  markedGrains: number;
}

interface Slot {
  index: 0 | 1;
  generation: number;
}

/**
 * Changed-block tracking of one copy. In memory: `cur` marks every block written since `base`, and
 * `next` every block written since `candidate` (the head at the last clear, or the tail at open),
 * the bitmap a later clear can switch to without reading the WAL.
 *
 * Persistence: a record in the WAL needs no mark on the device (recovery re-derives it from the
 * record), so nothing is written on the write path. Before the WAL tail moves past LSN t (the
 * record's space is reused), `coverThrough(t)` writes the bitmap pages that changed since the last
 * time, durably (O_DSYNC, or write + sync) — ordered before the superblock write that moves the
 * tail. Invariant: the live slot (bitmap ∪ WAL records after the tail) marks every block written
 * after the slot's base. A clear writes the new bitmap into the other slot and then its header
 * (each durable before the next step), so a crash leaves either the old slot or the new one live.
 */
export class ChangeTracker {
  private geo: ChangeGeometry | undefined;
  private cur: ChangeBitmap | undefined;
  private next: ChangeBitmap | undefined;
  private base = 0;
  private candidate = 0;
  private live: Slot = { index: 0, generation: 0 };
  /** Every record up to this LSN is marked in the live slot on the device. */
  private coveredLsn = 0;
  private chain: Promise<unknown> = Promise.resolve();
  /** Pages written plain by stagePages, waiting for the flusher's sync. */
  private staged: { through: number; slot: number; pages: number[] } | undefined;
  /** In-memory write trackers (resync passes) told every mark too; empty on most volumes. */
  private readonly taps: ChangeSink[] = [];
  pagesWritten = 0;

  constructor(
    private readonly state: VolumeState,
    private readonly device: BlockDevice,
    private readonly fail: (err: StorageError) => void,
  ) {}

  get persistent(): boolean {
    return this.geo !== undefined;
  }

  get baseLsn(): number {
    return this.persistent ? this.base : this.state.tailLsn;
  }

  /**
   * After recovery (open, install): reads the live slot, or starts a fresh one with base = tail
   * when none is valid (new volume, new tag after an install, interrupted first write), then marks
   * the WAL's records in memory.
   */
  async load(): Promise<void> {
    const s = this.state;
    const sb = s.sb;
    s.changes = { mark: (lba, blocks) => this.mark(lba, blocks) };
    if (sb.changeRegionOffset === 0) {
      this.geo = undefined;
      return;
    }
    const geo = changeGeometry(sb.volumeSizeBytes, sb.changeGrainBytes);
    this.geo = geo;
    const grainBlocks = sb.changeGrainBytes / sb.blockSize;
    const found = await this.readLiveSlot(geo);
    this.cur = found?.bitmap ?? new ChangeBitmap(geo.bits, grainBlocks);
    this.base = found ? found.baseLsn : s.tailLsn;
    this.live = found?.slot ?? { index: 1, generation: 0 };
    this.coveredLsn = s.tailLsn;
    this.next = new ChangeBitmap(geo.bits, grainBlocks);
    this.candidate = s.tailLsn;
    s.index.forEachRange(s.tailLsn + 1, (lba, blocks) => this.mark(lba, blocks));
    if (!found) await this.run(() => this.switchTo(this.cur!.clone(), this.base, s.appendedLsn));
  }

  mark(lba: number, blocks: number): void {
    this.cur?.markBlocks(lba, blocks);
    this.next?.markBlocks(lba, blocks);
    if (this.taps.length !== 0) for (const t of this.taps) t.mark(lba, blocks);
  }

  /** `sink` is told every block range marked from now on (until removeTap). */
  addTap(sink: ChangeSink): void {
    this.taps.push(sink);
  }

  removeTap(sink: ChangeSink): void {
    const i = this.taps.indexOf(sink);
    if (i >= 0) this.taps.splice(i, 1);
  }

  /** Makes the device's marks cover every record up to `lsn` (before the WAL tail moves past it). */
  coverThrough(lsn: number): Promise<void> {
    if (!this.persistent || this.coveredLsn >= lsn) return Promise.resolve();
    return this.run(async () => {
      if (this.coveredLsn >= lsn) return;
      await this.writeChangedPages();
    });
  }

  /**
   * Makes every mark made so far durable in the live slot, also those no WAL record backs (blocks
   * a resync wrote straight into the extent, or records a resync commit drops from the WAL).
   */
  persistMarks(): Promise<void> {
    if (!this.persistent) return Promise.resolve();
    return this.run(() => this.writeChangedPages());
  }

  private async writeChangedPages(): Promise<void> {
    const through = this.state.appendedLsn;
    // Pages staged for a sync that has not completed yet are not durable: write them again.
    const pending = this.staged?.pages ?? [];
    const pages = [...new Set([...this.cur!.takeDirtyPages(), ...pending])].sort((a, b) => a - b);
    await this.writePages(this.cur!, pages, this.live.index);
    this.coveredLsn = Math.max(this.coveredLsn, through);
  }

  /**
   * Writes the changed pages into the live slot without making them durable (the flusher's cycle
   * sync does); resolves with the LSN they cover once pagesSynced is told. A slot switch in between
   * is harmless: it covers at least as much itself.
   */
  stagePages(): Promise<number> {
    if (!this.persistent) return Promise.resolve(0);
    return this.run(async () => {
      const through = this.state.appendedLsn;
      const pages = this.cur!.takeDirtyPages();
      this.staged = { through, slot: this.live.generation, pages };
      await this.writePages(this.cur!, pages, this.live.index, false);
      return through;
    });
  }

  /** A device sync that started after stagePages resolved completed. */
  pagesSynced(lsn: number): void {
    // Only while the slot the pages went to is still the live one.
    if (this.staged && this.staged.through === lsn && this.staged.slot === this.live.generation)
      this.coveredLsn = Math.max(this.coveredLsn, lsn);
    this.staged = undefined;
  }

  /**
   * Every peer confirmed durability at `lsn`: marks of writes at or below it may go. Clears to
   * `lsn` exactly when the WAL still holds every record after it, else to the last candidate if it
   * is at or below `lsn` (marks since then), else changes nothing. Resolves with the base now in force.
   */
  advanceBase(lsn: number): Promise<number> {
    const s = this.state;
    if (!Number.isSafeInteger(lsn) || lsn < 0 || lsn > s.appendedLsn)
      return Promise.reject(new StorageError("invalid_argument", `bad LSN ${lsn} (head ${s.appendedLsn})`));
    if (!this.persistent) return Promise.resolve(this.baseLsn);
    return this.run(async () => {
      let nb: ChangeBitmap;
      let newBase: number;
      if (lsn >= s.tailLsn) {
        nb = new ChangeBitmap(this.geo!.bits, this.cur!.grainBlocks);
        s.index.forEachRange(lsn + 1, (lba, blocks) => nb.markBlocks(lba, blocks));
        newBase = lsn;
      } else if (lsn >= this.candidate) {
        nb = this.next!.clone();
        newBase = this.candidate;
      } else return this.base;
      if (newBase <= this.base) return this.base;
      const through = s.appendedLsn;
      // From here on, writes mark the new bitmap; the device keeps the old slot until the new one
      // is complete and its header durable.
      this.cur = nb;
      this.base = newBase;
      this.next = new ChangeBitmap(this.geo!.bits, nb.grainBlocks);
      this.candidate = through;
      await this.switchTo(nb.clone(), newBase, through);
      return newBase;
    });
  }

  /** Blocks written by records after `sinceLsn` (default: the base). `out_of_range` below the base. */
  changedBlocks(sinceLsn = this.baseLsn): ChangedBlocks {
    const s = this.state;
    if (!Number.isSafeInteger(sinceLsn) || sinceLsn < 0)
      throw new StorageError("invalid_argument", `bad LSN ${sinceLsn}`);
    // The WAL answers exactly whatever the base (a clear may have passed records it still holds).
    if (sinceLsn >= s.tailLsn) return exactChanges(s, sinceLsn, s.appendedLsn);
    if (sinceLsn < this.baseLsn) {
      throw new StorageError(
        "out_of_range",
        `changes are tracked only after LSN ${this.baseLsn}, not since ${sinceLsn}: a full rebuild is needed`,
      );
    }
    const throughLsn = s.appendedLsn;
    const bitmap = (sinceLsn >= this.candidate ? this.next! : this.cur!).clone();
    const volumeBlocks = s.volumeBlocks;
    let blockCount = 0;
    for (const r of bitmap.ranges(volumeBlocks)) blockCount += r.blocks;
    return { sinceLsn, throughLsn, exact: false, blockCount, ranges: () => bitmap.ranges(volumeBlocks) };
  }

  status(): ChangeTrackingStatus {
    return {
      persistent: this.persistent,
      baseLsn: this.baseLsn,
      grainBytes: this.persistent ? this.state.sb.changeGrainBytes : this.state.geo.blockSize,
      markedGrains: this.cur?.count ?? 0,
    };
  }

  /** Waits for tracking writes in flight (close: before the device goes). */
  async idle(): Promise<void> {
    await this.chain;
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    const wrapped = async (): Promise<T> => {
      try {
        return await fn();
      } catch (err) {
        const e = err instanceof StorageError ? err : wrapIoError(err, "change tracking write");
        this.fail(e);
        throw e;
      }
    };
    const p = this.chain.then(wrapped, wrapped);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private slotOffset(index: 0 | 1): number {
    return this.state.sb.changeRegionOffset + index * this.geo!.slotBytes;
  }

  /** Writes `bitmap` whole into the other slot, then that slot's header: each step durable first. */
  private async switchTo(bitmap: ChangeBitmap, baseLsn: number, through: number): Promise<void> {
    const target: 0 | 1 = this.live.index === 0 ? 1 : 0;
    const all = Array.from({ length: bitmap.pageCount }, (_, i) => i);
    await this.writePages(bitmap, all, target);
    const sb = this.state.sb;
    const generation = this.live.generation + 1;
    const header = encodeSlotHeader({
      uuid: sb.uuid,
      tag: sb.changeTag,
      grainBytes: sb.changeGrainBytes,
      bits: this.geo!.bits,
      generation,
      baseLsn,
    });
    await this.durable([header], this.slotOffset(target));
    this.live = { index: target, generation };
    this.coveredLsn = Math.max(this.coveredLsn, through);
  }

  /** Writes pages (ascending) of `bitmap` into slot `index`, contiguous pages in one write; durable on return. */
  private async writePages(
    bitmap: ChangeBitmap,
    pages: number[],
    index: 0 | 1,
    durable = true,
  ): Promise<void> {
    if (pages.length === 0) return;
    const base = this.slotOffset(index) + CHANGE_HEADER_BYTES;
    const writes: Array<Promise<void>> = [];
    let i = 0;
    while (i < pages.length) {
      let j = i + 1;
      while (j < pages.length && pages[j] === pages[j - 1]! + 1 && j - i < 256) j++;
      const bufs = pages.slice(i, j).map((p) => bitmap.pageCopy(p));
      const at = base + pages[i]! * BITMAP_PAGE_BYTES;
      writes.push(durable ? this.plainOrDurable(bufs, at) : this.device.writev(bufs, at));
      i = j;
    }
    await Promise.all(writes);
    if (durable && !this.device.writevDurable) await this.device.sync();
    this.pagesWritten += pages.length;
  }

  private plainOrDurable(bufs: Buffer[], offsetBytes: number): Promise<void> {
    const durable = this.device.writevDurable;
    return durable ? durable.call(this.device, bufs, offsetBytes) : this.device.writev(bufs, offsetBytes);
  }

  private async durable(bufs: Buffer[], offsetBytes: number): Promise<void> {
    await this.plainOrDurable(bufs, offsetBytes);
    if (!this.device.writevDurable) await this.device.sync();
  }

  private async readLiveSlot(
    geo: ChangeGeometry,
  ): Promise<{ slot: Slot; baseLsn: number; bitmap: ChangeBitmap } | undefined> {
    const sb = this.state.sb;
    const expect = { uuid: sb.uuid, tag: sb.changeTag, grainBytes: sb.changeGrainBytes, bits: geo.bits };
    let best: { slot: Slot; baseLsn: number } | undefined;
    for (const index of [0, 1] as const) {
      const buf = Buffer.alloc(CHANGE_HEADER_BYTES);
      await this.device.read(buf, sb.changeRegionOffset + index * geo.slotBytes);
      const h = decodeSlotHeader(buf, expect);
      if (h && (!best || h.generation > best.slot.generation))
        best = { slot: { index, generation: h.generation }, baseLsn: h.baseLsn };
    }
    if (!best) return undefined;
    const bytes = Buffer.alloc(geo.slotBytes - CHANGE_HEADER_BYTES);
    await this.device.read(
      bytes,
      sb.changeRegionOffset + best.slot.index * geo.slotBytes + CHANGE_HEADER_BYTES,
    );
    return { ...best, bitmap: new ChangeBitmap(geo.bits, sb.changeGrainBytes / sb.blockSize, bytes) };
  }
}

/** Changes from the WAL's own records (sinceLsn >= tail): exact block ranges, merged. */
function exactChanges(s: VolumeState, sinceLsn: number, throughLsn: number): ChangedBlocks {
  const raw: BlockRange[] = [];
  s.index.forEachRange(sinceLsn + 1, (lba, blocks) => {
    if (blocks > 0) raw.push({ lba, blocks });
  });
  raw.sort((a, b) => a.lba - b.lba);
  const merged: BlockRange[] = [];
  for (const r of raw) {
    const last = merged[merged.length - 1];
    if (last && r.lba <= last.lba + last.blocks) {
      last.blocks = Math.max(last.blocks, r.lba + r.blocks - last.lba);
    } else merged.push({ ...r });
  }
  const blockCount = merged.reduce((n, r) => n + r.blocks, 0);
  return { sinceLsn, throughLsn, exact: true, blockCount, ranges: () => merged };
}
