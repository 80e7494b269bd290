// recovery start / cancel: operator-driven catch-up (or rebuild) of one replica of a primary.
// `start` follows the session with GetProtocolState polls and a progress bar (stderr, TTY only)
// until it completes or is invalidated.
import {
  type CancelRecoveryResponse__Output,
  detailOf,
  type GetProtocolStateResponse__Output,
  type GetStatusResponse__Output,
  type ReplicaExecutionState__Output,
  reasonOf,
  type StartRecoveryResponse__Output,
  u64ToWire,
  unary,
} from "@blockship/rpc";
import { SingleBar } from "cli-progress";
import { type Command, Option } from "commander";
import type { Context } from "../context";
import { CliError, RpcFailure } from "../errors";
import { ExitCode } from "../exit-codes";
import { executionStateJson, resyncText } from "../format";
import { arg, type VerbRunner } from "../program";
import { parseIntInRange, parseU64 } from "../sizes";

/** How often a followed session is polled. */
const FOLLOW_POLL_MS = 200;
const BYTES_PER_MB = 1_000_000n;

type ExecutionStateJson = ReturnType<typeof executionStateJson>;

async function currentEpoch(ctx: Context, volume: string, given: bigint | undefined): Promise<bigint> {
  if (given !== undefined) return given;
  return BigInt((await ctx.volumeStatus(volume)).epoch);
}

async function replicaState(
  ctx: Context,
  volume: string,
  replicaId: string,
): Promise<ReplicaExecutionState__Output> {
  const response = await unary<GetProtocolStateResponse__Output>((cb) =>
    ctx.control().GetProtocolState({ volume_id: volume }, ctx.deadline(), cb),
  );
  const state = response.replicas.find((r) => r.replica_id === replicaId);
  if (state === undefined)
    throw new RpcFailure(5, "replica_not_found", `${replicaId} is no longer in the replica set`);
  return state;
}

/** Session progress in LSNs: [done, total]. */
export function sessionProgress(s: ExecutionStateJson): [number, number] {
  const start = BigInt(s.start_lsn);
  const target = BigInt(s.frozen_target_lsn === "0" ? s.target_lsn : s.frozen_target_lsn);
  const recovered = BigInt(s.recovered_to);
  const total = target >= start ? target - start + 1n : 0n;
  const done = recovered >= start ? recovered - start + 1n : 0n;
  return [Number(done < total ? done : total), Number(total)];
}

/**
 * Progress of a resync in transfer: [done, total] blocks of the current pass. The pass's total is
 * the most blocks left seen in it (the first report of a pass names its whole set).
 */
export function resyncPassProgress(s: ExecutionStateJson, passTotal: number): [number, number] {
  const left = Number(s.resync?.blocks_left ?? "0");
  const total = Math.max(passTotal, left, 1);
  return [total - left, total];
}

/** One plain line per change of phase or pass (non-TTY output: no bar). */
function progressLine(s: ExecutionStateJson): string {
  const base = `${s.replica_id}: ${s.session_kind} session ${s.session_id} ${s.session_phase}`;
  return s.resync === null ? base : `${base}: ${resyncText(s.resync)}`;
}

