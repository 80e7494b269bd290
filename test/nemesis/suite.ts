// The `npm test` share of the fault-schedule checker: a fixed list of seeds, short schedules on a
// small volume, one cluster of real agents per file. `npm run soak` runs the same generator with
// every fault kind and as many seeds as asked.
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { Cluster } from "./cluster";
import { planFor, replayCommand, rfOf } from "./plan";
import { formatResult, runSchedule } from "./run-schedule";
import { ALL_FAULTS, type FaultKind } from "./schedule";

/**
 * Fault kinds `npm test` draws from: all of them (the divergent-tail failover and the whole-volume
 * trim are fixed on main by the history-checked handshake and trims as ranges).
 */
export const TEST_FAULTS: readonly FaultKind[] = ALL_FAULTS;
export const TEST_FAULT_STEPS = 2;
/** Bound on one schedule (set-up, steps, settling, checks). */
const SCHEDULE_TIMEOUT_MS = 150_000;

/** A schedule the soak once failed on, replayed with the fault kinds and steps it was found with. */
export interface RegressionSchedule {
  readonly seed: number;
  readonly faults: readonly FaultKind[];
  readonly faultSteps: number;
  /** What it found (in the test name). */
  readonly found: string;
}

export function scheduleSuite(
  rf: 2 | 3,
  seeds: readonly number[],
  regressions: readonly RegressionSchedule[] = [],
): void {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start(`nemesis${rf}`, rf);
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  const cases = [
    ...seeds.map((seed) => ({ seed, faults: TEST_FAULTS, faultSteps: TEST_FAULT_STEPS, found: "" })),
    ...regressions,
  ];
  for (const { seed, faults, faultSteps, found } of cases) {
    if (rfOf(seed) !== rf) throw new Error(`seed ${seed} is not an RF=${rf} seed`);
    const plan = planFor(seed, faults, faultSteps);
    const what = found === "" ? "" : ` [regression: ${found}]`;
    it(
      `seed ${seed} (RF=${rf}, ${plan.run.mode})${what}: every flushed block survives on every promotable copy`,
      async () => {
        onTestFailed(() => console.error(cluster.logs()));
        const result = await runSchedule(cluster, plan.schedule, plan.run);
        const report = formatResult(result, replayCommand(seed, faults, faultSteps));
        expect(result.violations, report).toEqual([]);
      },
      SCHEDULE_TIMEOUT_MS,
    );
  }
}
