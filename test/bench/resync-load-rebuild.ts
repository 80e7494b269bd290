// Case (c) of bench:recovery: a full rebuild while a writer loads the primary at a fixed rate (a
// fifth of the idle rebuild's rate, measured just before on the same pair). Today the rebuild pins
// the WAL at its base: once the writes meanwhile overrun the retention budget the source answers
// wal_recycled and the pull starts over from byte 0. The case reports what happens (commit time,
// restarts seen), and a bounded error line with the same figures when it does not converge.
import type { AgentHandle } from "../support/agents";
import { BLOCK_BYTES, patternBytes, prng, write } from "../support/io";
import { assign, volumeStatus } from "../support/master";
import { cpuMeter } from "./process-cpu";
import { CaseError, type Measured, round } from "./recovery-bench-report";
import {
  EPOCH,
  pairInSync,
  pollUntil,
  rebuildingAssignment,
  sleep,
  withPair,
  writeSequential,
} from "./recovery-harness";
import { CaseClock, copyCaughtUp, timedFullRebuild } from "./resync-support";

const WAL_DEFAULT = 0;
const WRITE_CHUNK_BYTES = 256 * 1024;
const WRITER_LANES = 4;
/** The loaded rebuild may take this many times the idle one before the case calls it not converging. */
const LOAD_SLOWDOWN_LIMIT = 8;
const LOAD_MIN_LIMIT_MS = 60_000;
const LOAD_MAX_LIMIT_MS = 300_000;
const CASE_LIMIT_MS = 15 * 60_000;

/** A paced writer: WRITE_CHUNK_BYTES at pseudo-random offsets, `rateBytesPerSecond` on average
 * (WRITER_LANES in flight, so one slow write does not lower the rate). */
function startWriter(agent: AgentHandle, volumeId: string, volumeBytes: number, rateBytesPerSecond: number) {
  let stopped = false;
  let issued = 0;
  let bytes = 0;
  let errors = 0;
  const rand = prng(77);
  const data = patternBytes(WRITE_CHUNK_BYTES, prng(78));
  const chunks = volumeBytes / WRITE_CHUNK_BYTES;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (!stopped) {
      const slot = issued++;
      const dueMs = ((slot * WRITE_CHUNK_BYTES) / rateBytesPerSecond) * 1000 - (performance.now() - started);
      if (dueMs > 0) await sleep(dueMs);
      if (stopped) return;
      const offset = Math.floor(rand() * chunks) * WRITE_CHUNK_BYTES;
      try {
        await write(agent, volumeId, offset / BLOCK_BYTES, data);
        bytes += WRITE_CHUNK_BYTES;
      } catch {
        errors++;
        await sleep(100);
      }
    }
  };
  const done = Promise.all(Array.from({ length: WRITER_LANES }, lane));
  return {
    async stop() {
      const seconds = (performance.now() - started) / 1000;
      stopped = true;
      await done;
      return { bytes_written: bytes, mb_s: round(bytes / 1e6 / seconds), write_errors: errors };
    },
  };
}

interface Watch {
  maxResumes: number;
  /** Times the image received fell back (the pull started over from 0). */
  restartsSeen: number;
  lastReceived: number;
}

export async function loadRebuildCase(volumeBytes: number): Promise<Measured> {
  return withPair("rebuild-under-load", async (primary, replica) => {
    const clock = new CaseClock(CASE_LIMIT_MS);
    const volumeId = "bench-rebuild-load";
    await pairInSync(primary, replica, volumeId, volumeBytes, WAL_DEFAULT);
    await replica.kill("SIGKILL");
    await writeSequential(primary, volumeId, volumeBytes);
    await pollUntil(
      () => volumeStatus(primary, volumeId),
      (s) => s.checkpoint_lsn === s.head_lsn,
      "primary checkpointed to its head",
      clock.left(120_000),
    );
    await replica.restart();
    const idle = await timedFullRebuild(primary, replica, volumeId, EPOCH, clock);
    const idleS = idle.committed_s as number;
    const writerRate = Math.max(1e6, volumeBytes / idleS / 5);
    await replica.kill("SIGKILL");
    await replica.restart();
    const limitMs = Math.min(
      LOAD_MAX_LIMIT_MS,
      Math.max(LOAD_MIN_LIMIT_MS, idleS * 1000 * LOAD_SLOWDOWN_LIMIT),
    );
    const writer = startWriter(primary, volumeId, volumeBytes, writerRate);
    const watch: Watch = { maxResumes: 0, restartsSeen: 0, lastReceived: 0 };
    const cpu = cpuMeter({ primary, replica });
    const started = performance.now();
    let committedS: number | undefined;
    try {
      await assign(replica, rebuildingAssignment(volumeId, primary));
      await pollUntil(
        () => volumeStatus(replica, volumeId),
        (s) => s.role === "ROLE_REPLICA",
        "rebuild under load committed (role REPLICA)",
        clock.left(limitMs),
        (s) => {
          watch.maxResumes = Math.max(watch.maxResumes, s.rebuild_resumes);
          const received = Number(s.rebuild_received_bytes);
          if (received < watch.lastReceived) watch.restartsSeen++;
          watch.lastReceived = received;
        },
      );
      committedS = (performance.now() - started) / 1000;
    } catch (err) {
      const w = await writer.stop();
      throw new CaseError(`did not converge: ${err instanceof Error ? err.message : String(err)}`, {
        idle_rebuild: idle,
        writer_target_mb_s: round(writerRate / 1e6),
        writer: w,
        limit_s: round(limitMs / 1000),
        max_rebuild_resumes_seen: watch.maxResumes,
        restarts_from_zero_seen: watch.restartsSeen,
        received_bytes_at_end: watch.lastReceived,
        cpu_s: cpu(),
      });
    }
    const w = await writer.stop();
    const cpuUsed = cpu();
    const end = await volumeStatus(replica, volumeId);
    await pollUntil(
      () => volumeStatus(primary, volumeId),
      (s) => copyCaughtUp(s, replica),
      "in sync after the rebuild under load",
      clock.left(120_000),
    );
    return {
      bytes: volumeBytes,
      seconds: committedS,
      // The idle rebuild of the same volume on the same pair is this case's baseline.
      baseline: { bytes: volumeBytes, seconds: idleS },
      details: {
        idle_rebuild: idle,
        writer_target_mb_s: round(writerRate / 1e6),
        writer: w,
        resumes: end.last_rebuild?.resumes ?? null,
        bytes_transferred: Number(end.last_rebuild?.bytes_transferred ?? 0),
        restarts_from_zero_seen: watch.restartsSeen,
        in_sync_s: round((performance.now() - started) / 1000),
        cpu_s: cpuUsed,
      },
    };
  });
}
