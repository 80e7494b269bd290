// Following a rebuild that a copy pulls from its primary: GetStatus polls of the copy's agent
// until it is REPLICA at the assigned epoch (committed), the master moved it elsewhere
// (superseded), the deadline passes, or the agent stays unreachable. Pure of I/O: the poll,
// the clock and the sleep are given, so every ending is testable in-process.
import { CliError, toCliError } from "./errors";
import { ExitCode } from "./exit-codes";
import type { volumeStatusJson } from "./format";
import { formatBytes, formatDuration } from "./sizes";

export type VolumeJson = ReturnType<typeof volumeStatusJson>;

/** How often the copy's status is polled while following. */
export const FOLLOW_POLL_MS = 250;
/** How long the agent may stay unreachable before following gives up (a restart fits in). */
export const UNREACHABLE_GRACE_MS = 15_000;
/** The window the transfer rate is measured over. */
const RATE_WINDOW_MS = 3_000;
const BYTES_PER_MB = 1_000_000;

export type RebuildVerdict = "committed" | "rebuilding" | "superseded";

/** Where the copy is, seen from the assignment this command sent at `epoch`. */
export function rebuildVerdict(status: VolumeJson, epoch: bigint): RebuildVerdict {
  if (BigInt(status.epoch) !== epoch) return "superseded";
  if (status.role === "rebuilding") return "rebuilding";
  // REBUILDING → REPLICA needs a committed rebuild, whose summary the agent then reports.
  if (status.role === "replica" && status.last_rebuild !== null) return "committed";
  return "superseded";
}

/** Transfer rate in MB/s (10^6 B/s) over the last few seconds of samples. */
export class RateMeter {
  private samples: { atMs: number; bytes: number }[] = [];

  add(atMs: number, bytes: number): void {
    const last = this.samples.at(-1);
    // A restarted transfer counts from zero again: measure it afresh.
    if (last !== undefined && bytes < last.bytes) this.samples = [];
    this.samples.push({ atMs, bytes });
    while (this.samples.length > 2 && (this.samples[1]?.atMs ?? atMs) <= atMs - RATE_WINDOW_MS) {
      this.samples.shift();
    }
  }

  mbPerSecond(): number {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (first === undefined || last === undefined || last.atMs <= first.atMs) return 0;
    return (last.bytes - first.bytes) / BYTES_PER_MB / ((last.atMs - first.atMs) / 1000);
  }
}

/** One progress report while following. */
export interface RebuildProgress {
  readonly receivedBytes: number;
  readonly totalBytes: number;
  /** "base", "tail", "starting" (no transfer yet), or "unreachable" while the agent does not answer. */
  readonly stage: string;
  readonly resumes: number;
  readonly mbPerSecond: number;
  /** Why the copy is not progressing, when the agent says (e.g. a failed attempt it retries). */
  readonly note: string;
}

const NO_PROGRESS: RebuildProgress = {
  receivedBytes: 0,
  totalBytes: 0,
  stage: "starting",
  resumes: 0,
  mbPerSecond: 0,
  note: "",
};

export function progressOf(status: VolumeJson, mbPerSecond: number): RebuildProgress {
  return {
    receivedBytes: Number(status.rebuild_received_bytes),
    totalBytes: Number(status.rebuild_total_bytes),
    stage: status.rebuild_stage === "" ? "starting" : status.rebuild_stage,
    resumes: status.rebuild_resumes,
    mbPerSecond,
    // A copy in REBUILDING is always needs_rebuild; only a failure is worth showing.
    note: /fail/i.test(status.mode_reason) ? status.mode_reason : "",
  };
}

export function progressText(p: RebuildProgress): string {
  const pct = p.totalBytes > 0 ? ` (${Math.floor((100 * p.receivedBytes) / p.totalBytes)}%)` : "";
  const note = p.note === "" ? "" : `; ${p.note}`;
  return `${p.stage} ${formatBytes(p.receivedBytes)}/${formatBytes(p.totalBytes)}${pct}, ${p.resumes} resumes${note}`;
}

export interface FollowTarget {
  readonly addr: string;
  readonly volumeId: string;
  readonly epoch: bigint;
}

