// Volume core: the bounded command sequences — what each event emits, and that
// redelivery emits nothing (invariants 29–31).
import { describe, expect, it } from "vitest";
import { VolumeCore } from "../src/index";
import { assign, only, R1, R2, readyPrimary, readyReplica, replicas, types, VOL } from "./core-fixtures";
import { ep } from "./helpers";

describe("§8.6 core engine", () => {
  it("72. CommandSequence_PrimaryAssignmentIsBounded; redelivery ⇒ [] (invariant 29)", () => {
    const core = new VolumeCore(VOL);
    expect(types(core.apply(assign("primary", [R1])))).toEqual([
      "apply_role",
      "configure_shipper",
      "start_recovery_task",
      "publish_projection",
    ]);
    expect(core.apply(assign("primary", [R1])).commands).toEqual([]);
  });

  it("73. CommandSequence_PrimaryMultiReplica — recovery tasks in replica order; redelivery ⇒ []", () => {
    const core = new VolumeCore(VOL);
    const r = core.apply(assign("primary", [R2, R1]));
    expect(only(r, "start_recovery_task").map((c) => c.replicaId)).toEqual([R2, R1]);
    expect(core.apply(assign("primary", [R2, R1])).commands).toEqual([]);
  });

  it("74. CommandSequence_ReplicaAssignmentIsBounded", () => {
    const core = new VolumeCore(VOL);
    expect(types(core.apply(assign("replica", [R1])))).toEqual([
      "apply_role",
      "start_receiver",
      "publish_projection",
    ]);
    expect(core.apply(assign("replica", [R1])).commands).toEqual([]);
  });

  it("75. CommandSequence_AssignmentChangeReissuesNeededCommand — endpoint v2 ⇒ [configure_shipper, publish]", () => {
    const core = new VolumeCore(VOL);
    core.apply(assign("primary", [R1], 1n, null));
    core.apply({ type: "role_applied" });
    core.apply({ type: "shipper_configured_observed" });
    expect(types(core.apply(assign("primary", [R1], 1n, null, 2)))).toEqual([
      "configure_shipper",
      "publish_projection",
    ]);
  });

  it("75b. an endpoint change restarts only that replica's recovery task", () => {
    const core = new VolumeCore(VOL);
    core.apply(assign("primary", [R1, R2]));
    const moved = core.apply({
      type: "assignment_delivered",
      epoch: 1n,
      role: "primary",
      recoveryTarget: "catchup",
      replicas: [replicas([R1])[0]!, { replicaId: R2, endpoint: ep("new:d", "new:c") }],
    });
    expect(only(moved, "start_recovery_task").map((c) => c.replicaId)).toEqual([R2]);
  });

  it("76. CommandSequence_InvalidateOnlyOnNewFailureTransition (invariant 30)", () => {
    const core = readyPrimary();
    expect(types(core.apply({ type: "barrier_rejected", reason: "timeout" }))).toEqual([
      "invalidate_session",
      "publish_projection",
    ]);
    expect(core.apply({ type: "barrier_rejected", reason: "timeout" }).commands).toEqual([]);
    expect(types(core.apply({ type: "barrier_rejected", reason: "io" }))).toEqual([
      "invalidate_session",
      "publish_projection",
    ]);
  });

  it("77. CommandSequence_PublishOnlyWhenProjectionChanges", () => {
    const core = new VolumeCore(VOL);
    core.apply(assign("primary", [R1]));
    expect(types(core.apply({ type: "role_applied" }))).toEqual(["publish_projection"]);
    expect(core.apply({ type: "role_applied" }).commands).toEqual([]);
  });

  it("78. CommandSequence_CatchUpStartIsBounded", () => {
    const core = readyPrimary();
    const r = core.apply({ type: "catchup_planned", replicaId: R1, targetLsn: 55n });
    expect(r.commands[0]).toEqual({ type: "start_catchup", volumeId: VOL, replicaId: R1, targetLsn: 55n });
    expect(types(r)).toEqual(["start_catchup", "publish_projection"]);
    expect(core.apply({ type: "catchup_planned", targetLsn: 55n }).commands).toEqual([]);
  });

  it("79. CommandSequence_RebuildStartIsBounded", () => {
    const core = readyReplica("rebuild");
    const r = core.apply({ type: "rebuild_started", replicaId: R1, targetLsn: 80n });
    expect(types(r)).toEqual(["start_rebuild", "publish_projection"]);
    expect(core.apply({ type: "rebuild_started", replicaId: R1, targetLsn: 80n }).commands).toEqual([]);
  });

  it("80. CommandSequence_RebuildingAssignmentStartsRecoveryTaskWithoutReceiver", () => {
    const core = new VolumeCore(VOL);
    const r = core.apply(assign("replica", [R1], 1n, "rebuild"));
    expect(types(r)).toEqual(["apply_role", "start_recovery_task", "publish_projection"]);
    expect(only(r, "start_recovery_task")[0]?.kind).toBe("rebuild");
    expect(r.projection.publication.reason).toBe("awaiting_role_apply");
    expect(core.apply({ type: "role_applied" }).projection.publication.reason).toBe("awaiting_rebuild_start");
  });

  it("81. CommandSequence_AssignmentChangeDrainsRemovedRecoveryReplica", () => {
    const core = new VolumeCore(VOL);
    core.apply(assign("primary", [R1, R2]));
    const r = core.apply(assign("primary", [R1], 2n));
    expect(types(r)).toEqual([
      "apply_role",
      "configure_shipper",
      "drain_recovery_task",
      "start_recovery_task",
      "publish_projection",
    ]);
    expect(only(r, "drain_recovery_task")[0]).toMatchObject({ replicaId: R2, reason: "assignment_removed" });
    expect(only(r, "start_recovery_task")[0]?.replicaId).toBe(R1);
  });

  it("81b. a target dropped to none drains every task, sorted", () => {
    const core = new VolumeCore(VOL);
    core.apply(assign("primary", [R2, R1]));
    const r = core.apply(assign("primary", [R2, R1], 1n, null));
    expect(only(r, "drain_recovery_task").map((c) => c.replicaId)).toEqual([R1, R2]);
  });

  it("82. CommandSequence_NeedsRebuildInvalidatesOnlyAffectedReplica", () => {
    const core = readyPrimary([R1, R2]);
    const r = core.apply({ type: "needs_rebuild_observed", replicaId: R2, reason: "gap" });
    expect(only(r, "invalidate_session")).toEqual([
      { type: "invalidate_session", volumeId: VOL, replicaId: R2, reason: "gap" },
    ]);
  });

  it("82b. decision: needs_rebuild for an unknown replica is ignored (never invalidates every replica)", () => {
    const core = readyPrimary([R1, R2]);
    const r = core.apply({ type: "needs_rebuild_observed", replicaId: `${VOL}/gone`, reason: "gap" });
    expect(r.commands).toEqual([]);
    expect(r.projection.mode.name).not.toBe("needs_rebuild");
    expect(core.apply({ type: "rebuild_started", replicaId: `${VOL}/gone`, targetLsn: 5n }).commands).toEqual(
      [],
    );
  });

  it("83. CommandSequence_AssignmentChangeAllowsFreshRecoveryStart (invariant 31)", () => {
    const core = readyPrimary();
    core.apply({ type: "catchup_planned", replicaId: R1, targetLsn: 90n });
    const r = core.apply(assign("primary", [R1], 2n));
    expect(types(r)).toContain("start_recovery_task");
    expect(r.projection.recovery).toEqual({ phase: "idle", targetLsn: 0n, achievedLsn: 0n, reason: "" });
    expect(types(core.apply({ type: "catchup_planned", replicaId: R1, targetLsn: 90n }))).toContain(
      "start_catchup",
    );
  });
});
