// Metrics that reflect state, computed at scrape time (prom-client `collect()` callbacks) from the
// hosted volumes: storage observers (LSNs, WAL, pressure, counters), the fence (role, epoch),
// the shipper group's statuses and the engine's execution state. No timers: a scrape reads what
// is true at that moment, and a deleted volume's series disappear with it.
import { REPLICA_STATES, SESSION_KINDS } from "@blockship/engine";
import type { PressureState, VolumeStats } from "@blockship/storage";
import { Counter, Gauge, type Registry } from "prom-client";
import type { HostedVolume } from "../hosted-volume";
import { ROLES } from "../roles";

const PRESSURE_STATES: readonly PressureState[] = ["normal", "soft", "hard"];

/** The volumes a scrape reads (the agent's VolumeHost.list()). */
export type VolumeSource = () => readonly HostedVolume[];

interface ScrapeView {
  readonly h: HostedVolume;
  readonly stats: VolumeStats;
}

type LabelsOf<L extends string> = Partial<Record<L, string>>;

/**
 * Registers the state metrics. Each collect() re-reads `source()` (a snapshot per metric; the
 * values of one scrape can differ by what happened between two collect calls, as with any
 * Prometheus exporter).
 */
export function registerStateCollectors(registry: Registry, source: VolumeSource): void {
  const registers = [registry];
  const views = (): ScrapeView[] => source().map((h) => ({ h, stats: h.volume.stats() }));

  /** A gauge whose series are rebuilt from scratch on every scrape. */
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (set: (labels: LabelsOf<L>, value: number) => void) => void,
  ): void => {
    const g: Gauge<L> = new Gauge<L>({
      name,
      help,
      labelNames: [...labelNames],
      registers,
      collect() {
        g.reset();
        fill((labels, value) => g.set(labels, value));
      },
    });
  };

  /** A counter mirrored from a cumulative storage counter (resets when the volume is reopened). */
  const mirroredCounter = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (add: (labels: LabelsOf<L>, value: number) => void) => void,
  ): void => {
    const c: Counter<L> = new Counter<L>({
      name,
      help,
      labelNames: [...labelNames],
      registers,
      collect() {
        c.reset();
        fill((labels, value) => c.inc(labels, value));
      },
    });
  };

  const perVolume = (name: string, help: string, value: (v: ScrapeView) => number): void =>
    gauge(name, help, ["volume"], (set) => {
      for (const v of views()) set({ volume: v.h.volumeId }, value(v));
    });
  const perVolumeCounter = (name: string, help: string, value: (s: VolumeStats) => number): void =>
    mirroredCounter(name, help, ["volume"], (add) => {
      for (const v of views()) add({ volume: v.h.volumeId }, value(v.stats));
    });

  gauge("blockship_volumes", "Volumes hosted by this agent.", [], (set) => set({}, source().length));
  perVolume("blockship_volume_head_lsn", "Highest LSN appended to the local WAL.", (v) => v.stats.headLsn);
  perVolume("blockship_volume_durable_lsn", "Highest LSN fsynced locally.", (v) => v.stats.durableLsn);
  perVolume(
    "blockship_volume_committed_lsn",
    "Highest LSN durable under the volume's durability mode (GetStatus committed_lsn).",
    (v) =>
      v.h.fence.role === "primary" ? Math.min(v.h.runtime.committedLsn, v.stats.headLsn) : v.stats.durableLsn,
  );
  perVolume(
    "blockship_volume_checkpoint_lsn",
    "Highest LSN applied to the extent and checkpointed.",
    (v) => v.stats.checkpointLsn,
  );
  perVolume(
    "blockship_volume_tail_lsn",
    "LSN at the WAL tail (records above it are retained in the WAL).",
    (v) => v.stats.tailLsn,
  );
  perVolume("blockship_volume_epoch", "The volume's persisted epoch.", (v) => v.stats.epoch);
  perVolume(
    "blockship_volume_writable",
    "1 while the write gate is open here (PRIMARY, epoch, live lease), else 0.",
    (v) => (v.h.writeBlockReason() === "" ? 1 : 0),
  );
  gauge(
    "blockship_volume_role",
    "1 for the volume's current role, 0 for the others.",
    ["volume", "role"],
    (set) => {
      for (const v of views())
        for (const role of ROLES) set({ volume: v.h.volumeId, role }, v.h.fence.role === role ? 1 : 0);
    },
  );

  perVolume("blockship_wal_size_bytes", "WAL region size.", (v) => v.stats.walSizeBytes);
  perVolume(
    "blockship_wal_used_bytes",
    "WAL bytes between tail and reservation head.",
    (v) => v.stats.walUsedBytes,
  );
  perVolume("blockship_wal_used_ratio", "WAL used fraction (0..1).", (v) => v.stats.walUsedFraction);
  gauge(
    "blockship_wal_pressure",
    "1 for the WAL's current pressure state (normal, soft, hard), 0 for the others.",
    ["volume", "state"],
    (set) => {
      for (const v of views())
        for (const state of PRESSURE_STATES)
          set({ volume: v.h.volumeId, state }, v.stats.pressure === state ? 1 : 0);
    },
  );
  perVolume("blockship_wal_queued_writes", "Writes waiting for WAL admission.", (v) => v.stats.queuedWrites);
  perVolume(
    "blockship_dirty_blocks",
    "Blocks in the WAL not yet applied to the extent.",
    (v) => v.stats.dirtyBlocks,
  );
  perVolumeCounter(
    "blockship_wal_fsyncs_total",
    "Group-commit fsyncs since the volume was opened (flush ops / fsyncs = average flush batch).",
    (s) => s.syncs,
  );
  perVolumeCounter(
    "blockship_wal_append_batches_total",
    "WAL device writes (append batches) since open (write ops / batches = average append batch).",
    (s) => s.admission.batches,
  );
  mirroredCounter(
    "blockship_wal_admission_events_total",
    "WAL admission back-pressure since open: soft_delay, hard_wait, timeout, queue_reject.",
    ["volume", "event"],
    (add) => {
      for (const v of views()) {
        const a = v.stats.admission;
        const volume = v.h.volumeId;
        add({ volume, event: "soft_delay" }, a.softDelays);
        add({ volume, event: "hard_wait" }, a.hardWaits);
        add({ volume, event: "timeout" }, a.timedOut);
        add({ volume, event: "queue_reject" }, a.queueRejects);
      }
    },
  );
  perVolumeCounter(
    "blockship_flusher_cycles_total",
    "Flusher (checkpoint) cycles since open.",
    (s) => s.flusherCycles,
  );
  perVolumeCounter(
    "blockship_superblock_writes_total",
    "Superblock writes (epoch, checkpoint) since open.",
    (s) => s.superblockWrites,
  );

  registerReplicaCollectors(gauge, views);
}

