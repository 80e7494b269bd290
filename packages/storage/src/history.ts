import { readU64, writeU64 } from "./u64";

/**
 * One generation of a copy's history: the records from `firstLsn` on were written in `epoch` (until
 * the next generation starts). `prevCrc` is the CRC of record `firstLsn - 1`, the last record of
 * the previous generation (0 for the empty history at LSN 0): two copies whose generations agree on
 * (epoch, firstLsn, prevCrc) hold the same record at that boundary, which is how a handshake finds
 * the fork point (the highest LSN at which both hold the same record).
 */
export interface Generation {
  epoch: number;
  firstLsn: number;
  prevCrc: number;
}

/** Generations kept (the oldest are dropped first); a fork older than all of them needs a full rebuild. */
export const MAX_GENERATIONS = 64;
const GENERATION_BYTES = 24;
/** Superblock bytes the history may use (count u16 + entries), see superblock.ts. */
export const HISTORY_BYTES = 8 + MAX_GENERATIONS * GENERATION_BYTES;

/**
 * The in-memory history: the persisted generations (superblock) plus those derived from the records
 * appended since, in LSN order. A generation starts wherever a record's epoch differs from the
 * epoch of the record before it, so the history follows the log itself on every copy (local
 * writes, shipped records, installed tails) and needs no extra write: the superblock write that
 * moves the WAL tail past a boundary also persists the generation (see SuperblockWriter).
 */
export class History {
  private gens: Generation[] = [];
  /** CRC and epoch of the last record observed (the boundary candidate for the next generation). */
  private lastCrc: number | undefined;
  private lastEpoch: number | undefined;

  /**
   * Starts from the persisted generations that begin at or before `tailLsn` (those after it are
   * derived again from the WAL: a persisted one may name a record the crash lost), with the tail
   * record's CRC and epoch as the chain position.
   */
  reset(
    persisted: readonly Generation[],
    tailLsn: number,
    tailCrc: number | undefined,
    tailEpoch: number | undefined,
  ): void {
    this.gens = persisted.filter((g) => g.firstLsn <= tailLsn).map((g) => ({ ...g }));
    this.lastCrc = tailLsn === 0 ? 0 : tailCrc;
    this.lastEpoch = tailLsn === 0 ? undefined : (tailEpoch ?? this.gens[this.gens.length - 1]?.epoch);
  }

  /** Record `lsn` (epoch, crc) was appended (called in LSN order). */
  observe(lsn: number, epoch: number, crc: number): void {
    if (epoch !== this.lastEpoch) {
      this.gens.push({ epoch, firstLsn: lsn, prevCrc: this.lastCrc ?? 0 });
      if (this.gens.length > MAX_GENERATIONS) this.gens.splice(0, this.gens.length - MAX_GENERATIONS);
    }
    this.lastEpoch = epoch;
    this.lastCrc = crc;
  }

  /** Oldest first. */
  snapshot(): Generation[] {
    return this.gens.map((g) => ({ ...g }));
  }
}

export function encodeHistory(buf: Buffer, offset: number, gens: readonly Generation[]): void {
  const list = gens.slice(-MAX_GENERATIONS);
  buf.writeUInt16LE(list.length, offset);
  let at = offset + 8;
  for (const g of list) {
    writeU64(buf, at, g.epoch);
    writeU64(buf, at + 8, g.firstLsn);
    buf.writeUInt32LE(g.prevCrc >>> 0, at + 16);
    at += GENERATION_BYTES;
  }
}

/** Undefined when the stored list is malformed (count too large, values out of range, not ascending). */
export function decodeHistory(buf: Buffer, offset: number): Generation[] | undefined {
  const n = buf.readUInt16LE(offset);
  if (n > MAX_GENERATIONS) return undefined;
  const out: Generation[] = [];
  let at = offset + 8;
  for (let i = 0; i < n; i++) {
    const g = { epoch: readU64(buf, at), firstLsn: readU64(buf, at + 8), prevCrc: buf.readUInt32LE(at + 16) };
    const prev = out[out.length - 1];
    if (g.epoch < 0 || g.firstLsn < 0) return undefined;
    if (prev && (g.firstLsn <= prev.firstLsn || g.epoch <= prev.epoch)) return undefined;
    out.push(g);
    at += GENERATION_BYTES;
  }
  return out;
}

/** A history handed in by a caller (install source): ascending LSNs and epochs, safe integers. */
export function validGenerations(gens: readonly Generation[]): boolean {
  return gens.every((g, i) => {
    const prev = gens[i - 1];
    const ints = [g.epoch, g.firstLsn].every((v) => Number.isSafeInteger(v) && v >= 0);
    const crcOk = Number.isInteger(g.prevCrc) && g.prevCrc >= 0 && g.prevCrc <= 0xffff_ffff;
    return ints && crcOk && (!prev || (g.firstLsn > prev.firstLsn && g.epoch > prev.epoch));
  });
}
