import { Appender } from "./appender";
import { ChangeTracker } from "./change-tracker";
import { type ResolvedTuning, resolveTuning, type VolumeTuning } from "./config";
import type { BlockDevice } from "./device";
import { type StorageError, wrapIoError } from "./errors";
import { Flusher } from "./flusher";
import { Gate } from "./gate";
import { GroupCommit } from "./group-commit";
import type { StagingStore } from "./install";
import { Installer } from "./installer";
import { RECORD_HEADER_BYTES } from "./record";
import { type RecoveryReport, recoverState } from "./recovery";
import { Resync } from "./resync";
import { type NeedsRebuildEvent, Retention } from "./retention";
import { newVolumeState, type VolumeState } from "./state";
import type { Superblock } from "./superblock";
import { SuperblockWriter } from "./superblock-writer";
import { SharedSyncDevice } from "./sync-service";
import { VolumeOps } from "./volume-ops";

/** The components one open volume is made of, wired to each other; `Volume` is the facade over them. */
export interface VolumeParts {
  readonly state: VolumeState;
  readonly tuning: ResolvedTuning;
  readonly gate: Gate;
  readonly sbWriter: SuperblockWriter;
  readonly appender: Appender;
  readonly groupCommit: GroupCommit;
  readonly retention: Retention;
  readonly flusher: Flusher;
  readonly ops: VolumeOps;
  readonly installer: Installer;
  readonly changes: ChangeTracker;
  readonly resync: Resync;
}

/** What the parts need from the volume that owns them: its failure state, its checks and its events. */
export interface VolumeHooks {
  failure(): StorageError | undefined;
  fail(err: StorageError): void;
  /** Throws unless the volume is open and not failed. */
  checkUsable(): void;
  /** Records up to `headLsn` are in the WAL (after the flusher was woken if the WAL is filling). */
  onAppended(headLsn: number): void;
  /** A retention pin was released over budget (before the flusher is woken to reclaim it). */
  onNeedsRebuild(event: NeedsRebuildEvent): void;
}

/**
 * Builds the components of a volume on `device` and wires them. The components call each other
 * through closures, so construction order only matters for arguments passed by value; nothing
 * runs until the caller starts the flusher and retention.
 */
export function wireVolumeParts(
  device: BlockDevice,
  sb: Superblock,
  tuningOptions: VolumeTuning,
  staging: StagingStore | undefined,
  hooks: VolumeHooks,
): VolumeParts {
  const t = resolveTuning(tuningOptions, sb.walSizeBytes, sb.blockSize);
  const state = newVolumeState(sb, t.maxWriteBytes + RECORD_HEADER_BYTES);
  const gate = new Gate();
  // Every sync of the open volume goes through one service: never two fdatasyncs at once.
  const fail = (err: StorageError): void => hooks.fail(err);
  // A failed sync fails the volume at once, whoever asked for it (see SyncService).
  const shared = new SharedSyncDevice(device, fail);
  const failure = (): StorageError | undefined => hooks.failure();
  const check = (): void => hooks.checkUsable();
  const noteDurable = (lsn: number): void => groupCommit.noteDurable(lsn);

  const sbWriter = new SuperblockWriter(state, shared, fail, noteDurable);
  const changes = new ChangeTracker(state, shared, fail);
  const appender = new Appender(state, device, gate, t, {
    wakeFlusher: () => flusher.wake(),
    onAppended: (head) => {
      if ((state.reservedOffset - state.tailOffset) / state.geo.walSizeBytes >= t.flusherWatermark)
        flusher.wake();
      hooks.onAppended(head);
    },
    failure,
    fail,
    now: () => performance.now(), // admission deadlines use real time; only retention takes the injectable clock
    noteDurable,
  });
  const groupCommit = new GroupCommit(state, shared, appender, gate, { failure, fail });
  const retention = new Retention(
    state,
    {
      maxAgeMs: t.retentionMaxAgeMs,
      maxHeldBytes: t.retentionMaxHeldBytes,
      checkIntervalMs: t.retentionCheckIntervalMs,
    },
    t.clock,
    (ev) => {
      hooks.onNeedsRebuild(ev);
      flusher.wake();
    },
  );
  const flusher = new Flusher(
    state,
    shared,
    gate,
    sbWriter,
    retention,
    {
      failure,
      fail,
      noteDurable,
      onTailAdvanced: () => appender.schedule(),
      beforeTailAdvance: (lsn) => changes.coverThrough(lsn),
      stageTrackingPages: () => changes.stagePages(),
      trackingPagesSynced: (lsn) => changes.pagesSynced(lsn),
    },
    t,
  );
  const ops = new VolumeOps(state, shared, gate, sbWriter, appender, retention, { fail, check });
  const installer = new Installer(state, device, gate, sbWriter, appender, retention, {
    fail,
    check,
    staging,
    // The replayed tail may fill the WAL up to where the flusher would start anyway.
    walBudgetBytes: Math.floor(Math.min(t.flusherWatermark, t.softWatermark) * sb.walSizeBytes),
    onInstalled: () => {
      // The installed content is whole: no resync of the replaced one is pending any more.
      state.resync = undefined;
      resync.discardBlocks();
      return changes.load();
    },
  });
  const resync = new Resync(state, shared, gate, sbWriter, appender, flusher, retention, changes, {
    fail,
    check,
  });
  return {
    state,
    tuning: t,
    gate,
    sbWriter,
    appender,
    groupCommit,
    retention,
    flusher,
    ops,
    installer,
    changes,
    resync,
  };
}

/**
 * Open: finishes an interrupted install, recovers the WAL state, loads change tracking and makes
 * what recovery found durable. Runs before the flusher and retention start.
 */
export async function recoverParts(
  device: BlockDevice,
  p: Pick<VolumeParts, "state" | "installer" | "changes" | "resync">,
): Promise<RecoveryReport> {
  if (p.state.sb.installPending) await p.installer.finishPending();
  const report = await recoverState(device, p.state);
  // Before the flusher runs: the tail may move only once the tracking slot is known.
  await p.changes.load();
  try {
    // Everything recovery found may so far only be in the page cache: make it durable before
    // reporting it as such (and before anyone builds on it).
    await device.sync();
  } catch (err) {
    throw wrapIoError(err, "sync after recovery");
  }
  p.state.durableLsn = p.state.appendedLsn;
  // A catch-up marker whose consistent LSN the recovered log reaches is over.
  p.resync.settle();
  return report;
}
