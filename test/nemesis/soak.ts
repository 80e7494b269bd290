// `npm run soak -- --schedules N --seed S [--faults k1,k2] [--fault-steps K]`: runs N fault schedules
// (seeds S, S+1, …; even seeds RF=2, odd seeds RF=3) against real agents and prints every violation
// with its seed, the schedule and the replay command. Exit 1 when any schedule found a violation.
import { parseArgs } from "node:util";
import { Cluster } from "./cluster";
import { planFor, replayCommand, rfOf } from "./plan";
import { formatResult, runSchedule } from "./run-schedule";
import { ALL_FAULTS, type FaultKind } from "./schedule";

const { values } = parseArgs({
  options: {
    schedules: { type: "string", default: "20" },
    seed: { type: "string", default: String(Date.now() % 1_000_000) },
    faults: { type: "string", default: ALL_FAULTS.join(",") },
    "fault-steps": { type: "string", default: "4" },
    verbose: { type: "boolean", default: false },
    logs: { type: "boolean", default: false },
  },
});
const count = Number(values.schedules);
const firstSeed = Number(values.seed);
const faultSteps = Number(values["fault-steps"]);
const faults = (values.faults ?? "").split(",").filter((f) => f !== "") as FaultKind[];
for (const f of faults)
  if (!ALL_FAULTS.includes(f)) throw new Error(`unknown fault kind ${f} (${ALL_FAULTS.join(",")})`);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(firstSeed) || !Number.isInteger(faultSteps)) {
  throw new Error("--schedules, --seed and --fault-steps take integers");
}

const clusters = new Map<number, Cluster>();
let failed = 0;
try {
  for (let i = 0; i < count; i++) {
    const seed = firstSeed + i;
    const rf = rfOf(seed);
    let cluster = clusters.get(rf);
    if (cluster === undefined) {
      cluster = await Cluster.start(`soak${rf}`, rf);
      clusters.set(rf, cluster);
    }
    const plan = planFor(seed, faults, faultSteps);
    const result = await runSchedule(cluster, plan.schedule, plan.run);
    const ok = result.violations.length === 0;
    if (!ok) failed += 1;
    console.log(
      `seed ${seed} rf=${rf} ${plan.run.mode}: ${ok ? "ok" : `${result.violations.length} VIOLATIONS`} (${result.durationMs} ms, ${result.summary})`,
    );
    if (!ok || values.verbose) console.log(formatResult(result, replayCommand(seed, faults, faultSteps)));
    if (!ok && values.logs) console.log(cluster.logs());
  }
} finally {
  for (const c of clusters.values()) await c.stop();
}
console.log(`${count} schedules, ${failed} with violations`);
process.exitCode = failed > 0 ? 1 : 0;
