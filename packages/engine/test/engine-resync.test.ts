// VolumeEngine resync sessions: handshake facts → start_resync, transfer progress, commit → catch-up
// phase (start_catchup from the base, frozen consistent target) → in_sync; failures, stale IDs,
// budgets, pins, the phase gate and the volume mode on the way.
import { describe, expect, it } from "vitest";
import { type EngineEvent, type ResyncFacts, VolumeEngine } from "../src/index";
import { cmd, connected, primary, R2, R3, types, VOL } from "./engine-fixtures";
import { FakeRetention } from "./helpers";

const H = { headLsn: 120n, committedLsn: 120n, tailLsn: 50n };

function facts(over: Partial<ResyncFacts> = {}): ResyncFacts {
  return {
    forkLsn: 10n,
    replicaHeadLsn: 10n,
    primaryChangeBaseLsn: 0n,
    replicaChangeBaseLsn: 0n,
    replicaResyncPending: false,
    ...over,
  };
}

/** A healthy primary (durable > 0) whose replica R2 handshakes with a recycled gap: resync planned. */
function resyncing(opts: { budgetMs?: number; f?: bigint; resync?: Partial<ResyncFacts> } = {}) {
  const t = connected(H, opts.budgetMs === undefined ? {} : { budgetMs: opts.budgetMs });
  for (const ev of [
    { type: "role_applied" },
    { type: "shipper_configured" },
    { type: "shipper_connected" },
    { type: "barrier_accepted", flushedLsn: 120n },
  ] as EngineEvent[])
    t.engine.apply(ev);
  const healthy = t.engine.snapshot().projection.mode.name;
  const out = t.engine.apply({
    type: "handshake",
    replicaId: R2,
    sessionId: t.sessionId,
    replicaDurableLsn: opts.f ?? 10n,
    nowMs: 1000,
    resync: facts(opts.resync),
  });
  return { ...t, out, healthy };
}

function gate(engine: ReturnType<typeof connected>["engine"]) {
  return engine.snapshot().execution.replicas.get(R2)!;
}

