// What a seed means: its replication factor, durability mode and schedule, so that one seed (plus
// the fault kinds) replays a schedule exactly as it was generated, in `npm test` and in `npm run soak`.
import type { Mode } from "../support/master";
import { DEFAULT_RUN, type RunOptions } from "./run-schedule";
import { type FaultKind, generate, type Schedule } from "./schedule";

export interface Plan {
  readonly schedule: Schedule;
  readonly run: RunOptions;
}

/** A whole-volume trim is only a test of anything on a volume large enough to strain the WAL. */
const BIG_TRIM_VOLUME_BYTES = 1024 * 1024 * 1024;

export function rfOf(seed: number): 2 | 3 {
  return seed % 2 === 0 ? 2 : 3;
}

export function planFor(seed: number, faults: readonly FaultKind[], faultSteps: number): Plan {
  const rf = rfOf(seed);
  const mode: Mode = rf === 2 || Math.floor(seed / 2) % 2 === 0 ? "sync_all" : "sync_quorum";
  const schedule = generate(seed, { rf, faults, faultSteps });
  const sizeBytes = faults.includes("bigTrim") ? BIG_TRIM_VOLUME_BYTES : DEFAULT_RUN.sizeBytes;
  return { schedule, run: { ...DEFAULT_RUN, volumeId: `nemesis-${seed}`, mode, sizeBytes } };
}

export function replayCommand(seed: number, faults: readonly FaultKind[], faultSteps: number): string {
  return `npm run soak -- --seed ${seed} --schedules 1 --faults ${faults.join(",")} --fault-steps ${faultSteps}`;
}