type GaugeFactory = <L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[],
  fill: (set: (labels: LabelsOf<L>, value: number) => void) => void,
) => void;

/**
 * Bytes behind, estimated: `lagLsn` × the WAL's average record size (used bytes / records held).
 * Storage does not expose LSN → WAL offsets; 0 when the WAL holds no records.
 */
export function estimateLagBytes(lagLsn: number, stats: VolumeStats): number {
  const records = stats.headLsn - stats.tailLsn;
  if (lagLsn <= 0 || records <= 0) return 0;
  return Math.round((lagLsn * stats.walUsedBytes) / records);
}

function registerReplicaCollectors(gauge: GaugeFactory, views: () => ScrapeView[]): void {
  const perShipper = (
    name: string,
    help: string,
    value: (s: ReturnType<HostedVolume["runtime"]["shipperStatuses"]>[number], v: ScrapeView) => number,
  ): void =>
    gauge(name, help, ["volume", "replica"], (set) => {
      for (const v of views())
        for (const s of v.h.runtime.shipperStatuses())
          set({ volume: v.h.volumeId, replica: s.replicaId }, value(s, v));
    });
  gauge(
    "blockship_replica_state",
    `1 for a replica shipper's current state (${REPLICA_STATES.join(", ")}), 0 for the others.`,
    ["volume", "replica", "state"],
    (set) => {
      for (const v of views())
        for (const s of v.h.runtime.shipperStatuses())
          for (const state of REPLICA_STATES)
            set({ volume: v.h.volumeId, replica: s.replicaId, state }, s.state === state ? 1 : 0);
    },
  );
  perShipper("blockship_replica_shipped_lsn", "Highest LSN sent to the replica.", (s) =>
    Math.max(0, s.cursorLsn - 1),
  );
  perShipper(
    "blockship_replica_received_lsn",
    "Highest LSN the replica acknowledged as appended.",
    (s) => s.receivedLsn,
  );
  perShipper(
    "blockship_replica_durable_lsn",
    "Highest LSN a barrier proved durable on the replica.",
    (s) => s.durableLsn,
  );
  perShipper("blockship_replica_lag_lsn", "Primary head LSN minus the replica's durable LSN.", (s, v) =>
    Math.max(0, v.stats.headLsn - s.durableLsn),
  );
  perShipper(
    "blockship_replica_lag_bytes",
    "Estimated bytes behind: lag_lsn × average WAL record size (used bytes / records in the WAL).",
    (s, v) => estimateLagBytes(v.stats.headLsn - s.durableLsn, v.stats),
  );
  perShipper(
    "blockship_replica_in_flight_bytes",
    "Bytes sent on the current stream and not yet acknowledged.",
    (s) => s.inFlightBytes ?? 0,
  );

  const execution = (v: ScrapeView) => [...v.h.runtime.executionState.replicas.values()];
  gauge(
    "blockship_recovery_sessions",
    `Active recovery sessions by kind (${SESSION_KINDS.join(", ")}), from the engine.`,
    ["volume", "kind"],
    (set) => {
      for (const v of views()) {
        const replicas = execution(v);
        for (const kind of SESSION_KINDS)
          set(
            { volume: v.h.volumeId, kind },
            replicas.filter((r) => r.sessionActive && r.sessionKind === kind).length,
          );
      }
    },
  );
  gauge(
    "blockship_replica_live_eligible",
    "1 when the live gate lets the replica receive the live tail (no active session, not lost), else 0.",
    ["volume", "replica"],
    (set) => {
      for (const v of views())
        for (const r of execution(v))
          set(
            { volume: v.h.volumeId, replica: r.replicaId },
            v.h.runtime.liveEligibility(r.replicaId).eligible ? 1 : 0,
          );
    },
  );
  const perSession = (
    name: string,
    help: string,
    value: (r: ReturnType<typeof execution>[number]) => bigint,
  ) =>
    gauge(name, help, ["volume", "replica"], (set) => {
      for (const v of views())
        for (const r of execution(v))
          if (r.sessionActive) set({ volume: v.h.volumeId, replica: r.replicaId }, Number(value(r)));
    });
  gauge(
    "blockship_rebuild_received_bytes",
    "Rebuild this copy is pulling: image bytes stored so far (absent when none runs).",
    ["volume", "stage"],
    (set) => {
      for (const v of views()) {
        const p = v.h.runtime.rebuildProgress();
        if (p !== undefined) set({ volume: v.h.volumeId, stage: p.stage }, p.bytesDone);
      }
    },
  );
  gauge(
    "blockship_rebuild_total_bytes",
    "Rebuild this copy is pulling: size of the image (absent when none runs).",
    ["volume"],
    (set) => {
      for (const v of views()) {
        const p = v.h.runtime.rebuildProgress();
        if (p !== undefined) set({ volume: v.h.volumeId }, p.totalBytes);
      }
    },
  );
  gauge(
    "blockship_rebuild_last_transferred_bytes",
    "Last committed rebuild of this copy: bytes received (image + tail, re-sent bytes included).",
    ["volume"],
    (set) => {
      for (const v of views()) {
        const last = v.h.runtime.lastRebuild;
        if (last !== undefined) set({ volume: v.h.volumeId }, last.bytesTransferred);
      }
    },
  );
  gauge(
    "blockship_resync_blocks_left",
    "Resync this primary is sending: blocks left in the current pass (absent when none runs).",
    ["volume", "replica"],
    (set) => {
      for (const v of views())
        for (const r of v.h.runtime.resyncRuns.views())
          if (r.progress !== undefined)
            set({ volume: v.h.volumeId, replica: r.replicaId }, r.progress.blocksLeft);
    },
  );
  gauge(
    "blockship_resync_sent_bytes",
    "Resync this primary is sending: block bytes sent so far, every pass (absent when none runs).",
    ["volume", "replica"],
    (set) => {
      for (const v of views())
        for (const r of v.h.runtime.resyncRuns.views())
          set({ volume: v.h.volumeId, replica: r.replicaId }, r.progress?.bytesSent ?? 0);
    },
  );
  gauge(
    "blockship_resync_sessions",
    "Resyncs this primary ran since the volume was opened here, by outcome.",
    ["volume", "outcome"],
    (set) => {
      for (const v of views()) {
        const runs = v.h.runtime.resyncRuns;
        set({ volume: v.h.volumeId, outcome: "committed" }, runs.completed);
        set({ volume: v.h.volumeId, outcome: "failed" }, runs.failed);
      }
    },
  );
  gauge(
    "blockship_resync_last_sent_bytes",
    "Last committed resync of each replica: block bytes sent (every pass).",
    ["volume", "replica"],
    (set) => {
      for (const v of views())
        for (const [replicaId, last] of v.h.runtime.resyncRuns.last)
          set({ volume: v.h.volumeId, replica: replicaId }, last.bytesSent);
    },
  );
  perSession(
    "blockship_recovery_start_lsn",
    "Active session's start LSN (replica's durable LSN at handshake).",
    (r) => r.startLsn,
  );
  perSession(
    "blockship_recovery_target_lsn",
    "Active session's target LSN (frozen target once frozen).",
    (r) => (r.frozenTargetLsn !== 0n ? r.frozenTargetLsn : r.targetLsn),
  );
  perSession(
    "blockship_recovery_recovered_lsn",
    "Active session's progress: LSN recovered to.",
    (r) => r.recoveredTo,
  );
}
