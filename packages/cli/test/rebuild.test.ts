// Following a rebuild in-process: every ending of followRebuild (committed, superseded, timeout,
// interrupted, agent unreachable for a while or for good, other failures) against scripted
// GetStatus answers and a clock that moves only when the follower sleeps.
import { describe, expect, it } from "vitest";
import { summaryMbPerSecond, volumeOf } from "../src/commands/rebuild";
import { CliError } from "../src/errors";
import { ExitCode } from "../src/exit-codes";
import {
  type FollowLimits,
  followRebuild,
  progressText,
  RateMeter,
  type RebuildProgress,
  rebuildVerdict,
  type VolumeJson,
} from "../src/rebuild-follow";

const MiB = 1 << 20;
const TARGET = { addr: "10.0.0.2:7200", volumeId: "vol-1", epoch: 3n };
const LIMITS: FollowLimits = { timeoutMs: 10_000, pollMs: 250, unreachableGraceMs: 2_000 };
const SUMMARY = {
  base_lsn: "40",
  last_lsn: "42",
  total_bytes: String(16 * MiB),
  bytes_transferred: String(16 * MiB),
  resumes: 1,
  duration_ms: "2000",
  resumed_from_bytes: "0",
};

function status(over: Partial<VolumeJson> = {}): VolumeJson {
  return {
    volume_id: "vol-1",
    size_bytes: String(16 * MiB),
    block_size: 4096,
    wal_size_bytes: String(MiB),
    epoch: "3",
    role: "rebuilding",
    durability_mode: "best_effort",
    mode: "needs_rebuild",
    mode_reason: "needs_rebuild",
    head_lsn: "0",
    durable_lsn: "0",
    committed_lsn: "0",
    checkpoint_lsn: "0",
    has_lease: false,
    lease_remaining_ms: 0,
    writable: false,
    write_block_reason: "not_primary",
    wal_used_bytes: "0",
    primary_server_id: "srv-a",
    rebuild_received_bytes: "0",
    rebuild_total_bytes: "0",
    rebuild_stage: "",
    rebuild_resumes: 0,
    last_rebuild: null,
    resync_phase: "",
    resync_fork_lsn: "0",
    resync_consistent_lsn: "0",
    replicas: [],
    ...over,
  };
}

const receiving = (bytes: number, stage = "base") =>
  status({
    rebuild_received_bytes: String(bytes),
    rebuild_total_bytes: String(16 * MiB),
    rebuild_stage: stage,
  });
const committed = status({ role: "replica", last_rebuild: SUMMARY });

/** A grpc-js ServiceError as a client sees a dead agent. */
const unreachable = () =>
  Object.assign(new Error("14 UNAVAILABLE: No connection established"), {
    code: 14,
    details: "No connection established",
  });

/**
 * Runs followRebuild over `answers` (a status, or an error to reject with; the last repeats).
 * Time moves only in sleep; `abortAfterPolls` aborts the signal after that many polls.
 */
async function follow(answers: (VolumeJson | Error)[], limits = LIMITS, abortAfterPolls = Infinity) {
  let nowMs = 1_000_000;
  let polls = 0;
  const progress: RebuildProgress[] = [];
  const stop = new AbortController();
  const outcome = await followRebuild(
    TARGET,
    {
      poll: async () => {
        const answer = answers[Math.min(polls, answers.length - 1)] as VolumeJson | Error;
        polls += 1;
        if (polls >= abortAfterPolls) stop.abort();
        if (answer instanceof Error) throw answer;
        return answer;
      },
      nowMs: () => nowMs,
      sleep: async (ms) => {
        expect(ms).toBeGreaterThanOrEqual(0);
        nowMs += ms;
      },
      onProgress: (p) => progress.push(p),
      signal: stop.signal,
    },
    limits,
  ).then(
    (s) => ({ status: s, error: undefined }),
    (err: unknown) => ({ status: undefined, error: err }),
  );
  return { ...outcome, polls, progress };
}

function cliError(err: unknown): CliError {
  if (!(err instanceof CliError)) throw new Error(`expected a CliError, got ${String(err)}`);
  return err;
}

describe("rebuildVerdict", () => {
  it("committed only as REPLICA at the assigned epoch with a summary", () => {
    expect(rebuildVerdict(status(), 3n)).toBe("rebuilding");
    expect(rebuildVerdict(committed, 3n)).toBe("committed");
    expect(rebuildVerdict(status({ role: "replica" }), 3n)).toBe("superseded");
    expect(rebuildVerdict(committed, 2n)).toBe("superseded");
    expect(rebuildVerdict(status({ epoch: "4" }), 3n)).toBe("superseded");
    expect(rebuildVerdict(status({ role: "primary" }), 3n)).toBe("superseded");
  });
});

