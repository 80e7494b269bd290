// VolumeEngine: needs_rebuild verdicts and rebuild sessions (primary-run and on a rebuilding copy).
import { describe, expect, it } from "vitest";
import { cmd, connected, primary, R2, R3, replica, setup, types, VOL } from "./engine-fixtures";

describe("VolumeEngine: needs_rebuild and rebuild", () => {
  it("gap beyond retention ⇒ needs_rebuild mode, no session; operator rebuild runs snapshot+tail to in_sync", () => {
    const { engine, port, sessionId } = connected({
      tailLsn: 60n,
      checkpointLsn: 80n,
      checkpointTrusted: true,
    });
    const nr = engine.apply({
      type: "handshake",
      replicaId: R2,
      sessionId,
      replicaDurableLsn: 10n,
      nowMs: 1,
    });
    expect(nr.projection.mode.name).toBe("needs_rebuild");
    expect(nr.execution.replicas.get(R2)).toMatchObject({ senderState: "needs_rebuild", liveEligible: true });
    const start = engine.apply({ type: "start_recovery", replicaId: R2, kind: "rebuild" });
    const rb = cmd(start, "start_rebuild")[0]!;
    expect(rb).toMatchObject({ source: "snapshot_tail", snapshotLsn: 80n, targetLsn: 100n });
    expect(port.count()).toBe(2);
    expect(start.execution.replicas.get(R2)!.reason).toMatch(/^active_rebuild_session phase=handshake/);
    engine.apply({
      type: "rebuild_progress",
      replicaId: R2,
      sessionId: rb.sessionId,
      stage: "base",
      lsn: 80n,
    });
    engine.apply({
      type: "rebuild_progress",
      replicaId: R2,
      sessionId: rb.sessionId,
      stage: "tail",
      lsn: 90n,
    });
    engine.apply({
      type: "rebuild_progress",
      replicaId: R2,
      sessionId: rb.sessionId,
      stage: "tail",
      lsn: 100n,
    });
    const done = engine.apply({
      type: "rebuild_done",
      replicaId: R2,
      sessionId: rb.sessionId,
      flushedLsn: 100n,
      checkpointLsn: 80n,
    });
    expect(done.execution.replicas.get(R2)).toMatchObject({ senderState: "in_sync", liveEligible: true });
    expect(done.projection.mode.name).not.toBe("needs_rebuild");
    expect(done.projection.boundary.durableLsn).toBe(100n);
    expect(port.count()).toBe(0);
  });

  it("rebuilding assignment on the replica node: full base, no receiver start", () => {
    const { engine, port } = setup();
    const out = engine.apply({
      type: "assignment",
      epoch: 3n,
      role: "rebuilding",
      replicas: [replica("vs-2")],
    });
    expect(types(out)).toEqual(["apply_role", "publish_projection", "start_rebuild"]);
    const rb = cmd(out, "start_rebuild")[0]!;
    expect(rb.source).toBe("full_base");
    expect(port.count("full_base")).toBe(1);
    const fail = engine.apply({
      type: "rebuild_progress",
      replicaId: R2,
      sessionId: rb.sessionId,
      stage: "tail",
      lsn: 5n,
    });
    expect(fail.execution.replicas.get(R2)).toMatchObject({
      senderState: "needs_rebuild",
      sessionActive: false,
    });
    expect(cmd(fail, "stop_recovery")).toHaveLength(1);
    expect(port.count()).toBe(0);
  });

  it("rebuild pin failure ⇒ needs_rebuild observed, nothing to stop", () => {
    const { engine, port } = setup();
    port.fail.full_base = "no space";
    const out = engine.apply({
      type: "assignment",
      epoch: 1n,
      role: "rebuilding",
      replicas: [replica("vs-2")],
    });
    expect(cmd(out, "start_rebuild")).toEqual([]);
    expect(out.projection.mode.name).toBe("needs_rebuild");
  });

  it("replica_needs_rebuild (data plane verdict) ends the session, needs_rebuild until every replica is back in sync", () => {
    const { engine, port, sessionId } = connected({ headLsn: 100n, committedLsn: 100n, tailLsn: 10n });
    engine.apply({ type: "handshake", replicaId: R2, sessionId, replicaDurableLsn: 50n, nowMs: 1 });
    expect(port.count()).toBe(1);
    const out = engine.apply({ type: "replica_needs_rebuild", replicaId: R2, reason: "retention_age" });
    expect(out.execution.replicas.get(R2)).toMatchObject({
      senderState: "needs_rebuild",
      sessionActive: false,
    });
    expect(out.projection.mode.name).toBe("needs_rebuild");
    expect(cmd(out, "stop_recovery")).toHaveLength(1);
    expect(port.count()).toBe(0);
    // The copy was rebuilt elsewhere: a fresh catch-up finds it in sync and the volume recovers.
    const start = engine.apply({ type: "start_recovery", replicaId: R2, kind: "catchup" });
    const next = cmd(start, "connect_replica")[0]!.sessionId;
    expect(start.projection.mode.name).toBe("needs_rebuild");
    const done = engine.apply({
      type: "handshake",
      replicaId: R2,
      sessionId: next,
      replicaDurableLsn: 100n,
      nowMs: 2,
    });
    expect(done.execution.replicas.get(R2)).toMatchObject({ senderState: "in_sync", liveEligible: true });
    expect(done.projection.mode.name).not.toBe("needs_rebuild");
    expect(
      engine.apply({ type: "replica_needs_rebuild", replicaId: `${VOL}/vs-9`, reason: "x" }).rejected,
    ).toMatch(/unknown_replica/);
  });

  it("with two replicas, needs_rebuild stays while one of them still needs a rebuild", () => {
    const { engine } = setup({ headLsn: 100n, committedLsn: 100n });
    const out = engine.apply(primary(1n, ["vs-2", "vs-3"]));
    const [a, b] = cmd(out, "connect_replica");
    engine.apply({
      type: "handshake",
      replicaId: R2,
      sessionId: a!.sessionId,
      replicaDurableLsn: 100n,
      nowMs: 1,
    });
    engine.apply({
      type: "handshake",
      replicaId: R3,
      sessionId: b!.sessionId,
      replicaDurableLsn: 100n,
      nowMs: 1,
    });
    expect(
      engine.apply({ type: "replica_needs_rebuild", replicaId: R3, reason: "wal_recycled" }).projection.mode
        .name,
    ).toBe("needs_rebuild");
    const again = engine.apply({ type: "start_recovery", replicaId: R2, kind: "catchup" });
    const s = cmd(again, "connect_replica")[0]!.sessionId;
    const out2 = engine.apply({
      type: "handshake",
      replicaId: R2,
      sessionId: s,
      replicaDurableLsn: 100n,
      nowMs: 2,
    });
    expect(out2.projection.mode.name).toBe("needs_rebuild");
  });
});
