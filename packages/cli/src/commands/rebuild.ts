// rebuild: the copy pulls a base image + WAL tail from its primary. Sends the ROLE_REBUILDING
// assignment to the copy's agent (--addr), then follows its GetStatus with a progress bar
// (stderr, TTY only) until the rebuild commits and the copy is REPLICA.
import { type ApplyAssignmentsResponse__Output, u64ToWire, unary } from "@blockship/rpc";
import { SingleBar } from "cli-progress";
import { type Command, Option } from "commander";
import type { Context } from "../context";
import { RpcFailure, usageError } from "../errors";
import { type rebuildSummaryJson, volumeStatusJson } from "../format";
import { arg, parseAddr, type VerbRunner } from "../program";
import {
  FOLLOW_POLL_MS,
  followRebuild,
  type RebuildProgress,
  rebuildVerdict,
  UNREACHABLE_GRACE_MS,
  type VolumeJson,
} from "../rebuild-follow";
import { formatBytes, formatDuration, parseDuration, parseRate, parseU64 } from "../sizes";
import { buildAssignment } from "./assign";

const DEFAULT_TIMEOUT = "24h";
const MAX_TIMEOUT_MS = 7 * 24 * 3_600_000;

interface RebuildOptions {
  volume?: string;
  epoch: bigint;
  primaryId: string;
  primaryAddress: string;
  rate: bigint;
  wait: boolean;
  timeout: number;
}

type SummaryJson = ReturnType<typeof rebuildSummaryJson>;

/** MB/s (10^6 B/s) of a committed rebuild, one decimal; null when it took no measurable time. */
export function summaryMbPerSecond(s: SummaryJson): number | null {
  const ms = Number(s.duration_ms);
  if (ms <= 0) return null;
  return Math.round((Number(s.bytes_transferred) / 1000 / ms) * 10) / 10;
}

/** The volume from the argument or --volume (exactly one, or both the same). */
export function volumeOf(positional: string | undefined, flag: string | undefined): string {
  if (positional !== undefined && flag !== undefined && positional !== flag) {
    throw usageError(`the volume is given twice: "${positional}" and --volume "${flag}"`);
  }
  const volume = positional ?? flag;
  if (volume === undefined) throw usageError("which volume? give it as an argument or with --volume ID");
  return volume;
}

/** The bar on stderr when it is a terminal (and not --json); otherwise stage changes as notes. */
function progressView(ctx: Context, volume: string) {
  const showBar = process.stderr.isTTY === true && !ctx.out.json;
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${volume} {stage} [{bar}] {done}/{size} · {percentage}% · {mbps} MB/s · {resumes} resumes{note}`,
    hideCursor: true,
  });
  let started = false;
  let lastLine = "";
  return {
    update(p: RebuildProgress): void {
      const payload = {
        stage: p.stage,
        done: formatBytes(p.receivedBytes),
        size: formatBytes(p.totalBytes),
        mbps: p.mbPerSecond.toFixed(1),
        resumes: p.resumes,
        note: p.note === "" ? "" : ` · ${p.note}`,
      };
      if (showBar) {
        if (!started) bar.start(Math.max(1, p.totalBytes), 0, payload);
        started = true;
        bar.setTotal(Math.max(1, p.totalBytes));
        bar.update(Math.min(p.receivedBytes, Math.max(1, p.totalBytes)), payload);
      } else {
        // Without a terminal: one line per stage or note change.
        const line = `rebuild of ${volume}: ${p.stage}${payload.note}`;
        if (line !== lastLine) ctx.out.note(`${line} (${payload.done}/${payload.size})`);
        lastLine = line;
      }
    },
    stop(): void {
      if (showBar && started) bar.stop();
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Follows the rebuild; Ctrl-C/SIGTERM stop following (the rebuild goes on on the agent). */
async function follow(ctx: Context, volume: string, opts: RebuildOptions): Promise<VolumeJson> {
  const view = progressView(ctx, volume);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await followRebuild(
      { addr: ctx.addr, volumeId: volume, epoch: opts.epoch },
      {
        poll: async () => volumeStatusJson(await ctx.volumeStatus(volume)),
        nowMs: () => Date.now(),
        sleep,
        onProgress: (p) => view.update(p),
        signal: stop.signal,
      },
      { timeoutMs: opts.timeout, pollMs: FOLLOW_POLL_MS, unreachableGraceMs: UNREACHABLE_GRACE_MS },
    );
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    view.stop();
  }
}

function summaryText(doc: ReturnType<typeof resultDoc>, addr: string): string {
  const s = doc.last_rebuild;
  if (doc.outcome !== "committed" || s === null) {
    return `${doc.volume_id} on ${addr}: rebuilding from ${doc.primary_server_id} (${doc.primary_address}) at epoch ${doc.epoch}, ${doc.rebuild_stage || "starting"} ${formatBytes(doc.rebuild_received_bytes)}/${formatBytes(doc.rebuild_total_bytes)} (not followed: blockctl --addr ${addr} status ${doc.volume_id})`;
  }
  const rate = doc.mb_per_s === null ? "" : ` (${doc.mb_per_s} MB/s)`;
  return (
    `${doc.volume_id} on ${addr}: rebuilt from ${doc.primary_server_id} and now REPLICA at epoch ${doc.epoch}\n` +
    `  image ${formatBytes(s.total_bytes)} (base LSN ${s.base_lsn}, last LSN ${s.last_lsn}), ${formatBytes(s.bytes_transferred)} transferred in ${formatDuration(Number(s.duration_ms))}${rate}, ${s.resumes} resumes${Number(s.resumed_from_bytes) > 0 ? `, continued from ${formatBytes(s.resumed_from_bytes)} kept across a restart` : ""}\n` +
    `  next: the primary's shipper catches it up (blockctl --addr ${doc.primary_address} status ${doc.volume_id}: sender in_sync)`
  );
}

