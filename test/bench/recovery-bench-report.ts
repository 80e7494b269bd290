import { loadavg } from "node:os";
import type { BaselineResult, MedianBaseline } from "./recovery-baseline-run";

// The JSON lines and the summary line of bench:recovery.

/** Two decimals, the precision every figure is printed with. */
export const round = (x: number) => Math.round(x * 100) / 100;
export const mbPerSecond = (bytes: number, seconds: number) => bytes / 1e6 / seconds;

export interface Measured {
  readonly bytes: number;
  readonly seconds: number;
  readonly details: Record<string, unknown>;
  /** A baseline measured inside the case (e.g. an idle rebuild), instead of the one given to runCase. */
  readonly baseline?: { readonly bytes: number; readonly seconds: number };
}

/** A failed case with what it saw until then: printed in its error line. */
export class CaseError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
  }
}

function printLine(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: "recovery", ...line })}\n`);
}

function report(
  name: string,
  m: Measured,
  given?: { readonly bytes: number; readonly seconds: number },
  goal?: number,
): number {
  const baseline = m.baseline ?? given;
  const value = mbPerSecond(m.bytes, m.seconds);
  const base = baseline === undefined ? undefined : mbPerSecond(baseline.bytes, baseline.seconds);
  printLine({
    case: name,
    value: round(value),
    unit: "MB/s",
    baseline: base === undefined ? null : round(base),
    ratio: base === undefined ? null : round(value / base),
    goal: goal ?? null,
    bytes: m.bytes,
    seconds: round(m.seconds),
    // Other work on this shared 2-core machine skews every figure: the 1-minute load when printed.
    load_1m: round(loadavg()[0] ?? 0),
    ...m.details,
  });
  return base === undefined ? value : value / base;
}

export function reportBaseline(name: string, raw: MedianBaseline): void {
  const cpu = { source: round(raw.cpuSeconds.source), sink: round(raw.cpuSeconds.sink) };
  report(name, { bytes: raw.bytes, seconds: raw.seconds, details: { cpu_s: cpu, runs_s: raw.runSeconds } });
}

export interface Outcome {
  readonly name: string;
  readonly goal: number;
  ratio?: number;
  error?: string;
}

export async function runCase(
  name: string,
  goal: number,
  baseline: BaselineResult | undefined,
  run: () => Promise<Measured>,
): Promise<Outcome> {
  try {
    return { name, goal, ratio: report(name, await run(), baseline, goal) };
  } catch (err) {
    const error = err instanceof Error ? err.message.split("\n")[0] : String(err);
    printLine({ case: name, error, ...(err instanceof CaseError ? err.details : {}) });
    process.stderr.write(`${name} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    return { name, goal, error };
  }
}

export function summary(label: string, outcomes: readonly Outcome[]): string {
  const parts = outcomes.map((o) =>
    o.error !== undefined
      ? `${o.name}: FAILED (${o.error})`
      : `${o.name}: ${round(o.ratio ?? 0)} × raw (goal ≥ ${o.goal}: ${(o.ratio ?? 0) >= o.goal ? "met" : "NOT met"})`,
  );
  return `${label}: ${parts.join("; ")}`;
}
