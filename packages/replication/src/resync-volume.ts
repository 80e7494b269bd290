import type { Volume } from "@blockship/storage";
import type { ReplicaResyncState } from "./handshake";

// The storage calls each side of a resync makes, by name: the resync code states exactly what it
// needs from a copy.

export type { WriteTracker } from "@blockship/storage";

export type ResyncTargetVolume = Pick<
  Volume,
  | "epoch"
  | "blockSize"
  | "volumeSizeBytes"
  | "resyncState"
  | "beginResync"
  | "writeResyncBlocks"
  | "commitResync"
>;

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
  | "trackWrites"
>;

/** The copy's resync marker. */
export function resyncStateOf(v: Pick<Volume, "resyncState">): ReplicaResyncState {
  return v.resyncState();
}
