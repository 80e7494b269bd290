// Registry scenarios, history-driven end-to-end runs and orchestrator integration;
// invariants 9, 10, 12 and the per-volume registry decision.
import { describe, expect, it } from "vitest";
import {
  type AssignmentIntent,
  makeReplicaId,
  RecoveryLog,
  RecoveryOrchestrator,
  Registry,
  SessionIdSource,
  type SessionKind,
} from "../src/index";
import { budget, ep, history } from "./helpers";

const VOL = "/data/vol-a.blk";
const R1 = makeReplicaId(VOL, "vs-1");
const R2 = makeReplicaId(VOL, "vs-2");
const R3 = makeReplicaId(VOL, "vs-3");

function setup(): { o: RecoveryOrchestrator; reg: Registry } {
  const reg = new Registry(VOL, new SessionIdSource());
  return { o: new RecoveryOrchestrator(reg), reg };
}

function intent(
  epoch: bigint,
  ids: readonly string[],
  targets?: Record<string, SessionKind>,
  addr: (id: string) => string = (id) => `${id}:data`,
): AssignmentIntent {
  return {
    volumeId: VOL,
    epoch,
    replicas: ids.map((id) => ({ replicaId: id, endpoint: ep(addr(id), `${id}:ctrl`) })),
    ...(targets === undefined ? {} : { recoveryTargets: targets }),
  };
}

function allCatchUp(ids: readonly string[]): Record<string, SessionKind> {
  return Object.fromEntries(ids.map((id) => [id, "catchup" as SessionKind]));
}