export interface FollowDeps {
  /** One GetStatus of the volume on the copy's agent; rejects like an RPC. */
  readonly poll: () => Promise<VolumeJson>;
  readonly nowMs: () => number;
  /** Waits `ms`; resolves early when `signal` aborts. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly onProgress: (p: RebuildProgress) => void;
  /** Aborted when the operator stops following (Ctrl-C). */
  readonly signal: AbortSignal;
}

export interface FollowLimits {
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly unreachableGraceMs: number;
}

/** How to follow a rebuild again: the same assignment is idempotent on the agent. */
function followAgainHint(t: FollowTarget): string {
  return `rerun the same blockctl rebuild command to follow it again (the same assignment is a no-op: it follows the running rebuild or reports the committed one), or look: blockctl --addr ${t.addr} status ${t.volumeId}`;
}

/** Polls until the rebuild commits; returns the copy's status then. Throws CliError otherwise. */
export async function followRebuild(
  target: FollowTarget,
  deps: FollowDeps,
  limits: FollowLimits,
): Promise<VolumeJson> {
  const startedMs = deps.nowMs();
  const deadlineMs = startedMs + limits.timeoutMs;
  const rate = new RateMeter();
  let lastAnswerMs = startedMs;
  let last: RebuildProgress | undefined;
  for (;;) {
    let status: VolumeJson | undefined;
    try {
      status = await deps.poll();
    } catch (err) {
      const failure = toCliError(err, { addr: target.addr, volumeId: target.volumeId });
      if (failure.exitCode !== ExitCode.UNREACHABLE) throw failure;
      if (deps.nowMs() - lastAnswerMs >= limits.unreachableGraceMs) {
        throw new CliError(
          ExitCode.UNREACHABLE,
          failure.code,
          failure.reason,
          `lost the agent at ${target.addr} while following the rebuild of ${target.volumeId} (no answer for ${formatDuration(deps.nowMs() - lastAnswerMs)}): ${failure.message}`,
          `is the agent running? When it answers again, ${followAgainHint(target)}. A restarted agent drops an unfinished transfer and keeps its old copy; the same command starts the pull again`,
        );
      }
      deps.onProgress({ ...(last ?? NO_PROGRESS), stage: "unreachable", mbPerSecond: 0 });
    }
    if (status !== undefined) {
      lastAnswerMs = deps.nowMs();
      const verdict = rebuildVerdict(status, target.epoch);
      if (verdict === "committed") return status;
      if (verdict === "superseded") {
        throw new CliError(
          ExitCode.REJECTED,
          "SUPERSEDED",
          "rebuild_superseded",
          `the rebuild of ${target.volumeId} on ${target.addr} at epoch ${target.epoch} was superseded: the copy is now ${status.role} at epoch ${status.epoch}`,
          "the master re-assigned the copy (blockctl status VOLUME shows its role); rebuild again at the current epoch if it still needs one",
        );
      }
      rate.add(lastAnswerMs, Number(status.rebuild_received_bytes));
      last = progressOf(status, rate.mbPerSecond());
      deps.onProgress(last);
    }
    if (deps.signal.aborted) {
      throw new CliError(
        ExitCode.TIMEOUT,
        "TIMEOUT",
        "interrupted",
        `stopped following the rebuild of ${target.volumeId} on ${target.addr}${last === undefined ? "" : `: ${progressText(last)}`}`,
        `the rebuild goes on on the agent: ${followAgainHint(target)}`,
      );
    }
    if (deps.nowMs() >= deadlineMs) {
      throw new CliError(
        ExitCode.TIMEOUT,
        "TIMEOUT",
        "rebuild_timeout",
        `the rebuild of ${target.volumeId} on ${target.addr} did not commit within ${formatDuration(limits.timeoutMs)}${last === undefined ? "" : `: ${progressText(last)}`}`,
        last === undefined || last.receivedBytes === 0
          ? `no transfer started: is --primary-address the primary's gRPC address, reachable from the copy's agent, and is that agent PRIMARY of ${target.volumeId} at epoch ${target.epoch} with this copy in its replica set (assign --replica)? The copy retries with back-off and logs why (its data stays as it was). Then ${followAgainHint(target)}`
          : `the rebuild goes on on the agent: ${followAgainHint(target)}; raise --timeout for big volumes or a low --rate`,
      );
    }
    await deps.sleep(Math.min(limits.pollMs, Math.max(0, deadlineMs - deps.nowMs())), deps.signal);
  }
}
