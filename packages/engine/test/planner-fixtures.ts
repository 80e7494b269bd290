// Fixtures of the planner and executor tests: one replica R1 behind an orchestrator + planner
// over a FakeRetention, and the plan → execution shortcuts.
import {
  CatchUpExecution,
  makeReplicaId,
  RebuildExecution,
  RecoveryOrchestrator,
  RecoveryPlanner,
  Registry,
  requireCatchUpPlan,
  requireRebuildPlan,
  SessionIdSource,
  type SessionKind,
} from "../src/index";
import { ep, FakeRetention } from "./helpers";

export const VOL = "vol1";
export const R1 = makeReplicaId(VOL, "r1");

export function setup(
  h: ConstructorParameters<typeof FakeRetention>[0] = {},
  kind: SessionKind = "catchup",
  epoch = 1n,
) {
  const port = new FakeRetention(h);
  const reg = new Registry(VOL, new SessionIdSource());
  const o = new RecoveryOrchestrator(reg);
  const planner = new RecoveryPlanner(o, port);
  o.processAssignment({
    volumeId: VOL,
    epoch,
    replicas: [{ replicaId: R1, endpoint: ep() }],
    recoveryTargets: { [R1]: kind },
  });
  const sender = reg.get(R1)!;
  return { port, reg, o, planner, sender };
}

export function catchUpExec(t: ReturnType<typeof setup>, f: bigint) {
  const r = t.planner.planRecovery(R1, f);
  if (!r.ok) throw new Error(r.error);
  return {
    plan: requireCatchUpPlan(r.plan),
    exec: new CatchUpExecution(t.reg, t.o.log, requireCatchUpPlan(r.plan)),
  };
}

export function rebuildExec(t: ReturnType<typeof setup>) {
  const r = t.planner.planRebuild(R1);
  if (!r.ok) throw new Error(r.error);
  return {
    plan: requireRebuildPlan(r.plan),
    exec: new RebuildExecution(t.reg, t.o.log, requireRebuildPlan(r.plan)),
  };
}
