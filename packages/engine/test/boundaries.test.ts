// Input validation at the edges, and small helpers the agent relies on.
import { describe, expect, it } from "vitest";
import {
  deriveReplicaExecutionState,
  makeReplicaId,
  RecoveryOrchestrator,
  Registry,
  Session,
  SessionIdSource,
  serverOfReplica,
  VolumeCore,
  VolumeEngine,
  volumeOfReplica,
} from "../src/index";
import { budget, ep, FakeRetention, newSender } from "./helpers";

describe("boundaries", () => {
  it("replica IDs round-trip volume and server; bad parts are rejected", () => {
    const id = makeReplicaId("/data/vol-a.blk", "vs-2");
    expect([volumeOfReplica(id), serverOfReplica(id)]).toEqual(["/data/vol-a.blk", "vs-2"]);
    expect(volumeOfReplica("opaque")).toBe("");
    expect(() => makeReplicaId("", "vs-1")).toThrow(/empty volume/);
    expect(() => makeReplicaId("v", "")).toThrow(/bad server id/);
  });

  it("the session-ID source reports its last ID", () => {
    const ids = new SessionIdSource();
    expect(ids.peekLast()).toBe(0);
    ids.next();
    expect(ids.peekLast()).toBe(1);
  });

  it("an invalid budget is refused at session creation", () => {
    const s = newSender();
    expect(() =>
      s.attachSession(1n, "catchup", { budget: budget({ maxDurationMs: Number.POSITIVE_INFINITY }) }),
    ).toThrow(/invalid_argument/);
    expect(s.sessionSnapshot()).toBeNull();
  });

  it("operator-started catch-ups get the volume's budget too; rebuilds never do", () => {
    const reg = new Registry("v", new SessionIdSource(), { budget: budget({ maxEntries: 7n }) });
    const o = new RecoveryOrchestrator(reg);
    o.processAssignment({ volumeId: "v", epoch: 1n, replicas: [{ replicaId: "v/a", endpoint: ep() }] });
    o.startRecovery("v/a", "catchup");
    expect(reg.get("v/a")!.sessionSnapshot()?.budget?.maxEntries).toBe(7n);
    o.startRecovery("v/a", "rebuild");
    expect(reg.get("v/a")!.sessionSnapshot()?.budget).toBeNull();
  });

  it("invalidating a terminal session is a no-op", () => {
    const s = new Session(1, "r", 1n, "catchup");
    s.complete();
    s.invalidate("late");
    expect([s.phase, s.invalidateReason]).toEqual(["completed", ""]);
  });

  it("status buckets count disconnected and degraded senders", () => {
    const reg = new Registry("v", new SessionIdSource());
    reg.reconcile(
      [
        { replicaId: "v/a", endpoint: ep() },
        { replicaId: "v/b", endpoint: ep() },
      ],
      1n,
    );
    reg.get("v/b")!.invalidateSession("ops", "degraded");
    expect(reg.status()).toEqual({ inSync: 0, recovering: 0, degraded: 1, rebuilding: 0, disconnected: 1 });
  });

  it("an inactive session snapshot (hand-built) does not gate", () => {
    const s = newSender();
    s.attachSession(1n, "catchup");
    const snap = s.snapshot();
    const inactive = { ...snap, session: { ...snap.session!, active: false, phase: "completed" as const } };
    expect(deriveReplicaExecutionState(inactive)).toMatchObject({
      liveEligible: true,
      reason: "",
      sessionActive: false,
    });
  });

  it("VolumeEngine refuses LSNs outside u64 and non-finite or negative times", () => {
    const engine = new VolumeEngine({ volumeId: "v", retention: new FakeRetention() });
    expect(engine.apply({ type: "committed_advanced", committedLsn: -1n }).rejected).toMatch(
      /invalid_argument/,
    );
    expect(engine.apply({ type: "committed_advanced", committedLsn: 1n << 64n }).rejected).toMatch(
      /out of u64/,
    );
    expect(engine.apply({ type: "budget_tick", nowMs: Number.NaN }).rejected).toMatch(/nowMs/);
    expect(engine.apply({ type: "budget_tick", nowMs: -5 }).rejected).toMatch(/nowMs/);
    expect(engine.apply({ type: "committed_advanced", committedLsn: (1n << 64n) - 1n }).rejected).toBeNull();
  });

  it("a role without primary/replica meaning but applied is plain bootstrap_pending", () => {
    const core = new VolumeCore("v");
    core.apply({
      type: "assignment_delivered",
      epoch: 1n,
      role: "unknown",
      replicas: [{ replicaId: "v/a", endpoint: ep() }],
      recoveryTarget: null,
    });
    const p = core.apply({ type: "role_applied" }).projection;
    expect([p.mode.name, p.publication.reason]).toEqual(["bootstrap_pending", "bootstrap_pending"]);
  });
});
