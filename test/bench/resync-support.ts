// Pieces shared by the resync cases of bench:recovery: the primary's resync metrics, a timed
// recovery (assignment → the primary reports the copy in sync at its head), a timed full rebuild.
import type { VolumeStatus__Output } from "@blockship/rpc";
import type { AgentHandle } from "../support/agents";
import { assign, replicaAssignment, volumeStatus } from "../support/master";
import { cpuMeter } from "./process-cpu";
import { round } from "./recovery-bench-report";
import { pollUntil, rebuildingAssignment } from "./recovery-harness";

/** Agents of the resync cases serve /metrics (bytes sent, sessions committed). */
export const RESYNC_AGENT_ARGS = ["--metrics-listen", "127.0.0.1:0"] as const;

/** A time limit shared by every wait of one case, so that a whole case stays bounded. */
export class CaseClock {
  private readonly deadline: number;
  constructor(readonly limitMs: number) {
    this.deadline = performance.now() + limitMs;
  }
  /** `wantMs`, cut to what is left of the case (at least 1 ms: the wait then fails at once). */
  left(wantMs: number): number {
    return Math.max(1, Math.min(wantMs, this.deadline - performance.now()));
  }
}

/** One sample of the primary's Prometheus text: `name{…volume="v"…} N` (0 when absent). */
export async function metricValue(
  agent: AgentHandle,
  name: string,
  volumeId: string,
  labelPart = "",
): Promise<number> {
  if (agent.metricsAddress === undefined) throw new Error(`${agent.serverId}: no --metrics-listen`);
  const res = await fetch(`http://${agent.metricsAddress}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const line = (await res.text())
    .split("\n")
    .find((l) => l.startsWith(`${name}{`) && l.includes(`volume="${volumeId}"`) && l.includes(labelPart));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** The copy as the primary reports it (by server id). */
function copyOf(s: VolumeStatus__Output, copy: AgentHandle) {
  return s.replicas.find((r) => r.server_id === copy.serverId);
}

/** In sync and confirmed durable at the primary's head. */
export function copyCaughtUp(s: VolumeStatus__Output, copy: AgentHandle): boolean {
  const r = copyOf(s, copy);
  return r !== undefined && r.sender_state === "SENDER_STATE_IN_SYNC" && r.durable_lsn === s.head_lsn;
}

export interface TimedRecovery {
  readonly seconds: number;
  readonly cpu_s: Record<string, number | null>;
  /** When each sender state was first seen, ms after the assignment. */
  readonly states_first_seen_ms: Record<string, number>;
}

/**
 * Assigns `copy` as replica of `primary` at `epoch` (restarted before) and times it until the
 * primary reports it in sync at its head; a NEEDS_REBUILD report fails the case (no resync then).
 */
export async function timedResync(
  primary: AgentHandle,
  copy: AgentHandle,
  volumeId: string,
  epoch: number,
  clock: CaseClock,
): Promise<TimedRecovery> {
  const cpu = cpuMeter({ primary, replica: copy });
  const seen: Record<string, number> = {};
  const started = performance.now();
  await assign(copy, replicaAssignment(volumeId, epoch, primary));
  await pollUntil(
    () => volumeStatus(primary, volumeId),
    (s) => copyCaughtUp(s, copy),
    "resync: the copy in sync and durable at the head",
    clock.left(600_000),
    (s) => {
      const r = copyOf(s, copy);
      if (r === undefined) return;
      seen[r.sender_state] ??= round(performance.now() - started);
      if (r.sender_state === "SENDER_STATE_NEEDS_REBUILD") throw new Error(`needs rebuild: ${r.reason}`);
    },
  );
  const seconds = (performance.now() - started) / 1000;
  return { seconds, cpu_s: cpu(), states_first_seen_ms: seen };
}

/**
 * The comparison: a full rebuild of the same volume onto the same copy (killed and restarted,
 * ROLE_REBUILDING at `epoch`, no rate limit), timed until the primary has it in sync at its head.
 */
export async function timedFullRebuild(
  primary: AgentHandle,
  copy: AgentHandle,
  volumeId: string,
  epoch: number,
  clock: CaseClock,
): Promise<Record<string, unknown>> {
  await copy.kill("SIGKILL");
  await copy.restart();
  const cpu = cpuMeter({ primary, replica: copy });
  const started = performance.now();
  await assign(copy, rebuildingAssignment(volumeId, primary, epoch));
  const end = await pollUntil(
    () => volumeStatus(copy, volumeId),
    (s) => s.role === "ROLE_REPLICA",
    "full rebuild committed (role REPLICA)",
    clock.left(900_000),
  );
  const committedS = (performance.now() - started) / 1000;
  await pollUntil(
    () => volumeStatus(primary, volumeId),
    (s) => copyCaughtUp(s, copy),
    "in sync after the full rebuild",
    clock.left(120_000),
  );
  const seconds = (performance.now() - started) / 1000;
  const bytes = Number(end.last_rebuild?.total_bytes ?? 0);
  return {
    seconds: round(seconds),
    committed_s: round(committedS),
    bytes,
    mb_s: round(bytes / 1e6 / seconds),
    resumes: end.last_rebuild?.resumes ?? null,
    cpu_s: cpu(),
  };
}
