// Runtime helpers (pending-plan coordinator, plan → completion events); invariant 33.
import { describe, expect, it } from "vitest";
import {
  type CatchUpPlan,
  catchUpCompletedEvent,
  PendingPlans,
  PinSet,
  type RebuildPlan,
  type RecoveryPlan,
  rebuildCommittedEvent,
} from "../src/index";
import { FakeRetention } from "./helpers";

const VOL = "vol";

function catchUpPlan(replicaId: string, targetLsn: bigint, startLsn = 10n): CatchUpPlan {
  return {
    kind: "catchup",
    replicaId,
    sessionId: 1,
    proof: { recoverable: true, reason: "" },
    pins: new PinSet(new FakeRetention()),
    startLsn,
    targetLsn,
  };
}

function rebuildPlan(replicaId: string, targetLsn: bigint): RebuildPlan {
  return {
    kind: "rebuild",
    replicaId,
    sessionId: 2,
    proof: { recoverable: false, reason: "" },
    pins: new PinSet(new FakeRetention()),
    source: "full_base",
    snapshotLsn: 0n,
    targetLsn,
    reason: "no_checkpoint",
  };
}

function coordinator() {
  const cancelled: [RecoveryPlan, string][] = [];
  return { p: new PendingPlans((plan, reason) => cancelled.push([plan, reason])), cancelled };
}

describe("§8.5 PendingCoordinator", () => {
  it("TakeCatchUp match — second take is null", () => {
    const { p, cancelled } = coordinator();
    const plan = catchUpPlan("r1", 100n);
    p.store(VOL, plan);
    expect(p.takeCatchUp(VOL, "r1", 100n)).toBe(plan);
    expect(p.takeCatchUp(VOL, "r1", 100n)).toBeNull();
    expect(cancelled).toEqual([]);
  });

  it("TakeCatchUp mismatch cancels start_catchup_target_mismatch and empties the slot (invariant 33)", () => {
    const { p, cancelled } = coordinator();
    const plan = catchUpPlan("r1", 100n);
    p.store(VOL, plan);
    expect(p.takeCatchUp(VOL, "r1", 90n)).toBeNull();
    expect(cancelled).toEqual([[plan, "start_catchup_target_mismatch"]]);
    expect(p.has(VOL, "r1")).toBe(false);
  });

  it("TakeRebuild match & mismatch (also a plan of the wrong kind)", () => {
    const { p, cancelled } = coordinator();
    const plan = rebuildPlan("r1", 80n);
    p.store(VOL, plan);
    expect(p.takeRebuild(VOL, "r1", 80n)).toBe(plan);
    p.store(VOL, plan);
    expect(p.takeRebuild(VOL, "r1", 81n)).toBeNull();
    p.store(VOL, catchUpPlan("r1", 80n));
    expect(p.takeRebuild(VOL, "r1", 80n)).toBeNull();
    p.store(VOL, plan);
    expect(p.takeCatchUp(VOL, "r1", 80n)).toBeNull();
    expect(cancelled.map(([, r]) => r)).toEqual([
      "start_rebuild_target_mismatch",
      "start_rebuild_target_mismatch",
      "start_catchup_target_mismatch",
    ]);
  });

  it("Cancel explicit / Cancel on empty calls no callback", () => {
    const { p, cancelled } = coordinator();
    expect(p.cancel(VOL, "r1", "x")).toBe(false);
    p.store(VOL, catchUpPlan("r1", 5n));
    expect(p.cancel(VOL, "r1", "start_catchup_not_emitted")).toBe(true);
    expect(cancelled.map(([, r]) => r)).toEqual(["start_catchup_not_emitted"]);
  });

  it("Has + Peek are non-consuming; Store replaces (the replaced plan is cancelled)", () => {
    const { p, cancelled } = coordinator();
    const a = catchUpPlan("r1", 5n);
    const b = catchUpPlan("r1", 6n);
    p.store(VOL, a);
    expect(p.has(VOL, "r1")).toBe(true);
    expect(p.peek(VOL, "r1")).toBe(a);
    expect(p.has(VOL, "r1")).toBe(true);
    p.store(VOL, b);
    p.store(VOL, b);
    expect(p.peek(VOL, "r1")).toBe(b);
    expect(cancelled).toEqual([[a, "pending_plan_replaced"]]);
  });

  it("replica-scoped keys are independent; take from empty is null", () => {
    const { p } = coordinator();
    p.store(VOL, catchUpPlan("r1", 5n));
    p.store("other", catchUpPlan("r1", 7n));
    p.store(VOL, catchUpPlan("r2", 9n));
    expect(p.takeCatchUp(VOL, "r2", 9n)?.targetLsn).toBe(9n);
    expect(p.takeCatchUp("other", "r1", 7n)?.targetLsn).toBe(7n);
    expect(p.peek(VOL, "r1")?.replicaId).toBe("r1");
    expect(p.takeCatchUp(VOL, "nobody", 1n)).toBeNull();
    expect(p.peek(VOL, "nobody")).toBeNull();
  });
});

describe("§8.5 plan execution results", () => {
  it("65. ExecuteCatchUpPlan — achieved = plan target 100 (or start when the target is 0)", () => {
    expect(catchUpCompletedEvent(catchUpPlan("r1", 100n))).toEqual({
      type: "catchup_completed",
      replicaId: "r1",
      achievedLsn: 100n,
    });
    expect(catchUpCompletedEvent(catchUpPlan("r1", 0n, 10n)).achievedLsn).toBe(10n);
  });

  it("65. ExecuteRebuildPlan — flushed = backend committed or plan target; achieved = max", () => {
    const plan = rebuildPlan("r1", 80n);
    expect(rebuildCommittedEvent(plan, null)).toEqual({
      type: "rebuild_committed",
      replicaId: "r1",
      achievedLsn: 80n,
      flushedLsn: 80n,
      checkpointLsn: 80n,
    });
    expect(rebuildCommittedEvent(plan, 85n, 90n)).toMatchObject({ flushedLsn: 85n, achievedLsn: 90n });
  });
});