/** Polls until the session `sessionId` is no longer active; returns its last state. */
async function follow(
  ctx: Context,
  volume: string,
  replicaId: string,
  sessionId: string,
  first: ExecutionStateJson,
) {
  const showBar = process.stderr.isTTY === true && !ctx.out.json;
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${replicaId} {phase} [{bar}] {value}/{total} {unit} · {percentage}%`,
    hideCursor: true,
  });
  let state = first;
  let pass = -1;
  let passTotal = 0;
  let lastLine = "";
  const show = () => {
    const resyncing = state.resync !== null && !state.resync.committed;
    if (resyncing && state.resync?.pass !== pass) {
      pass = state.resync?.pass ?? 0;
      passTotal = 0;
    }
    const [done, total] = resyncing ? resyncPassProgress(state, passTotal) : sessionProgress(state);
    if (resyncing) passTotal = total;
    const phase = resyncing ? `resync pass ${pass}` : `${state.session_kind} ${state.session_phase}`;
    const unit = resyncing ? "blocks" : "LSNs";
    if (showBar) {
      bar.setTotal(Math.max(1, total));
      bar.update(done, { phase, unit });
      return;
    }
    const line = progressLine(state).replace(/, \d+ blocks left, .* sent$/, "");
    if (line !== lastLine) ctx.out.note(progressLine(state));
    lastLine = line;
  };
  if (showBar) bar.start(1, 0, { phase: state.session_phase, unit: "LSNs" });
  show();
  try {
    while (state.session_active && state.session_id === sessionId) {
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
      state = executionStateJson(await replicaState(ctx, volume, replicaId));
      if (state.session_id === sessionId) show();
    }
  } finally {
    if (showBar) bar.stop();
  }
  return state;
}

/** How many replacing sessions `recovery follow` follows before it reports "superseded". */
const MAX_SUCCESSORS_FOLLOWED = 8;

/**
 * How a followed session ended. The engine clears a finished session (id 0), so "completed"
 * is judged by the sender: in sync (or phase completed) after the session left.
 */
export function sessionOutcome(
  started: ExecutionStateJson,
  final: ExecutionStateJson,
  followed: boolean,
): string {
  if (!followed) return "running";
  const same = final.session_id === started.session_id;
  if (same && final.session_phase === "invalidated") return "invalidated";
  if (same && final.session_phase === "completed") return "completed";
  if (final.sender_state === "in_sync") return "completed";
  if (!same && final.session_active) return "superseded";
  return final.sender_state;
}

/**
 * StartRecovery(rebuild) is refused (rebuild_by_assignment): the copy pulls its rebuild itself.
 * The error spells out the blockctl rebuild command for this replica (its address and the
 * primary's server id from GetStatus; placeholders when that lookup fails).
 */
async function rebuildInstead(
  ctx: Context,
  asked: { volume: string; serverId: string; epoch: bigint; rateBytes: bigint },
  detail: string,
): Promise<CliError> {
  const { volume, serverId, epoch, rateBytes } = asked;
  let replicaAddr = "REPLICA_AGENT";
  let primaryId = "PRIMARY_ID";
  try {
    const response = await unary<GetStatusResponse__Output>((cb) =>
      ctx.control().GetStatus({ volume_ids: [volume] }, ctx.deadline(), cb),
    );
    primaryId = response.report?.server_id || primaryId;
    const replica = response.report?.volumes[0]?.replicas.find((r) => r.server_id === serverId);
    replicaAddr = replica?.address || replicaAddr;
  } catch {
    // the placeholders stay
  }
  return new CliError(
    ExitCode.REJECTED,
    "FAILED_PRECONDITION",
    "rebuild_by_assignment",
    `the primary at ${ctx.addr} does not push rebuilds: ${detail}`,
    `a rebuild is pulled by the copy itself: blockctl --addr ${replicaAddr} rebuild ${volume} --epoch ${epoch} --primary-id ${primaryId} --primary-address ${ctx.addr}${rateBytes === 0n ? "" : ` --rate ${rateBytes}`}`,
  );
}

export function registerRecoveryVerbs(program: Command, run: VerbRunner): void {
  const recovery = program
    .command("recovery")
    .description("operator-driven recovery of one replica of a primary");

  recovery
    .command("start")
    .description("start a catch-up (or rebuild) session and follow it with a progress bar until it ends")
    .argument("<volume>", "volume id (PRIMARY on --addr)")
    .argument("<replicaServerId>", "server id of the replica")
    .addOption(
      new Option("--kind <kind>", "session kind").choices(["catchup", "rebuild"]).makeOptionMandatory(),
    )
    .option(
      "--epoch <n>",
      "the volume's epoch (default: read from status)",
      arg((t) => parseU64(t, "--epoch", 1n)),
    )
    .option(
      "--rate-mbps <MBps>",
      "transfer limit in MB/s (10^6 bytes); 0 = unlimited",
      arg((t) => parseIntInRange(t, "--rate-mbps", 0, 1_000_000)),
      0,
    )
    .option("--no-wait", "return once the session is attached")
    .addHelpText("after", "\nExample: blockctl recovery start vol-1 srv-b --kind catchup")
    .action(
      (
        volume: string,
        serverId: string,
        opts: { kind: string; epoch?: bigint; rateMbps: number; wait: boolean },
        cmd: Command,
      ) =>
        run(cmd, volume, async (ctx) => {
          const replicaId = `${volume}/${serverId}`;
          const epoch = await currentEpoch(ctx, volume, opts.epoch);
          const response = await unary<StartRecoveryResponse__Output>((cb) =>
            ctx.control().StartRecovery(
              {
                volume_id: volume,
                replica_id: replicaId,
                epoch: u64ToWire(epoch),
                kind: opts.kind === "rebuild" ? "RECOVERY_KIND_REBUILD" : "RECOVERY_KIND_CATCHUP",
                rate_limit_bytes_per_second: u64ToWire(BigInt(opts.rateMbps) * BYTES_PER_MB),
              },
              ctx.deadline(),
              cb,
            ),
          ).catch(async (err: unknown) => {
            if (reasonOf(err) !== "rebuild_by_assignment") throw err;
            const rateBytes = BigInt(opts.rateMbps) * BYTES_PER_MB;
            throw await rebuildInstead(ctx, { volume, serverId, epoch, rateBytes }, detailOf(err));
          });
          const started = response.state === null ? null : executionStateJson(response.state);
          if (started === null) throw new Error("StartRecovery returned no state");
          ctx.out.note(
            `${opts.kind} session ${started.session_id} of ${replicaId} started at epoch ${epoch}`,
          );
          const final = opts.wait
            ? await follow(ctx, volume, replicaId, started.session_id, started)
            : started;
          const outcome = sessionOutcome(started, final, opts.wait);
          if (outcome !== "completed" && outcome !== "running") {
            throw new RpcFailure(
              10,
              "session_failed",
              `${opts.kind} session ${started.session_id} of ${replicaId} ended ${outcome} (sender ${final.sender_state}${final.reason === "" ? "" : `: ${final.reason}`})`,
            );
          }
          ctx.out.result({ volume_id: volume, epoch: epoch.toString(), outcome, started, final }, () =>
            outcome === "running"
              ? `${replicaId}: ${opts.kind} session ${started.session_id} ${started.session_phase} (not followed: blockctl protocol-state ${volume})`
              : `${replicaId}: ${opts.kind} session ${started.session_id} completed, sender ${final.sender_state}`,
          );
        }),
    );

  recovery
    .command("follow")
    .description(
      "follow the active recovery session of one replica (catch-up, resync or rebuild, whoever started it) with a progress bar until it ends",
    )
    .argument("<volume>", "volume id (PRIMARY on --addr)")
    .argument("<replicaServerId>", "server id of the replica")
    .addHelpText("after", "\nExample: blockctl recovery follow vol-1 srv-b")
    .action((volume: string, serverId: string, _opts: unknown, cmd: Command) =>
      run(cmd, volume, async (ctx) => {
        const replicaId = `${volume}/${serverId}`;
        const started = executionStateJson(await replicaState(ctx, volume, replicaId));
        if (!started.session_active) {
          ctx.out.result(
            { volume_id: volume, outcome: "no_session", started, final: started },
            () => `${replicaId}: no active session (sender ${started.sender_state})`,
          );
          return;
        }
        // A session the engine replaced (a retry after a cut stream, a new plan) is the same
        // recovery of the replica: follow its successor, a bounded number of times.
        let current = started;
        let final = await follow(ctx, volume, replicaId, current.session_id, current);
        let outcome = sessionOutcome(current, final, true);
        for (let i = 0; i < MAX_SUCCESSORS_FOLLOWED && outcome === "superseded"; i++) {
          current = final;
          final = await follow(ctx, volume, replicaId, current.session_id, current);
          outcome = sessionOutcome(current, final, true);
        }
        if (outcome !== "completed") {
          throw new RpcFailure(
            10,
            "session_failed",
            `${started.session_kind} session ${started.session_id} of ${replicaId} ended ${outcome} (sender ${final.sender_state}${final.reason === "" ? "" : `: ${final.reason}`})`,
          );
        }
        ctx.out.result(
          { volume_id: volume, outcome, started, final },
          () =>
            `${replicaId}: ${started.session_kind} session ${started.session_id} completed, sender ${final.sender_state}`,
        );
      }),
    );

  recovery
    .command("cancel")
    .description("cancel the active recovery session of one replica (no session → cancelled=false)")
    .argument("<volume>", "volume id")
    .argument("<replicaServerId>", "server id of the replica")
    .option(
      "--epoch <n>",
      "the volume's epoch (default: read from status)",
      arg((t) => parseU64(t, "--epoch", 1n)),
    )
    .addHelpText("after", "\nExample: blockctl recovery cancel vol-1 srv-b")
    .action((volume: string, serverId: string, opts: { epoch?: bigint }, cmd: Command) =>
      run(cmd, volume, async (ctx) => {
        const replicaId = `${volume}/${serverId}`;
        const epoch = await currentEpoch(ctx, volume, opts.epoch);
        const response = await unary<CancelRecoveryResponse__Output>((cb) =>
          ctx
            .control()
            .CancelRecovery(
              { volume_id: volume, replica_id: replicaId, epoch: u64ToWire(epoch) },
              ctx.deadline(),
              cb,
            ),
        );
        const state = response.state === null ? null : executionStateJson(response.state);
        ctx.out.result(
          { volume_id: volume, replica_id: replicaId, cancelled: response.cancelled, state },
          () => (response.cancelled ? `${replicaId}: session cancelled` : `${replicaId}: no active session`),
        );
      }),
    );
}
