// The changed-block resync cases of bench:recovery (see the header of recovery-bench.ts):
// (a) a replica away while many WALs' worth is written over few distinct blocks, (b) an old
// primary with a divergent tail rejoining after a failover, (c) a rebuild under a steady write load
// (resync-load-rebuild.ts). Each against the raw copy of its distinct bytes and a full rebuild of
// the same volume, both in the same run.
import type { AgentHandle } from "../support/agents";
import { BLOCK_BYTES, flush, read, write } from "../support/io";
import { assign, MiB, primaryAssignment, volumeStatus } from "../support/master";
import { medianBaseline } from "./recovery-baseline-run";
import { type Measured, type Outcome, reportBaseline, round, runCase } from "./recovery-bench-report";
import {
  BLOCKS,
  EPOCH,
  LEASE_TTL_MS,
  pairInSync,
  pollUntil,
  WRITE_BYTES,
  withPair,
  writeSequential,
} from "./recovery-harness";
import { loadRebuildCase } from "./resync-load-rebuild";
import {
  CaseClock,
  metricValue,
  RESYNC_AGENT_ARGS,
  type TimedRecovery,
  timedFullRebuild,
  timedResync,
} from "./resync-support";

const GiB = 1024 * MiB;
/** 0 = the agent's default WAL (64 MiB): the case must outrun the WAL it ships with. */
const DEFAULT_WAL = 0;
const CASE_LIMIT_MS = 20 * 60_000;
const WINDOW = 8;

export interface ResyncSizes {
  /** (a): volume, bytes written while the replica is away, distinct bytes among them. */
  readonly awayVolumeBytes: number;
  readonly awayWrittenBytes: number;
  readonly awayDistinctBytes: number;
  /** (b): volume, the old primary's un-replicated tail, the new primary's own writes. */
  readonly failoverVolumeBytes: number;
  readonly tailBytes: number;
  readonly newBytes: number;
  /** (c): the rebuilt volume. */
  readonly loadRebuildVolumeBytes: number;
}

/** Full sizes of the issue, divided by `scale` (all of (a) by the same factor). */
export function resyncSizes(scale: number, quick: boolean): ResyncSizes {
  return {
    awayVolumeBytes: (8 * GiB) / scale,
    awayWrittenBytes: (2 * GiB) / scale,
    awayDistinctBytes: (256 * MiB) / scale,
    failoverVolumeBytes: quick ? 256 * MiB : GiB,
    tailBytes: quick ? 16 * MiB : 64 * MiB,
    newBytes: quick ? 4 * MiB : 16 * MiB,
    loadRebuildVolumeBytes: quick ? 256 * MiB : GiB,
  };
}

/** Writes 1 MiB at each offset (WINDOW in flight), block pool rotated by `round`. */
async function writeAt(agent: AgentHandle, volumeId: string, offsets: readonly number[], turn: number) {
  let next = 0;
  const writer = async (): Promise<void> => {
    while (next < offsets.length) {
      const i = next++;
      const offset = offsets[i] as number;
      const data = BLOCKS[(i + turn) % BLOCKS.length] as Buffer;
      await write(agent, volumeId, offset / BLOCK_BYTES, data);
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, writer));
}

function resyncDetails(r: TimedRecovery, sentBytes: number, distinctBytes: number) {
  return {
    resync_sent_bytes: sentBytes,
    sent_over_distinct: round(sentBytes / distinctBytes),
    states_first_seen_ms: r.states_first_seen_ms,
    cpu_s: r.cpu_s,
  };
}

async function committedResyncs(primary: AgentHandle, volumeId: string): Promise<number> {
  return metricValue(primary, "blockship_resync_sessions", volumeId, 'outcome="committed"');
}

/** Fails unless the copy was resynced (a committed session on the primary, no rebuild on the copy). */
async function expectResynced(primary: AgentHandle, copy: AgentHandle, volumeId: string): Promise<number> {
  const committed = await committedResyncs(primary, volumeId);
  if (committed < 1) throw new Error("in sync, but the primary committed no resync");
  if ((await volumeStatus(copy, volumeId)).last_rebuild)
    throw new Error("the copy was rebuilt, not resynced");
  return metricValue(primary, "blockship_resync_last_sent_bytes", volumeId);
}

async function awayCase(s: ResyncSizes): Promise<Measured> {
  return withPair(
    "resync-away",
    async (primary, replica) => {
      const clock = new CaseClock(CASE_LIMIT_MS);
      const volumeId = "bench-resync-away";
      await pairInSync(primary, replica, volumeId, s.awayVolumeBytes, DEFAULT_WAL);
      await replica.kill("SIGKILL");
      // The distinct blocks: 1 MiB regions spread evenly over the volume, each rewritten per round.
      const regions = s.awayDistinctBytes / WRITE_BYTES;
      const stride = s.awayVolumeBytes / regions;
      const offsets = Array.from({ length: regions }, (_, i) => i * stride);
      const rounds = s.awayWrittenBytes / s.awayDistinctBytes;
      for (let turn = 0; turn < rounds; turn++) {
        await writeAt(primary, volumeId, offsets, turn);
        await flush(primary, volumeId);
      }
      const before = await pollUntil(
        () => volumeStatus(primary, volumeId),
        (st) => st.checkpoint_lsn === st.head_lsn,
        "primary checkpointed to its head",
        clock.left(120_000),
      );
      await replica.restart();
      const r = await timedResync(primary, replica, volumeId, EPOCH, clock);
      const sent = await expectResynced(primary, replica, volumeId);
      const rebuild = await timedFullRebuild(primary, replica, volumeId, EPOCH, clock);
      return {
        bytes: s.awayDistinctBytes,
        seconds: r.seconds,
        details: {
          volume_bytes: s.awayVolumeBytes,
          written_bytes: s.awayWrittenBytes,
          distinct_bytes: s.awayDistinctBytes,
          sender_state_before: before.replicas[0]?.sender_state ?? null,
          ...resyncDetails(r, sent, s.awayDistinctBytes),
          full_rebuild: rebuild,
          full_rebuild_over_resync: round((rebuild.seconds as number) / r.seconds),
          full_rebuild_goal: 5,
        },
      };
    },
    RESYNC_AGENT_ARGS,
  );
}

