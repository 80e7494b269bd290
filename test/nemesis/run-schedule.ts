// Runs one fault schedule against a cluster: the model master assigns and fails over in the
// background while the steps run; the oracle reads copies at every promotion, at `check` steps and
// at the end (after every fault is healed and a final flush every copy confirmed).
import { type DeleteVolumeResponse__Output, deadlineIn, unary } from "@blockship/rpc";
import type { Mode } from "../support/master";
import type { Cluster } from "./cluster";
import { History } from "./history";
import { ModelMaster } from "./model-master";
import { type CopyToCheck, checkCopies, compareWithPrimary, type Violation } from "./oracle";
import { describeSchedule, describeStep, type Schedule, type Step, type Target } from "./schedule";
import { Writer } from "./writer";

export interface RunOptions {
  readonly volumeId: string;
  readonly mode: Mode;
  readonly sizeBytes: number;
  readonly walSizeBytes: number;
  readonly hotBlocks: number;
  readonly leaseTtlMs: number;
  readonly callTimeoutMs: number;
  readonly ioTimeoutMs: number;
  readonly settleTimeoutMs: number;
}

export interface RunResult {
  readonly schedule: Schedule;
  readonly violations: Violation[];
  readonly notes: string[];
  readonly stepLog: string[];
  readonly masterLog: readonly string[];
  readonly durationMs: number;
  readonly summary: string;
}

export const DEFAULT_RUN: Omit<RunOptions, "volumeId" | "mode"> = {
  sizeBytes: 2 * 1024 * 1024,
  walSizeBytes: 2 * 1024 * 1024,
  hotBlocks: 256,
  leaseTtlMs: 1_000,
  callTimeoutMs: 400,
  ioTimeoutMs: 3_000,
  settleTimeoutMs: 40_000,
};

const TICK_MS = 100;
const QUIESCE_TIMEOUT_MS = 5_000;
/** How long I/O steps wait for a primary beyond the promotion rule's own wait. */
const PRIMARY_WAIT_MARGIN_MS = 3_000;

export async function runSchedule(cluster: Cluster, schedule: Schedule, o: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const history = new History();
  const violations: Violation[] = [];
  const notes: string[] = [];
  const stepLog: string[] = [];
  const judgeAtPromotion = async (candidates: readonly string[], chosen: string, epoch: number) => {
    const copies = candidates.map((name) => ({ name, promotable: true }));
    await checkCopies(
      cluster,
      history,
      o.volumeId,
      copies,
      o.hotBlocks,
      `promotion of ${chosen} to epoch ${epoch}`,
      violations,
      notes,
    );
  };
  await cluster.healAll();
  const master = new ModelMaster(cluster, { ...o, tickMs: TICK_MS }, judgeAtPromotion);
  const writer = new Writer(cluster, master, history, o.volumeId, o.hotBlocks, o.sizeBytes, o.ioTimeoutMs, 4);
  const ctx: StepContext = { cluster, master, writer, history, o, violations, notes };
  try {
    await master.setUp(o.settleTimeoutMs);
    master.start();
    for (const [i, step] of schedule.steps.entries()) {
      const outcome = await runStep(ctx, step);
      stepLog.push(`${String(i + 1).padStart(2)}. ${describeStep(step)} → ${outcome}`);
      await noticeCrashes(ctx, `after step ${i + 1}`);
    }
    await finale(ctx, stepLog);
  } finally {
    await master.stop();
    await deleteEverywhere(cluster, o.volumeId);
  }
  const s = writer.stats;
  const summary = `ops=${history.size} acked=${s.acked} failed=${s.failed} flushes ok=${s.flushesOk} failed=${s.flushesFailed} epoch=${master.epoch}`;
  return {
    schedule,
    violations,
    notes,
    stepLog,
    masterLog: master.log,
    durationMs: Date.now() - started,
    summary,
  };
}

interface StepContext {
  readonly cluster: Cluster;
  readonly master: ModelMaster;
  readonly writer: Writer;
  readonly history: History;
  readonly o: RunOptions;
  readonly violations: Violation[];
  readonly notes: string[];
}

function resolve(master: ModelMaster, target: Target): string {
  if (target.role === "primary") return master.primary;
  return master.members[target.index % master.members.length] as string;
}

async function runStep(ctx: StepContext, step: Step): Promise<string> {
  const { cluster, master, writer } = ctx;
  if (step.kind === "io" || step.kind === "flush" || step.kind === "bigTrim") {
    await writer.awaitPrimary(ctx.o.leaseTtlMs + ctx.o.callTimeoutMs + PRIMARY_WAIT_MARGIN_MS);
  }
  switch (step.kind) {
    case "io":
      await writer.ops(step.ops, step.seed);
      return `on ${master.primary}@${master.epoch}`;
    case "flush":
      return writer.flush();
    case "bigTrim":
      await writer.bigTrim();
      return `on ${master.primary}@${master.epoch}`;
    case "kill": {
      const name = resolve(master, step.target);
      if (step.quiesce && !(await quiesce(ctx))) return `skipped (${name}'s replicas are not all in sync)`;
      await cluster.kill(name);
      return name;
    }
    case "restartAll": {
      const stopped = cluster.members.filter((m) => !m.agent.running).map((m) => m.name);
      for (const name of stopped) await cluster.restart(name);
      return stopped.join(",") || "nothing stopped";
    }
    case "link": {
      const name = resolve(master, step.target);
      cluster.fault(name, step.fault);
      return name;
    }
    case "healLinks":
      for (const name of cluster.names) cluster.heal(name);
      return "ok";
    case "isolate":
      master.isolated = master.primary;
      return `master loses ${master.primary}`;
    case "wait":
      await sleep(step.ms);
      return "ok";
    case "check":
      return midCheck(ctx);
  }
}

