// Invariants 23–34: volume-core publication and commands, the live-shipping gate,
// pending plans and the session shape — one test per invariant with the spec's recipe.
// Invariants 1–22 are in invariants-recovery.test.ts.
import { describe, expect, it } from "vitest";
import { decideLiveShipping, deriveVolumeExecutionState, PendingPlans, VolumeCore } from "../src/index";
import { catchingUp, ep, history } from "./helpers";
import { assignBoth, orchestrated, R1, R2, VOL } from "./invariants-fixtures";

function primaryCore(ids: string[] = [R1]): VolumeCore {
  const core = new VolumeCore(VOL);
  core.apply({
    type: "assignment_delivered",
    epoch: 1n,
    role: "primary",
    replicas: ids.map((replicaId) => ({ replicaId, endpoint: ep(replicaId) })),
    recoveryTarget: "catchup",
  });
  return core;
}

describe("§7 invariants", () => {
  it("23. durable ≠ shipped: shipped 99 ⇒ durable 0", () => {
    const p = primaryCore().apply({ type: "diagnostic_shipped_advanced", shippedLsn: 99n }).projection;
    expect([p.boundary.durableLsn, p.publication.healthy]).toEqual([0n, false]);
  });

  it("24. publish_healthy needs barrier durability", () => {
    const core = primaryCore();
    core.apply({ type: "role_applied" });
    core.apply({ type: "shipper_configured_observed" });
    expect(core.apply({ type: "shipper_connected_observed" }).projection.publication.reason).toBe(
      "awaiting_barrier_durability",
    );
    expect(core.apply({ type: "barrier_accepted", flushedLsn: 12n }).projection.publication.healthy).toBe(
      true,
    );
  });

  it("25. a replica never publishes healthy, also after catch-up and rebuild completion", () => {
    const core = new VolumeCore(VOL);
    core.apply({
      type: "assignment_delivered",
      epoch: 1n,
      role: "replica",
      replicas: [{ replicaId: R1, endpoint: ep() }],
      recoveryTarget: null,
    });
    core.apply({ type: "role_applied" });
    core.apply({ type: "receiver_ready_observed" });
    core.apply({ type: "catchup_planned", targetLsn: 5n });
    const a = core.apply({ type: "catchup_completed", achievedLsn: 5n }).projection;
    const b = core.apply({
      type: "rebuild_committed",
      achievedLsn: 9n,
      flushedLsn: 9n,
      checkpointLsn: 9n,
    }).projection;
    for (const p of [a, b])
      expect([p.mode.name, p.publication.healthy, p.publication.reason]).toEqual([
        "replica_ready",
        false,
        "replica_not_primary",
      ]);
  });

  it("26. recovery in progress blocks readiness overclaim", () => {
    const core = primaryCore();
    const p = core.apply({ type: "catchup_planned", replicaId: R1, targetLsn: 10n }).projection;
    expect([p.mode.name, p.publication.reason]).toEqual(["bootstrap_pending", "recovery_in_progress"]);
    expect(
      core.apply({ type: "rebuild_started", replicaId: R1, targetLsn: 10n }).projection.publication.healthy,
    ).toBe(false);
  });

  it("27. fail-closed modes distinct: needs_rebuild outranks degraded outranks recovery", () => {
    const core = primaryCore();
    core.apply({ type: "catchup_planned", replicaId: R1, targetLsn: 10n });
    expect(core.apply({ type: "barrier_rejected", reason: "d" }).projection.mode).toMatchObject({
      name: "degraded",
      reason: "d",
    });
    core.apply({ type: "needs_rebuild_observed", replicaId: R1, reason: "n" });
    expect(core.apply({ type: "barrier_rejected", reason: "d2" }).projection.mode).toMatchObject({
      name: "needs_rebuild",
      reason: "n",
    });
  });

  it("28. multi-replica aggregate: r1 completes at 100, r2 not ⇒ durable 0, not healthy", () => {
    const core = primaryCore([R1, R2]);
    core.apply({ type: "catchup_planned", replicaId: R1, targetLsn: 100n });
    core.apply({ type: "catchup_planned", replicaId: R2, targetLsn: 100n });
    const p = core.apply({ type: "catchup_completed", replicaId: R1, achievedLsn: 100n }).projection;
    expect([p.boundary.durableLsn, p.publication.healthy]).toEqual([0n, false]);
  });

  it("29. command idempotence: same assignment twice ⇒ second result has zero commands", () => {
    const core = primaryCore();
    const again = core.apply({
      type: "assignment_delivered",
      epoch: 1n,
      role: "primary",
      replicas: [{ replicaId: R1, endpoint: ep(R1) }],
      recoveryTarget: "catchup",
    });
    expect(again.commands).toEqual([]);
    core.apply({ type: "committed_lsn_advanced", committedLsn: 4n });
    expect(core.apply({ type: "committed_lsn_advanced", committedLsn: 4n }).commands).toEqual([]);
  });

  it("30. invalidate only on a new failure transition", () => {
    const core = primaryCore();
    const first = core
      .apply({ type: "barrier_rejected", reason: "x" })
      .commands.filter((c) => c.type === "invalidate_session");
    const second = core
      .apply({ type: "barrier_rejected", reason: "x" })
      .commands.filter((c) => c.type === "invalidate_session");
    expect([first.length, second.length]).toEqual([1, 0]);
  });

  it("31. assignment change clears stale recovery truth and lets the same target start again", () => {
    const core = primaryCore();
    core.apply({ type: "catchup_planned", replicaId: R1, targetLsn: 90n });
    const p = core.apply({
      type: "assignment_delivered",
      epoch: 2n,
      role: "primary",
      replicas: [{ replicaId: R1, endpoint: ep(R1) }],
      recoveryTarget: "catchup",
    }).projection;
    expect(p.recovery).toEqual({ phase: "idle", targetLsn: 0n, achievedLsn: 0n, reason: "" });
    expect(
      core
        .apply({ type: "catchup_planned", replicaId: R1, targetLsn: 90n })
        .commands.some((c) => c.type === "start_catchup"),
    ).toBe(true);
  });

  it("32. live shipping gated while a recovery session is active; allowed after it leaves", () => {
    const t = orchestrated();
    assignBoth(t.o);
    const blocked = decideLiveShipping(deriveVolumeExecutionState(VOL, t.reg.snapshot()), R1, 1n);
    expect(blocked.allow).toBe(false);
    expect(blocked.reason).toMatch(/^active_catchup_session/);
    t.o.executeRecovery(R1, 100n, history());
    expect(decideLiveShipping(deriveVolumeExecutionState(VOL, t.reg.snapshot()), R1, 1n).allow).toBe(true);
  });

  it("33. pending plan must match the command: mismatch cancels the plan and invalidates the session", () => {
    const t = orchestrated();
    assignBoth(t.o);
    const r = t.planner.planRecovery(R1, 70n);
    const pending = new PendingPlans((plan, reason) => t.planner.cancelPlan(plan, reason));
    pending.store(VOL, r.ok ? r.plan : (undefined as never));
    expect(pending.takeCatchUp(VOL, R1, 99n)).toBeNull();
    expect([t.port.count(), t.reg.get(R1)!.hasActiveSession()]).toEqual([0, false]);
  });

  it("34. a sender's session is absent or active after every call", () => {
    const { s, id } = catchingUp(0n, 10n);
    const check = () => expect(s.sessionSnapshot() === null || s.sessionSnapshot()!.active).toBe(true);
    s.recordCatchUpProgress(id, 10n);
    check();
    s.completeSessionById(id);
    check();
    s.attachSession(1n, "catchup");
    s.invalidateSession("x", "disconnected");
    check();
    s.attachSession(1n, "catchup");
    s.stop();
    check();
  });
});