/** Sequential 1 MiB writes over [from, from + bytes) and a flush (untimed preparation). */
async function writeRange(agent: AgentHandle, volumeId: string, from: number, bytes: number): Promise<void> {
  const offsets = Array.from({ length: bytes / WRITE_BYTES }, (_, i) => from + i * WRITE_BYTES);
  await writeAt(agent, volumeId, offsets, 3);
  await flush(agent, volumeId);
}

async function failoverCase(s: ResyncSizes): Promise<Measured> {
  return withPair(
    "resync-failover",
    async (a, b) => {
      const clock = new CaseClock(CASE_LIMIT_MS);
      const volumeId = "bench-resync-failover";
      const tailAt = s.failoverVolumeBytes / 4;
      const newAt = s.failoverVolumeBytes / 2;
      await pairInSync(a, b, volumeId, s.failoverVolumeBytes, DEFAULT_WAL);
      await writeSequential(a, volumeId, 16 * MiB); // common history of both copies
      await pollUntil(
        () => volumeStatus(a, volumeId),
        (st) => st.replicas[0]?.durable_lsn === st.head_lsn,
        "the base replicated",
        clock.left(60_000),
      );
      await b.kill("SIGKILL");
      await writeRange(a, volumeId, tailAt, s.tailBytes); // acknowledged on a only
      await a.kill("SIGKILL");
      const epoch = EPOCH + 1;
      await b.restart();
      await assign(b, primaryAssignment(volumeId, epoch, [a], { lease_ttl_ms: LEASE_TTL_MS }));
      await writeRange(b, volumeId, newAt, s.newBytes);
      await a.restart();
      const r = await timedResync(b, a, volumeId, epoch, clock);
      const sent = await expectResynced(b, a, volumeId);
      // The old tail is gone from a, b's writes are there (one block each, a cheap sanity check).
      const at = (offset: number) =>
        read(a, volumeId, offset / BLOCK_BYTES, BLOCK_BYTES, { allowCopyRead: true });
      const tailGone = (await at(tailAt)).equals(Buffer.alloc(BLOCK_BYTES));
      const newThere = (await at(newAt)).equals(
        (await read(b, volumeId, newAt / BLOCK_BYTES, BLOCK_BYTES)) as Buffer,
      );
      if (!tailGone || !newThere)
        throw new Error(`after the resync: tail gone ${tailGone}, new data ${newThere}`);
      const rebuild = await timedFullRebuild(b, a, volumeId, epoch, clock);
      const distinct = s.tailBytes + s.newBytes;
      return {
        bytes: distinct,
        seconds: r.seconds,
        details: {
          volume_bytes: s.failoverVolumeBytes,
          tail_bytes: s.tailBytes,
          new_primary_bytes: s.newBytes,
          ...resyncDetails(r, sent, distinct),
          full_rebuild: rebuild,
          full_rebuild_over_resync: round((rebuild.seconds as number) / r.seconds),
        },
      };
    },
    RESYNC_AGENT_ARGS,
  );
}

export interface ResyncRun {
  readonly sizes: ResyncSizes;
  readonly source: string;
  readonly sink: string;
  readonly baselineRuns: number;
  readonly wanted: (name: string) => boolean;
}

/** Runs the wanted resync cases with their raw baselines; one outcome per case. */
export async function resyncCases(run: ResyncRun): Promise<Outcome[]> {
  const s = run.sizes;
  const outcomes: Outcome[] = [];
  if (run.wanted("resync_away")) {
    const raw = await medianBaseline(run.source, run.sink, s.awayDistinctBytes, run.baselineRuns);
    reportBaseline(`raw_tcp_file_fdatasync_${s.awayDistinctBytes / MiB}MiB`, raw);
    const name = `resync_away_${s.awayWrittenBytes / MiB}MiB_over_${s.awayDistinctBytes / MiB}MiB_of_${s.awayVolumeBytes / MiB}MiB`;
    outcomes.push(await runCase(name, 0.6, raw, () => awayCase(s)));
  }
  if (run.wanted("resync_failover")) {
    const distinct = s.tailBytes + s.newBytes;
    const raw = await medianBaseline(run.source, run.sink, distinct, run.baselineRuns);
    reportBaseline(`raw_tcp_file_fdatasync_${distinct / MiB}MiB`, raw);
    const name = `resync_failover_${s.tailBytes / MiB}MiB_tail_${s.failoverVolumeBytes / MiB}MiB_volume`;
    outcomes.push(await runCase(name, 0.6, raw, () => failoverCase(s)));
  }
  if (run.wanted("rebuild_under_load")) {
    const name = `rebuild_under_load_${s.loadRebuildVolumeBytes / MiB}MiB_volume`;
    outcomes.push(await runCase(name, 0.5, undefined, () => loadRebuildCase(s.loadRebuildVolumeBytes)));
  }
  return outcomes;
}
