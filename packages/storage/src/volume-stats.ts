import type { Appender } from "./appender";
import type { ResolvedTuning } from "./config";
import type { Flusher } from "./flusher";
import type { GroupCommit } from "./group-commit";
import type { VolumeState } from "./state";
import type { SuperblockWriter } from "./superblock-writer";
import type { PressureState, VolumeStats } from "./volume-types";

/** WAL pressure as callers see it: a writer blocked on admission means "hard" whatever the fill. */
export function walPressure(
  state: VolumeState,
  tuning: ResolvedTuning,
  appenderBlocked: boolean,
): PressureState {
  const f = (state.reservedOffset - state.tailOffset) / state.geo.walSizeBytes;
  if (appenderBlocked || f >= tuning.hardWatermark) return "hard";
  return f >= tuning.softWatermark ? "soft" : "normal";
}

/** The components whose counters a stats snapshot reads. */
export interface StatsSources {
  state: VolumeState;
  appender: Appender;
  groupCommit: GroupCommit;
  flusher: Flusher;
  sbWriter: SuperblockWriter;
}

/** One consistent snapshot (taken synchronously, so no I/O completes between two fields). */
export function volumeStats(src: StatsSources, pressure: PressureState): VolumeStats {
  const s = src.state;
  const used = s.reservedOffset - s.tailOffset;
  return {
    headLsn: s.appendedLsn,
    durableLsn: s.durableLsn,
    checkpointLsn: s.checkpointLsn,
    tailLsn: s.tailLsn,
    extentHighLsn: s.extentHighLsn,
    epoch: s.epoch,
    walSizeBytes: s.geo.walSizeBytes,
    walUsedBytes: used,
    walUsedFraction: used / s.geo.walSizeBytes,
    pressure,
    queuedWrites: src.appender.queuedWrites,
    dirtyBlocks: s.dirty.size,
    syncs: src.groupCommit.syncs,
    flusherCycles: src.flusher.cycles,
    superblockWrites: src.sbWriter.writes,
    admission: { ...src.appender.counters },
  };
}