function resultDoc(volume: string, opts: RebuildOptions, unchanged: boolean, status: VolumeJson) {
  const committed = rebuildVerdict(status, opts.epoch) === "committed";
  const summary = committed ? status.last_rebuild : null;
  return {
    volume_id: volume,
    epoch: opts.epoch.toString(),
    role: status.role,
    outcome: committed ? "committed" : "running",
    unchanged,
    primary_server_id: opts.primaryId,
    primary_address: opts.primaryAddress,
    rate_limit_bytes_per_second: opts.rate.toString(),
    last_rebuild: summary,
    mb_per_s: summary === null ? null : summaryMbPerSecond(summary),
    rebuild_received_bytes: status.rebuild_received_bytes,
    rebuild_total_bytes: status.rebuild_total_bytes,
    rebuild_stage: status.rebuild_stage,
    rebuild_resumes: status.rebuild_resumes,
  };
}

export function registerRebuildVerb(program: Command, run: VerbRunner): void {
  program
    .command("rebuild")
    .description(
      "rebuild a copy from its primary: assign it ROLE_REBUILDING on its agent (--addr), follow the pull with a progress bar until it is REPLICA",
    )
    .argument("[volume]", "volume id (or --volume)")
    .option("--volume <id>", "volume id")
    .requiredOption(
      "--epoch <n>",
      "the volume's epoch (the primary's)",
      arg((t) => parseU64(t, "--epoch", 1n)),
    )
    .requiredOption("--primary-id <serverId>", "server id of the primary to pull from")
    .requiredOption(
      "--primary-address <host:port>",
      "gRPC address of that primary (its Rebuild service)",
      arg((t) => parseAddr(t, "--primary-address")),
    )
    .addOption(
      new Option(
        "--rate <size/s>",
        "transfer limit per second, binary units (50MiB, 50MiB/s); 0 = the agent's --rebuild-rate-limit",
      )
        .argParser(arg((t) => parseRate(t, "--rate")))
        .default(0n, "0"),
    )
    .option("--no-wait", "return once the copy is assigned")
    .addOption(
      new Option(
        "--timeout <duration>",
        "how long to follow before giving up with exit 8 (500ms, 90s, 30m, 2h)",
      )
        .argParser(arg((t) => parseDuration(t, "--timeout", 1, MAX_TIMEOUT_MS)))
        .default(parseDuration(DEFAULT_TIMEOUT, "--timeout", 1, MAX_TIMEOUT_MS), DEFAULT_TIMEOUT),
    )
    .addHelpText(
      "after",
      "\nExample (on the replica's agent; the primary is srv-a at 10.0.0.1:7100):\n" +
        "  blockctl --addr 10.0.0.2:7200 rebuild vol-1 --epoch 3 --primary-id srv-a --primary-address 10.0.0.1:7100 --rate 200MiB",
    )
    .action((positional: string | undefined, opts: RebuildOptions, cmd: Command) => {
      let volume: string;
      try {
        volume = volumeOf(positional, opts.volume);
      } catch (err) {
        return run(cmd, positional ?? opts.volume, () => Promise.reject(err));
      }
      return run(cmd, volume, async (ctx) => {
        const assignment = {
          ...buildAssignment(volume, {
            epoch: opts.epoch,
            role: "rebuilding",
            replica: [],
            primaryServerId: opts.primaryId,
            primaryAddress: opts.primaryAddress,
          }),
          rebuild_rate_limit_bytes_per_second: u64ToWire(opts.rate),
        };
        const response = await unary<ApplyAssignmentsResponse__Output>((cb) =>
          ctx.control().ApplyAssignments({ assignments: [assignment] }, ctx.deadline(), cb),
        );
        const result = response.results[0];
        if (result === undefined) throw new Error("ApplyAssignments returned no result");
        if (result.status !== null && result.status.code !== 0) throw RpcFailure.ofItem(result.status);
        const rate = opts.rate === 0n ? "" : ` at most ${formatBytes(opts.rate)}/s`;
        ctx.out.note(
          `${volume} on ${ctx.addr}: REBUILDING at epoch ${opts.epoch} from ${opts.primaryId} (${opts.primaryAddress})${rate}${result.unchanged ? " (already assigned)" : ""}`,
        );
        const status = opts.wait
          ? await follow(ctx, volume, opts)
          : volumeStatusJson(await ctx.volumeStatus(volume));
        const doc = resultDoc(volume, opts, result.unchanged, status);
        ctx.out.result(doc, () => summaryText(doc, ctx.addr));
      });
    });
}
