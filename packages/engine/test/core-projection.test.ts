// Volume core: identity, modes, publication, boundaries and recovery truth in the
// projection (invariants 23–28). The command sequences are in core-commands.test.ts.
import { describe, expect, it } from "vitest";
import { Registry, SessionIdSource, VolumeCore } from "../src/index";
import { assign, only, R1, R2, readyPrimary, readyReplica, replicas, types, VOL } from "./core-fixtures";

describe("§8.6 core engine", () => {
  it("66. Identity_StableReplicaIDPreservesOwnership", () => {
    const reg = new Registry(VOL, new SessionIdSource());
    reg.applyAssignment({
      volumeId: VOL,
      epoch: 1n,
      replicas: replicas([R1]),
      recoveryTargets: { [R1]: "catchup" },
    });
    const sender = reg.get(R1)!;
    reg.reconcile(replicas([R1], 2), 1n);
    expect(reg.get(R1)).toBe(sender);
    expect(sender.hasActiveSession()).toBe(false);
  });

  it("67. CorePublishHealthyRequiresBarrierDurability (invariant 24)", () => {
    const core = new VolumeCore(VOL);
    const reasons = [
      core.apply(assign("primary", [R1])),
      core.apply({ type: "role_applied" }),
      core.apply({ type: "shipper_configured_observed" }),
      core.apply({ type: "shipper_connected_observed" }),
    ].map((r) => r.projection.publication.reason);
    expect(reasons).toEqual([
      "awaiting_role_apply",
      "awaiting_shipper_configured",
      "awaiting_shipper_connected",
      "awaiting_barrier_durability",
    ]);
    const healthy = core.apply({ type: "barrier_accepted", flushedLsn: 12n }).projection;
    expect(healthy.mode.name).toBe("publish_healthy");
    expect(healthy.publication).toEqual({ healthy: true, reason: "" });
    expect(healthy.boundary.durableLsn).toBe(12n);
  });

  it("68. CoreDiagnosticShippedDoesNotCreateDurableTruth (invariant 23)", () => {
    const core = readyPrimary();
    const p = core.apply({ type: "diagnostic_shipped_advanced", shippedLsn: 99n }).projection;
    expect(p.boundary.diagnosticShippedLsn).toBe(99n);
    expect(p.boundary.durableLsn).toBe(0n);
    expect(p.mode.name).toBe("bootstrap_pending");
    expect(p.publication.healthy).toBe(false);
  });

  it("69. CoreFailClosedModesStayDistinct (invariant 27)", () => {
    const core = readyPrimary();
    core.apply({ type: "barrier_accepted", flushedLsn: 5n });
    const degraded = core.apply({ type: "barrier_rejected", reason: "timeout" }).projection;
    expect([degraded.mode.name, degraded.mode.reason, degraded.publication.healthy]).toEqual([
      "degraded",
      "timeout",
      false,
    ]);
    const nr = core.apply({
      type: "needs_rebuild_observed",
      replicaId: R1,
      reason: "gap_too_large",
    }).projection;
    expect([nr.mode.name, nr.mode.reason, nr.publication.reason, nr.publication.healthy]).toEqual([
      "needs_rebuild",
      "gap_too_large",
      "gap_too_large",
      false,
    ]);
    const still = core.apply({ type: "barrier_rejected", reason: "timeout2" }).projection;
    expect(still.mode.name).toBe("needs_rebuild");
  });

  it("70. CoreProjectionMarksConstrainedRuntimeAuthority (invariant 25)", () => {
    const p = readyReplica().projection();
    expect(p.mode.authority).toBe("constrained_v1");
    expect([p.mode.name, p.publication.reason, p.publication.healthy]).toEqual([
      "replica_ready",
      "replica_not_primary",
      false,
    ]);
    expect(p.readiness.replicaReady).toBe(true);
  });

  it("71. CoreAllocatedOnlyWithoutReplicas — RF=1 is never publish_healthy", () => {
    const core = new VolumeCore(VOL);
    core.apply(assign("primary", []));
    core.apply({ type: "role_applied" });
    const p = core.apply({ type: "barrier_accepted", flushedLsn: 10n }).projection;
    expect([p.mode.name, p.publication.reason]).toEqual(["allocated_only", "allocated_only"]);
  });

  it("84. BoundaryTruthsStayDistinct", () => {
    const core = readyPrimary();
    core.apply({ type: "committed_lsn_advanced", committedLsn: 20n });
    core.apply({ type: "checkpoint_advanced", checkpointLsn: 12n });
    core.apply({ type: "barrier_accepted", flushedLsn: 8n });
    const b = core.apply({ type: "diagnostic_shipped_advanced", shippedLsn: 30n }).projection.boundary;
    expect([b.committedLsn, b.checkpointLsn, b.durableLsn, b.diagnosticShippedLsn]).toEqual([
      20n,
      12n,
      8n,
      30n,
    ]);
    const back = core.apply({ type: "committed_lsn_advanced", committedLsn: 3n }).projection.boundary;
    expect(back.committedLsn).toBe(20n);
  });

  it("85. RecoveryCatchUpBlocksReplicaReadyOverclaim (invariant 26)", () => {
    const core = readyReplica();
    const planned = core.apply({ type: "catchup_planned", targetLsn: 40n }).projection;
    expect([planned.mode.name, planned.publication.reason]).toEqual([
      "bootstrap_pending",
      "recovery_in_progress",
    ]);
    expect(
      core.apply({ type: "recovery_progress_observed", achievedLsn: 25n }).projection.recovery.achievedLsn,
    ).toBe(25n);
    const done = core.apply({ type: "catchup_completed", achievedLsn: 40n }).projection;
    expect(done.recovery.phase).toBe("idle");
    expect(done.boundary.durableLsn).toBe(40n);
    expect([done.mode.name, done.publication.healthy]).toEqual(["replica_ready", false]);
  });

  it("86. RebuildCommitClosesRecoveryBoundary", () => {
    const core = readyReplica("rebuild");
    core.apply({ type: "needs_rebuild_observed", reason: "gap" });
    const rb = core.apply({ type: "rebuild_started", targetLsn: 64n }).projection;
    expect([rb.recovery.phase, rb.mode.name, rb.recovery.targetLsn]).toEqual([
      "rebuilding",
      "needs_rebuild",
      64n,
    ]);
    const done = core.apply({
      type: "rebuild_committed",
      achievedLsn: 0n,
      flushedLsn: 64n,
      checkpointLsn: 64n,
    }).projection;
    expect([done.recovery.phase, done.recovery.achievedLsn, done.boundary.durableLsn]).toEqual([
      "idle",
      64n,
      64n,
    ]);
    expect(done.mode.name).toBe("replica_ready");
  });

  it("87. AssignmentChangeClearsStaleRecoveryTruth", () => {
    const core = readyPrimary();
    core.apply({ type: "catchup_planned", replicaId: R1, targetLsn: 90n });
    core.apply({ type: "recovery_progress_observed", replicaId: R1, achievedLsn: 50n });
    const p = core.apply(assign("primary", [R1], 2n)).projection;
    expect(p.recovery).toEqual({ phase: "idle", targetLsn: 0n, achievedLsn: 0n, reason: "" });
    expect([p.boundary.targetLsn, p.boundary.achievedLsn]).toEqual([0n, 0n]);
    expect(p.publication.reason).toBe("awaiting_role_apply");
  });

  it("88. MultiReplicaCatchUpAggregatesUntilAllComplete (invariant 28)", () => {
    const core = readyPrimary([R1, R2]);
    core.apply({ type: "catchup_planned", replicaId: R1, targetLsn: 100n });
    core.apply({ type: "catchup_planned", replicaId: R2, targetLsn: 100n });
    const one = core.apply({ type: "catchup_completed", replicaId: R1, achievedLsn: 100n }).projection;
    expect([one.recovery.achievedLsn, one.boundary.durableLsn, one.publication.healthy]).toEqual([
      0n,
      0n,
      false,
    ]);
    const both = core.apply({ type: "catchup_completed", replicaId: R2, achievedLsn: 100n }).projection;
    expect([both.boundary.durableLsn, both.mode.name]).toEqual([100n, "publish_healthy"]);
  });

  it("unresolved replica-scoped events with several replicas use the volume-wide fallbacks", () => {
    const core = readyPrimary([R1, R2]);
    const planned = core.apply({ type: "catchup_planned", targetLsn: 70n });
    expect(only(planned, "start_catchup")).toEqual([]);
    expect(planned.projection.recovery).toMatchObject({
      phase: "catching_up",
      targetLsn: 70n,
      achievedLsn: 0n,
    });
    core.apply({ type: "recovery_progress_observed", achievedLsn: 30n });
    const done = core.apply({ type: "catchup_completed", achievedLsn: 70n }).projection;
    expect([done.recovery.phase, done.boundary.durableLsn]).toEqual(["idle", 70n]);
    const nr = core.apply({ type: "needs_rebuild_observed", reason: "r" });
    expect(only(nr, "invalidate_session")[0]?.replicaId).toBe("");
  });

  it("per-replica progress moves the aggregate min; a new target resets that replica's progress", () => {
    const core = readyPrimary([R1, R2]);
    core.apply({ type: "catchup_planned", replicaId: R1, targetLsn: 50n });
    core.apply({ type: "catchup_planned", replicaId: R2, targetLsn: 60n });
    core.apply({ type: "recovery_progress_observed", replicaId: R1, achievedLsn: 40n });
    const p = core.apply({ type: "recovery_progress_observed", replicaId: R2, achievedLsn: 45n }).projection;
    expect([p.recovery.targetLsn, p.recovery.achievedLsn]).toEqual([60n, 40n]);
    core.apply({ type: "catchup_planned", replicaId: R1, targetLsn: 50n });
    const reset = core.apply({ type: "catchup_planned", replicaId: R1, targetLsn: 55n }).projection;
    expect(reset.recovery.achievedLsn).toBe(0n);
    expect(core.apply({ type: "catchup_planned", replicaId: R1, targetLsn: 0n }).commands).toEqual([]);
  });

  it("role none/unknown clears every readiness flag and falls back to allocated_only", () => {
    const core = readyPrimary();
    const p = core.apply(assign("unknown", [], 2n)).projection;
    expect(p.readiness).toMatchObject({
      receiverReady: false,
      shipperConfigured: false,
      shipperConnected: false,
    });
    expect(p.mode.name).toBe("allocated_only");
    const fresh = new VolumeCore(VOL).projection();
    expect([fresh.role, fresh.mode.name]).toEqual(["unknown", "allocated_only"]);
  });

  it("role applied alone (never assigned) is bootstrap_pending; replica without receiver waits for it", () => {
    const core = new VolumeCore(VOL);
    expect(core.apply({ type: "role_applied" }).projection.mode.name).toBe("allocated_only");
    const r = new VolumeCore(VOL);
    r.apply(assign("replica", [R1]));
    expect(r.apply({ type: "role_applied" }).projection.publication.reason).toBe("awaiting_receiver_ready");
  });

  it("barrier accepted clears degraded but keeps the invalidation latch; rebuild commit resets it", () => {
    const core = readyPrimary();
    core.apply({ type: "barrier_rejected", reason: "t" });
    expect(core.apply({ type: "barrier_accepted", flushedLsn: 3n }).projection.mode.name).toBe(
      "publish_healthy",
    );
    expect(core.apply({ type: "barrier_rejected", reason: "t" }).commands.map((c) => c.type)).toEqual([
      "publish_projection",
    ]);
    core.apply({ type: "rebuild_committed", achievedLsn: 5n, flushedLsn: 5n, checkpointLsn: 0n });
    expect(types(core.apply({ type: "barrier_rejected", reason: "t" }))).toContain("invalidate_session");
  });

  it("projections are frozen snapshots", () => {
    const p = readyPrimary().projection();
    expect(Object.isFrozen(p) && Object.isFrozen(p.boundary) && Object.isFrozen(p.replicaIds)).toBe(true);
  });

  it("desiredReplicas keeps assignment order", () => {
    const core = new VolumeCore(VOL);
    core.apply(assign("primary", [R2, R1]));
    expect(core.desiredReplicas().map((r) => r.replicaId)).toEqual([R2, R1]);
    expect(core.projection().replicaIds).toEqual([R2, R1]);
  });
});