describe("§8.1 registry scenarios", () => {
  it("1. ChangedDataAddr_PreservesSenderIdentity (invariant 12)", () => {
    const { o, reg } = setup();
    o.processAssignment(intent(1n, [R1], allCatchUp([R1])));
    const before = reg.get(R1)!;
    const firstId = before.sessionId;
    reg.reconcile([{ replicaId: R1, endpoint: ep("10.9.9.9:1", `${R1}:ctrl`) }], 1n);
    expect(reg.get(R1)).toBe(before);
    expect(before.hasActiveSession()).toBe(false);
    expect(before.state).toBe("disconnected");
    expect(before.endpoint.dataAddr).toBe("10.9.9.9:1");
    const again = o.processAssignment(intent(1n, [R1], allCatchUp([R1]), () => "10.9.9.9:1"));
    expect(again.sessionsCreated).toEqual([R1]);
    expect(before.sessionId).not.toBe(firstId);
  });

  it("5. EpochBump_InvalidatesAllSessions (invariant 9)", () => {
    const { o, reg } = setup();
    o.processAssignment(intent(1n, [R1, R2], allCatchUp([R1, R2])));
    expect(o.invalidateEpoch(2n)).toBe(2);
    expect(reg.all().every((s) => !s.hasActiveSession())).toBe(true);
    expect(o.log.has("session_invalidated")).toBe(true);
  });

  it("6. EpochBump_StaleAssignment_Rejected (invariant 10)", () => {
    const { o, reg } = setup();
    o.processAssignment(intent(2n, [R1]));
    const r = o.processAssignment(intent(1n, [R1], allCatchUp([R1])));
    expect(r.sessionsFailed).toEqual([R1]);
    expect(reg.get(R1)!.hasActiveSession()).toBe(false);
    expect(reg.get(R1)!.epoch).toBe(2n);
  });

  it("25. AssignmentDrivenFlow — 2 added, 1 session; r1 80 → 100 ⇒ in_sync", () => {
    const { o, reg } = setup();
    const r = o.processAssignment(intent(1n, [R1, R2], { [R1]: "catchup" }));
    expect(r.added).toEqual([R1, R2]);
    expect(r.sessionsCreated).toEqual([R1]);
    expect(reg.get(R2)!.hasActiveSession()).toBe(false);
    const res = o.executeRecovery(R1, 80n, history());
    expect(res.outcome).toBe("catchup");
    o.completeCatchUp(R1);
    expect(reg.get(R1)!.state).toBe("in_sync");
  });

  it("reconcile: removed senders are stopped, kept ones updated, results sorted, duplicates last-wins", () => {
    const { reg } = setup();
    reg.reconcile(
      [
        { replicaId: R2, endpoint: ep() },
        { replicaId: R1, endpoint: ep() },
      ],
      1n,
    );
    const r2 = reg.get(R2)!;
    const r = reg.reconcile(
      [
        { replicaId: R3, endpoint: ep("a") },
        { replicaId: R1, endpoint: ep("x") },
        { replicaId: R1, endpoint: ep("y") },
      ],
      3n,
    );
    expect(r).toEqual({ added: [R3], removed: [R2], invalidated: [] });
    expect(r2.stopped).toBe(true);
    expect(reg.get(R1)!.endpoint.dataAddr).toBe("y");
    expect(reg.get(R1)!.epoch).toBe(3n);
    expect(reg.all().map((s) => s.replicaId)).toEqual([R1, R3]);
  });

  it("decision: one registry per volume — another volume's replica is rejected, its senders untouched", () => {
    const ids = new SessionIdSource();
    const a = new Registry("/vol/a", ids);
    const b = new Registry("/vol/b", ids);
    b.applyAssignment({
      volumeId: "/vol/b",
      epoch: 1n,
      replicas: [{ replicaId: "/vol/b/vs-1", endpoint: ep() }],
      recoveryTargets: { "/vol/b/vs-1": "catchup" },
    });
    a.applyAssignment({ volumeId: "/vol/a", epoch: 1n, replicas: [] });
    expect(b.get("/vol/b/vs-1")!.hasActiveSession()).toBe(true);
    expect(() => a.reconcile([{ replicaId: "/vol/b/vs-1", endpoint: ep() }], 1n)).toThrow(/wrong_volume/);
    expect(() => a.applyAssignment({ volumeId: "/vol/b", epoch: 1n, replicas: [] })).toThrow(/wrong_volume/);
    expect(() => a.reconcile([{ replicaId: "/vol/a/x/y", endpoint: ep() }], 1n)).toThrow(/wrong_volume/);
  });

  it("decision: re-delivering an identical assignment keeps the live session (no supersede)", () => {
    const { o, reg } = setup();
    o.processAssignment(intent(1n, [R1, R2], allCatchUp([R1, R2])));
    const ids = reg.all().map((s) => s.sessionId);
    const again = o.processAssignment(intent(1n, [R1, R2], allCatchUp([R1, R2])));
    expect(again.sessionsCreated).toEqual([]);
    expect(again.sessionsSuperseded).toEqual([]);
    expect(again.sessionsUnchanged).toEqual([R1, R2]);
    expect(reg.all().map((s) => s.sessionId)).toEqual(ids);
  });

  it("decision: a changed target kind, a new epoch, or a dropped-then-restored target do start a session", () => {
    const { o, reg } = setup();
    o.processAssignment(intent(1n, [R1], allCatchUp([R1])));
    const first = reg.get(R1)!.sessionId;
    expect(o.processAssignment(intent(1n, [R1], { [R1]: "rebuild" })).sessionsSuperseded).toEqual([R1]);
    expect(reg.get(R1)!.sessionSnapshot()?.kind).toBe("rebuild");
    expect(o.processAssignment(intent(2n, [R1], { [R1]: "rebuild" })).sessionsCreated).toEqual([R1]);
    o.processAssignment(intent(2n, [R1]));
    expect(o.processAssignment(intent(2n, [R1], { [R1]: "rebuild" })).sessionsSuperseded).toEqual([R1]);
    expect(reg.get(R1)!.sessionId).toBeGreaterThan(first);
  });

  it("a target for a replica outside the replica set fails", () => {
    const { o } = setup();
    expect(o.processAssignment(intent(1n, [R1], { [R2]: "catchup" })).sessionsFailed).toEqual([R2]);
  });

  it("registry default budget applies to catch-up sessions created from assignments", () => {
    const reg = new Registry(VOL, new SessionIdSource(), { budget: budget({ maxEntries: 5n }) });
    reg.applyAssignment(intent(1n, [R1, R2], { [R1]: "catchup", [R2]: "rebuild" }));
    expect(reg.get(R1)!.sessionSnapshot()?.budget?.maxEntries).toBe(5n);
    expect(reg.get(R2)!.sessionSnapshot()?.budget).toBeNull();
  });

  it("stopAll stops every sender", () => {
    const { reg } = setup();
    reg.applyAssignment(intent(1n, [R1, R2], allCatchUp([R1, R2])));
    const senders = reg.all();
    reg.stopAll();
    expect(senders.every((s) => s.stopped)).toBe(true);
    expect(reg.size()).toBe(0);
  });
});

