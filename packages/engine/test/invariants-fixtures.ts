// Fixtures of the §7 invariant tests: a registry + orchestrator + planner with replicas R1, R2.
import { RecoveryOrchestrator, RecoveryPlanner, Registry, SessionIdSource } from "../src/index";
import { ep, FakeRetention } from "./helpers";

export const VOL = "v";
export const R1 = "v/r1";
export const R2 = "v/r2";

export function orchestrated(port = new FakeRetention()) {
  const reg = new Registry(VOL, new SessionIdSource());
  const o = new RecoveryOrchestrator(reg);
  return { reg, o, planner: new RecoveryPlanner(o, port), port };
}

export function assignBoth(o: RecoveryOrchestrator, epoch = 1n) {
  return o.processAssignment({
    volumeId: VOL,
    epoch,
    replicas: [
      { replicaId: R1, endpoint: ep("a") },
      { replicaId: R2, endpoint: ep("b") },
    ],
    recoveryTargets: { [R1]: "catchup", [R2]: "catchup" },
  });
}
