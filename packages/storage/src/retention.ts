import { StorageError } from "./errors";
import type { VolumeState } from "./state";

export interface Clock {
  now(): number;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setInterval: (fn, ms) => {
    const t = setInterval(fn, ms);
    t.unref();
    return t;
  },
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

export interface RetentionBudgets {
  /** How long a pin may hold WAL bytes without advancing. */
  maxAgeMs: number;
  /** How many WAL bytes (from the pinned LSN to the head) a pin may hold. */
  maxHeldBytes: number;
  checkIntervalMs: number;
}

export interface NeedsRebuildEvent {
  owner: string;
  reason: "max_age" | "max_bytes";
  pinnedLsn: number;
  heldBytes: number;
  ageMs: number;
}

interface Pin {
  fromLsn: number;
  /**
   * The owner is connected and streaming under a mode that counts it for durability: the byte
   * budget does not apply (the writer is slowed, then blocked, by admission instead); only the age
   * budget (no progress) releases it.
   */
  live: boolean;
  /** When the pin last advanced or was seen holding nothing. */
  sinceMs: number;
}

/**
 * WAL retention pins (one per owner, e.g. a replica ID) and their budgets. The flusher never moves
 * the tail past the lowest pin. Budgets are evaluated on their own timer and count WAL bytes, so a
 * dead owner is released (and reported as needing a rebuild) even when no write or flush happens.
 */
export class Retention {
  private readonly pins = new Map<string, Pin>();
  private timer: unknown;

  constructor(
    private readonly state: VolumeState,
    private readonly budgets: RetentionBudgets,
    private readonly clock: Clock,
    private readonly onRelease: (ev: NeedsRebuildEvent) => void,
  ) {}

  start(): void {
    if (this.timer === undefined)
      this.timer = this.clock.setInterval(() => this.evaluate(), this.budgets.checkIntervalMs);
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Retain every record with LSN >= fromLsn for `owner` (re-pinning moves the owner's pin). */
  pin(owner: string, fromLsn: number): void {
    const s = this.state;
    if (typeof owner !== "string" || owner.length === 0) {
      throw new StorageError("invalid_argument", "pin owner must be a non-empty string");
    }
    if (!Number.isSafeInteger(fromLsn) || fromLsn < 1) {
      throw new StorageError("invalid_argument", `pin LSN ${fromLsn} must be a positive integer`);
    }
    if (fromLsn <= s.tailLsn) {
      throw new StorageError(
        "wal_recycled",
        `LSN ${fromLsn} is below the retained WAL (tail LSN ${s.tailLsn})`,
      );
    }
    if (fromLsn > s.nextLsn) {
      throw new StorageError("out_of_range", `cannot pin LSN ${fromLsn} beyond head+1 (${s.nextLsn})`);
    }
    const now = this.clock.now();
    const old = this.pins.get(owner);
    this.pins.set(owner, {
      fromLsn,
      live: old?.live ?? false,
      sinceMs: old && old.fromLsn >= fromLsn ? old.sinceMs : now,
    });
  }

  /** Marks `owner`'s pin live or not (see Pin.live); false when it holds no pin. */
  setLive(owner: string, live: boolean): boolean {
    const p = this.pins.get(owner);
    if (p === undefined) return false;
    p.live = live;
    return true;
  }

  unpin(owner: string): boolean {
    return this.pins.delete(owner);
  }

  clear(): void {
    this.pins.clear();
  }

  /** After a truncate: no pin may point past the new head + 1. */
  clampTo(nextLsn: number): void {
    for (const p of this.pins.values()) if (p.fromLsn > nextLsn) p.fromLsn = nextLsn;
  }

  pinnedLsn(owner: string): number | undefined {
    return this.pins.get(owner)?.fromLsn;
  }

  /** Lowest pinned LSN, or undefined when nothing is pinned. */
  minPinnedLsn(): number | undefined {
    let min: number | undefined;
    for (const p of this.pins.values()) if (min === undefined || p.fromLsn < min) min = p.fromLsn;
    return min;
  }

  heldBytes(fromLsn: number): number {
    const s = this.state;
    if (fromLsn > s.appendedLsn || !s.index.has(fromLsn)) return 0;
    return s.appendedOffset - s.index.offsetOf(fromLsn);
  }

  /** Releases every pin over budget; returns the released events. */
  evaluate(): NeedsRebuildEvent[] {
    const now = this.clock.now();
    const released: NeedsRebuildEvent[] = [];
    for (const [owner, p] of this.pins) {
      const heldBytes = this.heldBytes(p.fromLsn);
      if (heldBytes === 0) {
        p.sinceMs = now;
        continue;
      }
      const ageMs = now - p.sinceMs;
      let reason: NeedsRebuildEvent["reason"] | undefined;
      if (heldBytes > this.budgets.maxHeldBytes && !p.live) reason = "max_bytes";
      else if (ageMs > this.budgets.maxAgeMs) reason = "max_age";
      if (reason) {
        this.pins.delete(owner);
        released.push({ owner, reason, pinnedLsn: p.fromLsn, heldBytes, ageMs });
      }
    }
    for (const ev of released) this.onRelease(ev);
    return released;
  }
}