describe("followRebuild", () => {
  it("reports progress (bytes, stage, resumes, MB/s) until the copy is REPLICA", async () => {
    const run = await follow([
      status(),
      receiving(4 * MiB),
      receiving(8 * MiB),
      { ...receiving(16 * MiB, "tail"), rebuild_resumes: 1 },
      committed,
    ]);
    expect(run.error).toBeUndefined();
    expect(run.status).toBe(committed);
    expect(run.progress.map((p) => [p.stage, p.receivedBytes, p.resumes])).toEqual([
      ["starting", 0, 0],
      ["base", 4 * MiB, 0],
      ["base", 8 * MiB, 0],
      ["tail", 16 * MiB, 1],
    ]);
    // 4 MiB per 250 ms poll
    expect(run.progress[2]?.mbPerSecond).toBeCloseTo((4 * MiB) / 1e6 / 0.25, 5);
    expect(progressText(run.progress[2] as RebuildProgress)).toBe("base 8 MiB/16 MiB (50%), 0 resumes");
  });

  it("shows why a pull fails (the copy retries it) but not the normal needs_rebuild mode", async () => {
    const failing = status({
      mode_reason: "rebuild_failed: unauthenticated_peer: srv-b is not in the replica set",
    });
    const run = await follow([failing, committed]);
    expect(run.progress[0]?.note).toMatch(/^rebuild_failed: unauthenticated_peer/);
    expect(progressText(run.progress[0] as RebuildProgress)).toMatch(
      /^starting 0 B\/0 B, 0 resumes; rebuild_failed: unauthenticated_peer/,
    );
    expect((await follow([status(), committed])).progress[0]?.note).toBe("");
  });

  it("a copy re-assigned elsewhere → exit 3 rebuild_superseded with its role and epoch now", async () => {
    const run = await follow([receiving(MiB), status({ role: "stale", epoch: "4" })]);
    const err = cliError(run.error);
    expect(err.exitCode).toBe(ExitCode.REJECTED);
    expect(err.reason).toBe("rebuild_superseded");
    expect(err.message).toMatch(/now stale at epoch 4/);
  });

  it("not committed by the deadline → exit 8 rebuild_timeout with the progress and how to go on", async () => {
    const run = await follow([receiving(2 * MiB)], { ...LIMITS, timeoutMs: 1_000 });
    const err = cliError(run.error);
    expect(err.exitCode).toBe(ExitCode.TIMEOUT);
    expect(err.toJson()).toMatchObject({ exit_code: 8, code: "TIMEOUT", reason: "rebuild_timeout" });
    expect(err.message).toMatch(/did not commit within 1s: base 2 MiB\/16 MiB \(12%\)/);
    expect(err.hint).toMatch(/rerun the same blockctl rebuild command/);
    expect(run.polls).toBe(5); // t = 0, 250, 500, 750, 1000
  });

  it("no transfer by the deadline → the hint points at --primary-address", async () => {
    const run = await follow([status()], { ...LIMITS, timeoutMs: 500 });
    expect(cliError(run.error).hint).toMatch(/no transfer started: is --primary-address/);
  });

  it("Ctrl-C stops following → exit 8 interrupted, the rebuild goes on", async () => {
    const run = await follow([receiving(MiB)], LIMITS, 2);
    const err = cliError(run.error);
    expect([err.exitCode, err.reason]).toEqual([ExitCode.TIMEOUT, "interrupted"]);
    expect(err.hint).toMatch(/goes on on the agent/);
  });

  it("an agent unreachable for less than the grace → followed on to the commit", async () => {
    const run = await follow([receiving(MiB), unreachable(), unreachable(), unreachable(), committed]);
    expect(run.error).toBeUndefined();
    expect(run.status).toBe(committed);
    expect(run.progress.filter((p) => p.stage === "unreachable")).toHaveLength(3);
  });

  it("an agent unreachable past the grace → exit 2 with what to do", async () => {
    const run = await follow([receiving(MiB), unreachable()]);
    const err = cliError(run.error);
    expect(err.exitCode).toBe(ExitCode.UNREACHABLE);
    expect(err.message).toMatch(/^lost the agent at 10\.0\.0\.2:7200 while following the rebuild of vol-1/);
    expect(err.hint).toMatch(/When it answers again, rerun the same blockctl rebuild command/);
    expect(run.polls).toBe(1 + 2_000 / 250);
  });

  it("any other failure ends it at once with its own exit code", async () => {
    const notFound = Object.assign(new Error("5 NOT_FOUND"), {
      code: 5,
      details: 'volume_not_found: no volume "vol-1"',
    });
    const run = await follow([receiving(MiB), notFound]);
    expect(cliError(run.error).exitCode).toBe(ExitCode.NOT_FOUND);
    expect(run.polls).toBe(2);
  });
});

describe("helpers", () => {
  it("RateMeter: MB/s over its window; a restarted transfer starts afresh", () => {
    const meter = new RateMeter();
    expect(meter.mbPerSecond()).toBe(0);
    meter.add(0, 0);
    meter.add(1000, 5_000_000);
    expect(meter.mbPerSecond()).toBe(5);
    for (let t = 2000; t <= 10_000; t += 1000) meter.add(t, 5_000_000 + ((t - 1000) / 1000) * 1_000_000);
    expect(meter.mbPerSecond()).toBeCloseTo(1, 5); // the early burst left the window
    meter.add(11_000, 100);
    expect(meter.mbPerSecond()).toBe(0);
  });

  it("the volume from the argument or --volume; MB/s of a summary", () => {
    expect(volumeOf("v", undefined)).toBe("v");
    expect(volumeOf(undefined, "v")).toBe("v");
    expect(volumeOf("v", "v")).toBe("v");
    expect(() => volumeOf("v", "w")).toThrow(/given twice/);
    expect(() => volumeOf(undefined, undefined)).toThrow(/which volume\?/);
    expect(summaryMbPerSecond(SUMMARY)).toBe(8.4);
    expect(summaryMbPerSecond({ ...SUMMARY, duration_ms: "0" })).toBeNull();
  });
});