describe("§8.2 history-driven recovery", () => {
  it("12. E2E_ThreeReplicas_ThreeOutcomes — F=100/70/10 vs C 100, R 50", () => {
    const { o, reg } = setup();
    o.processAssignment(intent(1n, [R1, R2, R3], allCatchUp([R1, R2, R3])));
    const h = history({ tailLsn: 49n });
    expect(o.executeRecovery(R1, 100n, h).outcome).toBe("zero_gap");
    expect(o.executeRecovery(R2, 70n, h).outcome).toBe("catchup");
    expect(o.executeRecovery(R3, 10n, h).outcome).toBe("needs_rebuild");
    o.completeCatchUp(R2);
    expect(reg.status().inSync).toBe(2);
    expect(reg.status().rebuilding).toBe(1);
  });

  it("30. E2E_RecoveryDrivenByRetainedHistory — r1 (70) catches up, r2 (20) rebuilds snapshot_tail@50", () => {
    const { o, reg } = setup();
    const h = history({ tailLsn: 30n, checkpointLsn: 50n, checkpointTrusted: true });
    o.processAssignment(intent(1n, [R1, R2], allCatchUp([R1, R2])));
    expect(o.executeRecovery(R1, 70n, h).outcome).toBe("catchup");
    o.completeCatchUp(R1);
    expect(o.executeRecovery(R2, 20n, h).outcome).toBe("needs_rebuild");
    o.processAssignment(intent(1n, [R1, R2], { [R2]: "rebuild" }));
    expect(o.completeRebuild(R2, h)).toBe(100n);
    expect(reg.all().map((s) => s.state)).toEqual(["in_sync", "in_sync"]);
  });

  it.each([
    ["SenderDriven_CatchUp", history({ tailLsn: 10n }), 60n, "catchup", null],
    [
      "SenderDriven_Rebuild_SnapshotTail",
      history({ tailLsn: 30n, checkpointLsn: 50n, checkpointTrusted: true }),
      0n,
      "rebuild",
      "snapshot_tail",
    ],
    [
      "SenderDriven_Rebuild_FallsBackToFullBase",
      history({ tailLsn: 80n, checkpointLsn: 50n, checkpointTrusted: true }),
      0n,
      "rebuild",
      "full_base",
    ],
  ] as const)("31. %s reaches in_sync", (_n, h, f, kind, source) => {
    const { o, reg } = setup();
    o.processAssignment(intent(1n, [R1], { [R1]: kind }));
    const s = reg.get(R1)!;
    if (kind === "catchup") {
      o.executeRecovery(R1, f, h);
      o.completeCatchUp(R1);
    } else {
      const id = s.sessionId;
      s.beginConnect(id);
      s.recordHandshake(id, 0n, h.committedLsn);
      s.selectRebuildFromHistory(id, h);
      expect(s.sessionSnapshot()?.rebuild?.source).toBe(source);
      s.invalidateSession("restart", "disconnected");
      o.processAssignment(intent(2n, [R1], { [R1]: kind }));
      o.completeRebuild(R1, h);
    }
    expect(s.state).toBe("in_sync");
  });

  it("32. Proof_ReplicaAhead — F 105: resync from the fork when facts allow, else needs_rebuild", () => {
    const { o, reg } = setup();
    o.processAssignment(intent(1n, [R1, R2], allCatchUp([R1, R2])));
    const r = o.executeRecovery(R1, 105n, history());
    expect(r.proof).toEqual({
      recoverable: false,
      reason: "replica_ahead: durable 105 > committed 100 and no fork point known (no_common_history)",
    });
    expect(reg.get(R1)!.state).toBe("needs_rebuild");
    const facts = {
      forkLsn: 90n,
      replicaHeadLsn: 105n,
      primaryChangeBaseLsn: 0n,
      replicaChangeBaseLsn: 50n,
      replicaResyncPending: false,
    };
    const r2 = o.executeRecovery(R2, 105n, history(), undefined, facts);
    expect([r2.outcome, r2.decision?.kind]).toEqual(["resync", "resync"]);
    expect(reg.get(R2)!.sessionSnapshot()).toMatchObject({ kind: "resync", phase: "handshake" });
    expect(reg.get(R2)!.completeSessionById(reg.get(R2)!.sessionId)).toBe(false);
  });
});