/** Flushes, then waits until every replica confirmed the primary's head (bounded). */
async function quiesce(ctx: StepContext): Promise<boolean> {
  const { cluster, master, o } = ctx;
  await ctx.writer.flush();
  const deadline = Date.now() + QUIESCE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const s = await cluster.status(master.primary, o.volumeId);
    if (
      s !== undefined &&
      s.replicas.length === master.members.length &&
      s.replicas.every((r) => r.sender_state === "SENDER_STATE_IN_SYNC" && r.durable_lsn === s.head_lsn)
    ) {
      return true;
    }
    await sleep(50);
  }
  return false;
}

async function midCheck(ctx: StepContext): Promise<string> {
  const { cluster, master, o } = ctx;
  const promotable = await master.promotable();
  const copies: CopyToCheck[] = cluster.members
    .filter((m) => m.agent.running)
    .map((m) => ({ name: m.name, promotable: promotable.includes(m.name) }));
  const before = ctx.violations.length;
  await checkCopies(
    cluster,
    ctx.history,
    o.volumeId,
    copies,
    o.hotBlocks,
    "check step",
    ctx.violations,
    ctx.notes,
  );
  return `checked ${copies.map((c) => `${c.name}${c.promotable ? "*" : ""}`).join(",")}: ${ctx.violations.length - before} violations`;
}

/** An agent that exited although the schedule did not kill it took a request down: a violation. */
async function noticeCrashes(ctx: StepContext, when: string): Promise<void> {
  for (const m of ctx.cluster.crashed()) {
    const tail = m.agent.logs().split("\n").slice(-6).join("\n");
    ctx.violations.push({ when, copy: m.name, what: `agent exited without being killed:\n${tail}` });
    m.up = false;
  }
}

/** Heals everything, waits until the volume settles, flushes and checks every copy. */
async function finale(ctx: StepContext, stepLog: string[]): Promise<void> {
  const { cluster, master, o } = ctx;
  master.isolated = undefined;
  await cluster.healAll();
  const deadline = Date.now() + o.settleTimeoutMs;
  let settled = false;
  while (!settled && Date.now() < deadline) {
    await sleep(100);
    await noticeCrashes(ctx, "while settling");
    await cluster.healAll();
    settled = await master.settled();
  }
  if (!settled) {
    const s = await cluster.status(master.primary, o.volumeId);
    ctx.violations.push({
      when: "finale",
      copy: master.primary,
      what: `no progress: not settled ${o.settleTimeoutMs} ms after every fault healed (primary ${master.primary}@${master.epoch}: ${JSON.stringify(s?.replicas.map((r) => [r.server_id, r.sender_state, r.reason]))} role=${s?.role} writable=${s?.writable} ${s?.write_block_reason})`,
    });
  }
  const flushed = settled ? await ctx.writer.flush() : "skipped";
  stepLog.push(`final flush → ${flushed}`);
  const confirmed = flushed.startsWith("ok") && (await allDurableAtHead(ctx));
  const candidates = settled ? [master.primary, ...master.members] : await master.promotable();
  const copies = cluster.names.map((name) => ({ name, promotable: candidates.includes(name) }));
  const images = await checkCopies(
    cluster,
    ctx.history,
    o.volumeId,
    copies,
    o.hotBlocks,
    "finale",
    ctx.violations,
    ctx.notes,
  );
  if (confirmed) compareWithPrimary(images, master.primary, "finale", ctx.violations);
}

async function allDurableAtHead(ctx: StepContext): Promise<boolean> {
  const deadline = Date.now() + QUIESCE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const s = await ctx.cluster.status(ctx.master.primary, ctx.o.volumeId);
    if (s?.replicas.every((r) => r.durable_lsn === s.head_lsn)) return true;
    await sleep(50);
  }
  ctx.notes.push("finale: replicas did not confirm the head; copies not compared with the primary");
  return false;
}

async function deleteEverywhere(cluster: Cluster, volumeId: string): Promise<void> {
  for (const m of cluster.members) {
    if (!cluster.reachable(m.name)) continue;
    await unary<DeleteVolumeResponse__Output>((cb) =>
      cluster.control(m.name).DeleteVolume({ volume_id: volumeId }, deadlineIn(10_000), cb),
    ).catch(() => undefined);
  }
}

export function formatResult(r: RunResult, replay: string): string {
  return [
    `${describeSchedule(r.schedule)}`,
    `replay: ${replay}`,
    `run (${r.durationMs} ms, ${r.summary}):`,
    ...r.stepLog.map((l) => `  ${l}`),
    `violations (${r.violations.length}):`,
    ...r.violations.map((v) => `  [${v.when}] ${v.copy}: ${v.what}`),
    ...(r.notes.length > 0 ? ["notes:", ...r.notes.map((n) => `  ${n}`)] : []),
    "master:",
    ...r.masterLog.slice(-40).map((l) => `  ${l}`),
  ].join("\n");
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
