import type { BlockRange, ChangedBlocks, Generation, Volume } from "@blockship/storage";
import type { ReplicaResyncState } from "./handshake";

// The storage calls a resync makes, by shape. Storage's Volume provides them (beginResync,
// writeResyncBlocks, commitResync, resyncState, trackWrites); the resync code names only these, so
// it states exactly what it needs from a copy.

/** Blocks written from the moment trackWrites() was called (in memory, bounded). */
export interface WriteTracker {
  /** Takes what was written so far and starts a new interval. */
  drain(): { throughLsn: number; blockCount: number; ranges(): Iterable<BlockRange> };
  close(): void;
}

export interface ResyncTargetVolume {
  readonly epoch: number;
  readonly blockSize: number;
  readonly volumeSizeBytes: number;
  resyncState(): ReplicaResyncState;
  beginResync(opts: { forkLsn: number }): Promise<{ ranges: ChangedBlocks }>;
  writeResyncBlocks(offsetBytes: number, data: Buffer): Promise<void>;
  commitResync(opts: {
    baseLsn: number;
    epoch: number;
    baseRecord: { crc: number; epoch: number };
    history: readonly Generation[];
    consistentLsn: number;
  }): Promise<void>;
}

export type ResyncSourceVolume = Pick<
  Volume,
  | "headLsn"
  | "blockSize"
  | "volumeSizeBytes"
  | "recordAt"
  | "history"
  | "changedBlocks"
  | "pinWal"
  | "unpinWal"
  | "pinnedLsn"
  | "on"
  | "off"
  | "read"
> & { trackWrites(): WriteTracker };

/** The copy's resync marker; a volume without the resync API has none. */
export function resyncStateOf(v: object): ReplicaResyncState {
  const fn = (v as { resyncState?: unknown }).resyncState;
  return typeof fn === "function" ? (fn.call(v) as ReplicaResyncState) : { pending: false };
}