describe("§8.3 orchestrator integration", () => {
  it("33. ChangedAddress_ViaOrchestrator", () => {
    const { o, reg } = setup();
    o.processAssignment(intent(1n, [R1], allCatchUp([R1])));
    const sender = reg.get(R1)!;
    o.executeRecovery(R1, 80n, history());
    o.completeCatchUp(R1);
    o.processAssignment(intent(1n, [R1], allCatchUp([R1]), () => "moved:1"));
    expect(reg.get(R1)).toBe(sender);
    expect(o.executeRecovery(R1, 100n, history()).outcome).toBe("zero_gap");
    expect(sender.state).toBe("in_sync");
    expect(o.log.all().length).toBeGreaterThanOrEqual(4);
  });

  it("34. NeedsRebuild_Rebuild_ViaOrchestrator", () => {
    const { o, reg } = setup();
    const h = history({ tailLsn: 60n, checkpointLsn: 40n, checkpointTrusted: true });
    o.processAssignment(intent(1n, [R1], allCatchUp([R1])));
    expect(o.executeRecovery(R1, 30n, h).finalState).toBe("needs_rebuild");
    o.processAssignment(intent(1n, [R1], { [R1]: "rebuild" }));
    o.completeRebuild(R1, h);
    expect(reg.get(R1)!.state).toBe("in_sync");
    expect(o.log.has("escalated")).toBe(true);
    expect(o.log.has("rebuild_completed")).toBe(true);
  });

  it("35. EpochBump_ViaOrchestrator", () => {
    const { o, reg } = setup();
    o.processAssignment(intent(1n, [R1], allCatchUp([R1])));
    o.invalidateEpoch(2n);
    o.updateSenderEpoch(R1, 2n);
    expect(o.executeRecovery(R1, 100n, history()).error).toMatch(/no_active_session/);
    o.processAssignment(intent(2n, [R1], allCatchUp([R1])));
    expect(o.executeRecovery(R1, 100n, history()).outcome).toBe("zero_gap");
    expect(reg.get(R1)!.state).toBe("in_sync");
    expect(o.log.has("session_invalidated")).toBe(true);
  });

  it("35b. updateSenderEpoch logs only when it killed a session", () => {
    const { o } = setup();
    o.processAssignment(intent(1n, [R1], allCatchUp([R1])));
    expect(o.updateSenderEpoch(R1, 2n)).toBe(true);
    expect(o.updateSenderEpoch(R1, 3n)).toBe(false);
    expect(o.updateSenderEpoch(R3, 3n)).toBe(false);
    expect(o.log.forReplica(R1).filter((e) => e.event === "session_invalidated")).toHaveLength(1);
  });

  it("36. EndpointChange_LogsInvalidation", () => {
    const { o } = setup();
    o.processAssignment(intent(1n, [R1], allCatchUp([R1])));
    o.processAssignment(intent(1n, [R1], allCatchUp([R1]), () => "moved:2"));
    const entry = o.log.all().find((e) => e.event === "session_invalidated");
    expect(entry?.detail).toBe("endpoint_changed");
  });

  it("37. MultiReplica_ViaOrchestrator — 100/60/20 vs tail 40", () => {
    const { o, reg } = setup();
    const h = history({ tailLsn: 40n });
    o.processAssignment(intent(1n, [R1, R2, R3], allCatchUp([R1, R2, R3])));
    o.executeRecovery(R1, 100n, h);
    o.executeRecovery(R2, 60n, h);
    o.completeCatchUp(R2);
    o.executeRecovery(R3, 20n, h);
    expect(reg.status()).toMatchObject({ inSync: 2, rebuilding: 1 });
  });

  it("38. ReplicaAhead_NoTruncation: escalated, and completion of the ended session is refused", () => {
    const { o, reg } = setup();
    o.processAssignment(intent(1n, [R1], allCatchUp([R1])));
    o.executeRecovery(R1, 105n, history());
    expect(reg.get(R1)!.state).toBe("needs_rebuild");
    expect(o.log.has("escalated", R1)).toBe(true);
    expect(() => o.completeCatchUp(R1)).toThrow(/no_active_session/);
  });

  it("39. BudgetEscalation_ViaOrchestrator", () => {
    const { o, reg } = setup();
    o.processAssignment(intent(1n, [R1]));
    const s = reg.get(R1)!;
    s.attachSession(1n, "catchup", { budget: budget({ maxDurationMs: 5 }) });
    o.executeRecovery(R1, 70n, history());
    expect(() => o.completeCatchUp(R1, { startMs: 1, completeMs: 10 })).toThrow(/budget_duration_exceeded/);
    expect(s.state).toBe("needs_rebuild");
    expect(o.log.has("budget_escalated")).toBe(true);
  });

  it("40. SessionSnapshot (catch-up range) / RebuildSnapshot (snapshot_tail, source_select)", () => {
    const { o, reg } = setup();
    o.processAssignment(intent(1n, [R1, R2], { [R1]: "catchup", [R2]: "rebuild" }));
    o.executeRecovery(R1, 70n, history());
    expect(reg.get(R1)!.sessionSnapshot()).toMatchObject({ startLsn: 70n, targetLsn: 100n, resync: null });
    const s2 = reg.get(R2)!;
    s2.beginConnect(s2.sessionId);
    s2.recordHandshake(s2.sessionId, 0n, 100n);
    s2.selectRebuildSource(s2.sessionId, 50n, true, 100n);
    expect(s2.sessionSnapshot()?.rebuild).toMatchObject({ source: "snapshot_tail", phase: "source_select" });
  });

  it("41. RecoveryLog_AutoPopulated", () => {
    const { o } = setup();
    o.processAssignment(intent(1n, [R1], allCatchUp([R1])));
    o.executeRecovery(R1, 70n, history());
    o.completeCatchUp(R1);
    const all = o.log.all();
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(all.every((e) => e.event.length > 0)).toBe(true);
  });

  it("executeRecovery failures are logged: unknown replica, stale expected session, wrong phase", () => {
    const { o, reg } = setup();
    expect(o.executeRecovery(R1, 0n, history()).error).toBe("unknown_replica");
    o.processAssignment(intent(1n, [R1], allCatchUp([R1])));
    expect(o.executeRecovery(R1, 0n, history(), 999).error).toMatch(/session_id_mismatch/);
    const s = reg.get(R1)!;
    s.beginConnect(s.sessionId);
    s.recordHandshake(s.sessionId, 0n, 100n);
    expect(o.executeRecovery(R1, 0n, history()).error).toMatch(/connect_failed|invalid_phase/);
    expect(o.log.has("connect_failed")).toBe(true);
  });

  it("startRecovery supersedes with a fresh session; unknown or stopped senders are rejected", () => {
    const { o, reg } = setup();
    o.processAssignment(intent(1n, [R1], allCatchUp([R1])));
    const first = reg.get(R1)!.sessionId;
    expect(o.startRecovery(R1, "rebuild")).toBeGreaterThan(first);
    expect(() => o.startRecovery(R2, "catchup")).toThrow(/unknown_replica/);
    reg.get(R1)!.stop();
    expect(() => o.startRecovery(R1, "catchup")).toThrow(/sender_stopped/);
  });

  it("the log is bounded", () => {
    const log = new RecoveryLog(2);
    log.record("a", "connected");
    log.record("a", "handshake");
    log.record("a", "completed");
    expect(log.all().map((e) => e.event)).toEqual(["handshake", "completed"]);
    expect(log.dropped()).toBe(1);
    expect(() => new RecoveryLog(0)).toThrow(RangeError);
  });
});