describe("VolumeEngine resync", () => {
  it("gap recycled, common history ⇒ start_resync from the fork, no pin, gate closed, volume recovering", () => {
    const { engine, out, sessionId, port, healthy } = resyncing();
    expect(healthy).toBe("publish_healthy");
    expect(cmd(out, "start_resync")).toEqual([
      { type: "start_resync", volumeId: engine.volumeId, replicaId: R2, sessionId, forkLsn: 10n },
    ]);
    expect(cmd(out, "start_catchup")).toEqual([]);
    expect(port.count()).toBe(0);
    const g = gate(engine);
    expect([g.senderState, g.sessionKind, g.sessionPhase, g.liveEligible]).toEqual([
      "catching_up",
      "resync",
      "transfer",
      false,
    ]);
    expect(g.reason).toBe(
      "active_resync_session phase=transfer pass=0 blocks_left=0 fork=10 start=- target=-",
    );
    expect(g.resync).toMatchObject({ forkLsn: 10n, pass: 0, blocksLeft: 0n, committed: false });
    expect(out.projection.mode).toMatchObject({ name: "bootstrap_pending", reason: "recovery_in_progress" });
    expect(engine.log.has("plan_resync", R2)).toBe(true);
  });

  it("progress → commit → catch-up phase (start_catchup base→consistent, WAL pin) → catchup_done ⇒ in_sync", () => {
    const { engine, sessionId, port } = resyncing();
    const p = engine.apply({
      type: "resync_progress",
      replicaId: R2,
      sessionId,
      pass: 1,
      blocksLeft: 7n,
      nowMs: 2000,
    });
    expect([p.rejected, p.commands]).toEqual([null, []]);
    expect(gate(engine).reason).toBe(
      "active_resync_session phase=transfer pass=1 blocks_left=7 fork=10 start=- target=-",
    );
    engine.apply({ type: "resync_progress", replicaId: R2, sessionId, pass: 2, blocksLeft: 3n, nowMs: 3000 });
    const c = engine.apply({
      type: "resync_committed",
      replicaId: R2,
      sessionId,
      baseLsn: 125n,
      consistentLsn: 130n,
      nowMs: 4000,
    });
    expect(c.rejected).toBeNull();
    expect(cmd(c, "start_catchup")).toEqual([
      {
        type: "start_catchup",
        volumeId: engine.volumeId,
        replicaId: R2,
        sessionId,
        fromLsn: 125n,
        targetLsn: 130n,
        truncateToLsn: 0n,
      },
    ]);
    expect([...port.held.values()]).toMatchObject([{ kind: "wal", lsn: 125n }]);
    const g = gate(engine);
    expect([g.sessionPhase, g.frozenTargetLsn, g.startLsn]).toEqual(["catchup", 130n, 125n]);
    expect(g.reason).toBe(
      "active_resync_session phase=catchup pass=2 blocks_left=0 fork=10 start=125 target=130",
    );
    expect(c.projection.mode.reason).toBe("recovery_in_progress");
    expect(c.projection.boundary.targetLsn).toBe(130n);
    engine.apply({ type: "catchup_progress", replicaId: R2, sessionId, durableLsn: 128n, nowMs: 4100 });
    engine.apply({ type: "catchup_progress", replicaId: R2, sessionId, durableLsn: 130n, nowMs: 4200 });
    const done = engine.apply({ type: "catchup_done", replicaId: R2, sessionId });
    expect(done.rejected).toBeNull();
    expect(gate(engine)).toMatchObject({ senderState: "in_sync", sessionActive: false, liveEligible: true });
    expect(port.count()).toBe(0);
    expect(done.projection.mode.name).toBe("publish_healthy");
    expect(done.projection.boundary.durableLsn).toBe(130n);
    expect(engine.log.has("exec_resync_completed", R2)).toBe(true);
  });

  it("a commit with nothing written meanwhile (consistent == base) completes at once", () => {
    const { engine, sessionId, port } = resyncing();
    const c = engine.apply({
      type: "resync_committed",
      replicaId: R2,
      sessionId,
      baseLsn: 120n,
      consistentLsn: 120n,
      nowMs: 2,
    });
    expect(types(c)).toEqual(["publish_projection"]);
    expect(gate(engine)).toMatchObject({ senderState: "in_sync", sessionActive: false });
    expect(c.projection.mode.name).toBe("publish_healthy");
    expect(port.count()).toBe(0);
  });

  it("stale or misplaced events are refused and change nothing", () => {
    const { engine, sessionId } = resyncing();
    const before = engine.snapshot();
    for (const ev of [
      { type: "resync_progress", replicaId: R2, sessionId: sessionId + 7, pass: 1, blocksLeft: 1n, nowMs: 1 },
      {
        type: "resync_committed",
        replicaId: R2,
        sessionId: sessionId + 7,
        baseLsn: 120n,
        consistentLsn: 120n,
        nowMs: 1,
      },
      { type: "catchup_progress", replicaId: R2, sessionId, durableLsn: 20n, nowMs: 1 },
      { type: "catchup_done", replicaId: R2, sessionId },
      { type: "start_recovery", replicaId: R2, kind: "resync" },
      { type: "resync_progress", replicaId: R2, sessionId, pass: 1, blocksLeft: -1n, nowMs: 1 },
    ] as EngineEvent[]) {
      const out = engine.apply(ev);
      expect(out.rejected).not.toBeNull();
      expect(out.commands).toEqual([]);
    }
    expect(engine.snapshot()).toEqual(before);
    engine.apply({
      type: "resync_committed",
      replicaId: R2,
      sessionId,
      baseLsn: 120n,
      consistentLsn: 125n,
      nowMs: 1,
    });
    const committed = engine.snapshot();
    for (const ev of [
      { type: "resync_progress", replicaId: R2, sessionId, pass: 3, blocksLeft: 1n, nowMs: 1 },
      { type: "resync_committed", replicaId: R2, sessionId, baseLsn: 121n, consistentLsn: 125n, nowMs: 1 },
    ] as EngineEvent[]) {
      expect(engine.apply(ev).rejected).toMatch(/no resync transfer running/);
    }
    expect(engine.snapshot()).toEqual(committed);
  });

  it.each([
    ["base below the fork", 5n, 125n, /invalid_range/],
    ["consistent below the base", 125n, 120n, /invalid_range/],
  ] as const)(
    "an impossible commit (%s) fails the attempt: disconnected, no pin",
    (_n, base, consistent, why) => {
      const { engine, sessionId, port } = resyncing();
      const out = engine.apply({
        type: "resync_committed",
        replicaId: R2,
        sessionId,
        baseLsn: base,
        consistentLsn: consistent,
        nowMs: 1,
      });
      expect(gate(engine)).toMatchObject({ senderState: "disconnected", sessionActive: false });
      expect(cmd(out, "stop_recovery")).toHaveLength(1);
      expect(port.count()).toBe(0);
      expect(engine.log.forReplica(R2).some((e) => e.event === "exec_failed" && why.test(e.detail))).toBe(
        true,
      );
    },
  );

  it("a pass going backwards fails the attempt", () => {
    const { engine, sessionId } = resyncing();
    engine.apply({ type: "resync_progress", replicaId: R2, sessionId, pass: 2, blocksLeft: 1n, nowMs: 1 });
    engine.apply({ type: "resync_progress", replicaId: R2, sessionId, pass: 1, blocksLeft: 1n, nowMs: 1 });
    expect(gate(engine).senderState).toBe("disconnected");
  });

  it("recovery_failed ends it in either phase (disconnected, pins released, no rebuild verdict)", () => {
    const a = resyncing();
    const fa = a.engine.apply({
      type: "recovery_failed",
      replicaId: R2,
      sessionId: a.sessionId,
      reason: "eof",
    });
    expect(gate(a.engine)).toMatchObject({ senderState: "disconnected", sessionActive: false });
    expect(cmd(fa, "stop_recovery")).toEqual([]);
    expect(fa.projection.mode.name).not.toBe("needs_rebuild");
    const b = resyncing();
    b.engine.apply({
      type: "resync_committed",
      replicaId: R2,
      sessionId: b.sessionId,
      baseLsn: 120n,
      consistentLsn: 125n,
      nowMs: 1,
    });
    expect(b.port.count()).toBe(1);
    b.engine.apply({ type: "recovery_failed", replicaId: R2, sessionId: b.sessionId, reason: "eof" });
    expect([gate(b.engine).senderState, b.port.count()]).toEqual(["disconnected", 0]);
  });

  it("no budget while transferring; a stalled resync catch-up ends disconnected (retry resumes it)", () => {
    const { engine, sessionId, port } = resyncing({ budgetMs: 50 });
    expect(engine.apply({ type: "budget_tick", nowMs: 10_000_000 }).commands).toEqual([]);
    expect(gate(engine).sessionPhase).toBe("transfer");
    engine.apply({
      type: "resync_committed",
      replicaId: R2,
      sessionId,
      baseLsn: 120n,
      consistentLsn: 125n,
      nowMs: 20_000_000,
    });
    expect(engine.apply({ type: "budget_tick", nowMs: 20_000_040 }).commands).toEqual([]);
    const out = engine.apply({ type: "budget_tick", nowMs: 20_000_051 });
    expect(cmd(out, "stop_recovery")).toHaveLength(1);
    expect(gate(engine)).toMatchObject({ senderState: "disconnected", sessionActive: false });
    expect(out.projection.mode.name).not.toBe("needs_rebuild");
    expect(port.count()).toBe(0);
    expect(engine.log.has("budget_escalated", R2)).toBe(true);
  });

  it("budget counts from the commit and progress in the catch-up phase is budget-checked", () => {
    const { engine, sessionId } = resyncing({ budgetMs: 50 });
    engine.apply({
      type: "resync_committed",
      replicaId: R2,
      sessionId,
      baseLsn: 120n,
      consistentLsn: 125n,
      nowMs: 100,
    });
    engine.apply({ type: "catchup_progress", replicaId: R2, sessionId, durableLsn: 121n, nowMs: 140 });
    expect(gate(engine).sessionActive).toBe(true);
    engine.apply({ type: "catchup_progress", replicaId: R2, sessionId, durableLsn: 122n, nowMs: 200 });
    expect(gate(engine).senderState).toBe("disconnected");
  });

  it("the catch-up pin failing at commit ends the attempt (disconnected)", () => {
    const { engine, sessionId, port } = resyncing();
    port.fail.wal = "recycled";
    engine.apply({
      type: "resync_committed",
      replicaId: R2,
      sessionId,
      baseLsn: 120n,
      consistentLsn: 125n,
      nowMs: 1,
    });
    expect(gate(engine).senderState).toBe("disconnected");
    expect(engine.log.forReplica(R2).some((e) => e.detail === "wal_pin_failed: recycled")).toBe(true);
  });

  it("an epoch bump during the resync kills it: stop_recovery, pins released", () => {
    const { engine, sessionId, port } = resyncing();
    engine.apply({
      type: "resync_committed",
      replicaId: R2,
      sessionId,
      baseLsn: 120n,
      consistentLsn: 125n,
      nowMs: 1,
    });
    const out = engine.apply({ type: "epoch_bump", epoch: 2n });
    expect(cmd(out, "stop_recovery")[0]?.sessionId).toBe(sessionId);
    expect([gate(engine).sessionActive, port.count()]).toEqual([false, 0]);
  });

  it("a pending resync is resumed even when F == C; untracked or unrelated copies need a rebuild", () => {
    expect(
      cmd(
        resyncing({ f: 120n, resync: { forkLsn: 120n, replicaHeadLsn: 120n, replicaResyncPending: true } })
          .out,
        "start_resync",
      )[0]?.forkLsn,
    ).toBe(120n);
    const none = resyncing({ resync: { forkLsn: undefined } });
    expect(gate(none.engine).senderState).toBe("needs_rebuild");
    expect(none.out.projection.mode).toMatchObject({ name: "needs_rebuild" });
    expect(none.out.projection.mode.reason).toMatch(/^no_common_history/);
    const untracked = resyncing({ resync: { primaryChangeBaseLsn: 11n } });
    expect(untracked.out.projection.mode.reason).toMatch(/^untracked_changes: primary base 11 > fork 10/);
  });

  it("resync facts outside u64 are refused", () => {
    const t = connected(H);
    const out = t.engine.apply({
      type: "handshake",
      replicaId: R2,
      sessionId: t.sessionId,
      replicaDurableLsn: 10n,
      nowMs: 1,
      resync: facts({ forkLsn: -1n }),
    });
    expect(out.rejected).toMatch(/resync\.forkLsn out of u64 range/);
  });

  it("a resync kept across a replica-set change keeps the volume recovering until it completes", () => {
    const port = new FakeRetention(H);
    const engine = new VolumeEngine({ volumeId: VOL, retention: port });
    const both = engine.apply(primary(1n, ["vs-2", "vs-3"]));
    const [s2, s3] = cmd(both, "connect_replica").map((c) => c.sessionId);
    for (const ev of [
      { type: "role_applied" },
      { type: "shipper_configured" },
      { type: "shipper_connected" },
      { type: "barrier_accepted", flushedLsn: 120n },
    ] as EngineEvent[])
      engine.apply(ev);
    engine.apply({
      type: "handshake",
      replicaId: R2,
      sessionId: s2!,
      replicaDurableLsn: 10n,
      nowMs: 1,
      resync: facts(),
    });
    engine.apply({ type: "handshake", replicaId: R3, sessionId: s3!, replicaDurableLsn: 120n, nowMs: 1 });
    const shrunk = engine.apply(primary(1n, ["vs-2"]));
    expect(cmd(shrunk, "stop_recovery")).toEqual([]);
    engine.apply({ type: "shipper_configured" });
    const ready = engine.apply({ type: "shipper_connected" });
    expect(gate(engine)).toMatchObject({ sessionKind: "resync", sessionActive: true });
    expect(ready.projection.mode).toMatchObject({
      name: "bootstrap_pending",
      reason: "recovery_in_progress",
    });
    engine.apply({
      type: "resync_committed",
      replicaId: R2,
      sessionId: s2!,
      baseLsn: 120n,
      consistentLsn: 122n,
      nowMs: 2,
    });
    engine.apply({ type: "catchup_progress", replicaId: R2, sessionId: s2!, durableLsn: 122n, nowMs: 3 });
    const done = engine.apply({ type: "catchup_done", replicaId: R2, sessionId: s2! });
    expect(done.projection.mode.name).toBe("publish_healthy");
    expect(port.count()).toBe(0);
  });
});
