import { readFileSync } from "node:fs";
import type { AgentHandle } from "../support/agents";
import { round } from "./recovery-bench-report";

// CPU time of agent processes during a benchmark case, read from /proc.

/** CPU time (user + system) a process used so far, in seconds; null where /proc is missing. */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // After "(comm) ": state is field 3, utime and stime are fields 14 and 15 (USER_HZ = 100 ticks).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Starts counting the agents' CPU time; the returned function reads seconds used since, per agent. */
export function cpuMeter(agents: Record<string, AgentHandle>): () => Record<string, number | null> {
  const start = Object.entries(agents).map(([name, a]) => [name, a.pid, cpuSeconds(a.pid)] as const);
  return () =>
    Object.fromEntries(
      start.map(([name, pid, before]) => {
        const now = cpuSeconds(pid);
        return [name, now === null || before === null ? null : round(now - before)];
      }),
    );
}
