import type { VolumeTuning } from "./config";
import type { StorageError } from "./errors";
import type { StagingStore } from "./install";
import type { NeedsRebuildEvent } from "./retention";

export interface OpenOptions extends VolumeTuning {
  /** Where base images are staged (required for install and to finish an interrupted one). */
  staging?: StagingStore;
}

export type PressureState = "normal" | "soft" | "hard";

export interface VolumeStats {
  headLsn: number;
  durableLsn: number;
  checkpointLsn: number;
  tailLsn: number;
  extentHighLsn: number;
  epoch: number;
  walSizeBytes: number;
  walUsedBytes: number;
  walUsedFraction: number;
  pressure: PressureState;
  queuedWrites: number;
  dirtyBlocks: number;
  syncs: number;
  flusherCycles: number;
  superblockWrites: number;
  admission: {
    softDelays: number;
    hardWaits: number;
    timedOut: number;
    batches: number;
    /** Append batches written O_DSYNC (durable without a group-commit sync). */
    durableBatches: number;
    queueRejects: number;
  };
}

export interface VolumeEvents {
  /** New records are in the WAL (a shipper wakes on this). */
  appended: [headLsn: number];
  /** A retention pin went over budget and was released: that owner must be rebuilt. */
  needsRebuild: [event: NeedsRebuildEvent];
  /** The volume hit an I/O error and refuses writes/flushes until reopened. */
  failed: [error: StorageError];
}
