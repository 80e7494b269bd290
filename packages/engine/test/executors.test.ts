// The catch-up, resync and rebuild executors — progress, budgets, supersede, cancel,
// resource release and logs (invariants 20, 22); "a failed catch-up ends its session" decision.
import { describe, expect, it } from "vitest";
import type { CatchUpExecution } from "../src/index";
import { budget, ep } from "./helpers";
import { catchUpExec, R1, rebuildExec, setup, VOL } from "./planner-fixtures";

describe("§8.4 executors", () => {
  it("51. E1 progress beyond target (80, 90, 101) ⇒ error, WAL released, session ended", () => {
    const t = setup();
    const { exec } = catchUpExec(t, 70n);
    exec.start(1);
    exec.progress(80n, 2);
    exec.progress(90n, 3);
    const r = exec.progress(101n, 4);
    expect(r.status).toBe("failed");
    expect(r.error).toBe("exceeds_frozen_target");
    expect(t.port.count()).toBe(0);
    expect(t.o.log.has("exec_resources_released")).toBe(true);
    expect(t.sender.hasActiveSession()).toBe(false);
    expect(t.sender.state).toBe("disconnected");
  });

  it("52. E1 budget escalation (MaxDuration 3, 4 steps) ⇒ escalated, WAL released", () => {
    const t = setup();
    t.sender.invalidateSession("reattach", "disconnected");
    t.sender.attachSession(1n, "catchup", { budget: budget({ maxDurationMs: 3 }) });
    const { exec } = catchUpExec(t, 0n);
    exec.start(1);
    const steps = [10n, 20n, 30n, 40n].map((lsn, i) => exec.progress(lsn, 1 + i + 1));
    expect(steps.map((s) => s.status)).toEqual(["running", "running", "running", "escalated"]);
    expect(steps[3]?.violation).toBe("duration_exceeded");
    expect(t.port.count()).toBe(0);
    expect(t.sender.state).toBe("needs_rebuild");
  });

  it("budget tick without progress detects a stall", () => {
    const t = setup();
    t.sender.invalidateSession("reattach", "disconnected");
    t.sender.attachSession(1n, "catchup", { budget: budget({ progressDeadlineMs: 5 }) });
    const { exec } = catchUpExec(t, 0n);
    expect(exec.tick(100).status).toBe("pending");
    exec.start(10);
    expect(exec.tick(12).status).toBe("running");
    expect(exec.tick(16)).toMatchObject({ status: "escalated", violation: "progress_stalled" });
  });

  it("53. E2 rebuild after epoch bump ⇒ start fails, snapshot+WAL pins released", () => {
    const t = setup({ tailLsn: 30n, checkpointLsn: 50n, checkpointTrusted: true }, "rebuild");
    const { exec } = rebuildExec(t);
    expect(t.port.count()).toBe(2);
    t.sender.updateEpoch(2n);
    expect(exec.start().status).toBe("superseded");
    expect(t.port.count()).toBe(0);
  });

  it.each(["epoch bump before execute", "cancel", "rebuild cancel"] as const)(
    "54. E3 %s ⇒ all pins released",
    (how) => {
      const t = setup(
        { tailLsn: 30n, checkpointLsn: 50n, checkpointTrusted: true },
        how === "rebuild cancel" ? "rebuild" : "catchup",
      );
      const exec = how === "rebuild cancel" ? rebuildExec(t).exec : catchUpExec(t, 70n).exec;
      expect(t.port.count()).toBeGreaterThan(0);
      if (how === "epoch bump before execute") {
        t.o.invalidateEpoch(2n);
        expect((exec as CatchUpExecution).start(1).status).toBe("superseded");
      } else {
        expect(exec.cancel("operator").status).toBe("cancelled");
        expect(exec.cancel("again").status).toBe("cancelled");
        expect(t.sender.hasActiveSession()).toBe(false);
      }
      expect(t.port.count()).toBe(0);
      expect(t.o.log.has("exec_resources_released")).toBe(true);
    },
  );

  it("55. E4 successful catch-up and rebuild ⇒ pins released, in_sync", () => {
    const t = setup();
    const { exec } = catchUpExec(t, 70n);
    exec.start(1);
    exec.progress(100n, 2);
    expect(exec.status).toBe("running");
    expect(exec.complete().status).toBe("completed");
    expect([exec.status, exec.finished]).toEqual(["completed", true]);
    expect([t.port.count(), t.sender.state]).toEqual([0, "in_sync"]);
    expect(exec.progress(101n, 3).error).toBe("execution finished");
    const r = setup({ tailLsn: 30n, checkpointLsn: 50n, checkpointTrusted: true }, "rebuild");
    const rb = rebuildExec(r).exec;
    rb.start();
    rb.transferProgress(50n);
    rb.beginTailReplay();
    rb.tailProgress(100n);
    expect(rb.complete()).toMatchObject({ status: "completed", achievedLsn: 100n });
    expect([r.port.count(), r.sender.state]).toEqual([0, "in_sync"]);
  });

  it("56. PlanExecuteConsistency_RebuildCannotSwitchSource (invariant 22)", () => {
    const t = setup({ tailLsn: 30n, checkpointLsn: 50n, checkpointTrusted: true }, "rebuild");
    const { exec } = rebuildExec(t);
    t.port.history = { ...t.port.history, checkpointTrusted: false, tailLsn: 90n };
    exec.start();
    expect(t.sender.sessionSnapshot()?.rebuild?.source).toBe("snapshot_tail");
    exec.transferProgress(50n);
    exec.beginTailReplay();
    exec.tailProgress(100n);
    expect(exec.complete().status).toBe("completed");
  });

  it("57. E5 stepwise logs", () => {
    const t = setup();
    const { exec } = catchUpExec(t, 70n);
    exec.start(1);
    exec.progress(100n, 2);
    exec.complete();
    expect(t.o.log.has("exec_catchup_started")).toBe(true);
    expect(t.o.log.has("exec_completed")).toBe(true);
    const r = setup({}, "rebuild");
    const rb = rebuildExec(r).exec;
    rb.start();
    rb.transferProgress(100n);
    rb.complete();
    expect(r.o.log.has("exec_rebuild_started")).toBe(true);
    expect(r.o.log.has("exec_rebuild_completed")).toBe(true);
  });

  it("58. P3_E1 ChangedAddress_OldPlanCancelledByDriver", () => {
    const t = setup();
    const { plan } = catchUpExec(t, 70n);
    t.planner.cancelPlan(plan, "address_change");
    expect(t.port.count()).toBe(0);
    const sender = t.sender;
    t.o.processAssignment({
      volumeId: VOL,
      epoch: 1n,
      replicas: [{ replicaId: R1, endpoint: ep("new:1") }],
      recoveryTargets: { [R1]: "catchup" },
    });
    expect(t.reg.get(R1)).toBe(sender);
    const r = t.planner.planRecovery(R1, 100n);
    expect(r.ok && r.plan.kind).toBe("zero_gap");
    expect(t.o.log.has("plan_cancelled")).toBe(true);
    expect(t.o.log.has("session_created")).toBe(true);
  });

  it("59. P3_E2 EpochBump_MidExecutorLoop", () => {
    const t = setup({}, "catchup");
    const { exec } = catchUpExec(t, 0n);
    exec.start(1);
    exec.progress(10n, 2);
    t.o.updateSenderEpoch(R1, 2n);
    const r = exec.progress(20n, 3);
    expect(r.status).toBe("superseded");
    expect(t.port.count()).toBe(0);
    expect(t.o.log.has("session_invalidated")).toBe(true);
    expect(t.o.log.has("exec_resources_released")).toBe(true);
  });

  it("63. P3_E5 FullRecoveryChainLogged", () => {
    const t = setup();
    const { exec } = catchUpExec(t, 70n);
    exec.start(1);
    exec.progress(100n, 2);
    exec.complete();
    const names: readonly string[] = t.o.log.all().map((e) => e.event);
    const chain = [
      "sender_added",
      "session_created",
      "connected",
      "handshake",
      "plan_catchup",
      "exec_catchup_started",
      "exec_completed",
    ];
    let at = -1;
    for (const name of chain) {
      const next = names.indexOf(name, at + 1);
      expect(next, name).toBeGreaterThan(at);
      at = next;
    }
  });

  it("decision: a failed catch-up ends its session (host failure or rejected completion)", () => {
    const t = setup();
    const { exec } = catchUpExec(t, 70n);
    exec.start(1);
    expect(exec.fail("io_error").status).toBe("failed");
    expect(exec.fail("again").status).toBe("failed");
    expect([t.sender.hasActiveSession(), t.sender.state, t.port.count()]).toEqual([false, "disconnected", 0]);
    const c = setup();
    const ce = catchUpExec(c, 70n).exec;
    ce.start(1);
    ce.progress(80n, 2);
    expect(ce.complete()).toMatchObject({ status: "failed", error: "completion_rejected" });
    expect(c.sender.hasActiveSession()).toBe(false);
    expect(c.o.log.has("completion_rejected")).toBe(true);
  });

  it("a failed rebuild leaves the replica needing a rebuild; double start is refused", () => {
    const t = setup({}, "rebuild");
    const { exec } = rebuildExec(t);
    exec.start();
    expect(exec.start().error).toBe("already started");
    expect(exec.transferProgress(0n).status).toBe("failed");
    expect(t.sender.state).toBe("needs_rebuild");
    expect(t.port.count()).toBe(0);
    const c = setup();
    const ce = catchUpExec(c, 70n).exec;
    ce.start(1);
    expect(ce.start(2).error).toBe("already started");
  });
});
