// What the edge-case batteries check after each group: the agent process is alive, Health answers
// SERVING, and the process guard never fired (its counter and its log lines), i.e. no RPC path
// needed the backstop.
import { deadlineIn, unary } from "@blockship/rpc";
import { expect } from "vitest";
import type { AgentHandle } from "./agents";

/** The guard's log events (packages/agent/src/process-guard.ts). */
export const GUARD_EVENT = /"event":"(unhandled_rejection|uncaught_exception)"/;
/** Agents started with this serve /metrics, which the check reads. */
export const METRICS_ARGS = ["--metrics-listen", "127.0.0.1:0"] as const;

/** How many times the process guard fired on `agent` (its Prometheus counter; 0 when absent). */
export async function guardEvents(agent: AgentHandle): Promise<number> {
  const res = await fetch(`http://${agent.metricsAddress}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  let sum = 0;
  for (const m of text.matchAll(/^blockship_process_guard_events_total\{[^}]*\} (\d+)$/gm))
    sum += Number(m[1]);
  return sum;
}

/** Alive (no exit), Health SERVING, no guard event. */
export async function expectAliveAndUnguarded(agents: readonly AgentHandle[]): Promise<void> {
  for (const agent of agents) {
    expect(agent.running, `${agent.serverId} is alive`).toBe(true);
    const health = await unary<{ status: string }>((cb) =>
      agent.health.Check({ service: "" }, deadlineIn(5_000), cb),
    );
    expect(health.status, `${agent.serverId} health`).toBe("SERVING");
    expect(await guardEvents(agent), `${agent.serverId}: process guard events`).toBe(0);
    expect(agent.logs()).not.toMatch(GUARD_EVENT);
  }
}
