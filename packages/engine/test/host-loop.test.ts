// A simulated host driving VolumeEngine the way the agent will: execute each command, feed back what
// it observed, until nothing is left to do. Checks that recovery converges (liveness) for any mix of
// replica positions, and that the gate is closed exactly while a replica is being recovered.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type EngineCommand, type EngineEvent, type RetainedHistory, VolumeEngine } from "../src/index";
import { FakeRetention } from "./helpers";

const VOL = "/data/vol-h.blk";

interface FakeReplica {
  durableLsn: bigint;
  /** Divergent tail already flushed into the extent (truncation unsafe). */
  flushedAhead: boolean;
}

class FakeHost {
  readonly engine: VolumeEngine;
  readonly port: FakeRetention;
  readonly replicas = new Map<string, FakeReplica>();
  readonly queue: EngineEvent[] = [];
  nowMs = 1;
  readonly gateChecks: { replicaId: string; allowed: boolean; recovering: boolean }[] = [];

  constructor(history: Partial<RetainedHistory>, stepLsn = 7n, maxEntries = 0n) {
    this.port = new FakeRetention(history);
    this.engine = new VolumeEngine({
      volumeId: VOL,
      retention: this.port,
      catchUpBudget: { maxDurationMs: 0, maxEntries, progressDeadlineMs: 0 },
    });
    this.stepLsn = stepLsn;
  }
  private readonly stepLsn: bigint;

  /** Events injected before step N of the next run (failures, bumps, operator actions). */
  interference: [number, (h: FakeHost) => EngineEvent | null][] = [];
  epoch = 1n;

  run(first: EngineEvent, limit = 500): void {
    this.queue.push(first);
    for (let i = 0; i < limit && this.queue.length > 0; i++) {
      for (const [at, make] of this.interference) {
        const ev = at === i ? make(this) : null;
        if (ev === null) continue;
        // A host reports a failure because its own task died: nothing queued for it runs any more.
        if (ev.type === "recovery_failed") this.dropQueued(ev.replicaId, ev.sessionId);
        for (const c of this.engine.apply(ev).commands) this.execute(c);
      }
      const next = this.queue.shift();
      if (next === undefined) break;
      const out = this.engine.apply(next);
      expect(out.rejected).toBeNull();
      for (const c of out.commands) this.execute(c);
      this.nowMs += 1;
    }
    expect(this.queue).toEqual([]);
  }

  private execute(c: EngineCommand): void {
    switch (c.type) {
      case "apply_role":
        this.queue.push({ type: "role_applied" });
        return;
      case "configure_shipper":
        this.queue.push({ type: "shipper_configured" }, { type: "shipper_connected" });
        return;
      case "connect_replica": {
        const r = this.replicas.get(c.replicaId)!;
        this.queue.push({
          type: "handshake",
          replicaId: c.replicaId,
          sessionId: c.sessionId,
          replicaDurableLsn: r.durableLsn,
          nowMs: this.nowMs,
        });
        return;
      }
      case "start_catchup": {
        const r = this.replicas.get(c.replicaId)!;
        this.probeGate(c.replicaId, true);
        if (c.truncateToLsn > 0n || r.durableLsn > c.targetLsn) {
          if (r.flushedAhead) {
            this.queue.push({ type: "truncation_unsafe", replicaId: c.replicaId, sessionId: c.sessionId });
            return;
          }
          r.durableLsn = c.truncateToLsn;
          this.queue.push({
            type: "truncation_done",
            replicaId: c.replicaId,
            sessionId: c.sessionId,
            lsn: c.truncateToLsn,
          });
        }
        for (let lsn = c.fromLsn + this.stepLsn; lsn < c.targetLsn; lsn += this.stepLsn) {
          this.queue.push({
            type: "catchup_progress",
            replicaId: c.replicaId,
            sessionId: c.sessionId,
            durableLsn: lsn,
            nowMs: this.nowMs,
          });
        }
        if (c.targetLsn > c.fromLsn) {
          this.queue.push({
            type: "catchup_progress",
            replicaId: c.replicaId,
            sessionId: c.sessionId,
            durableLsn: c.targetLsn,
            nowMs: this.nowMs,
          });
        }
        r.durableLsn = c.targetLsn;
        this.queue.push({ type: "catchup_done", replicaId: c.replicaId, sessionId: c.sessionId });
        return;
      }
      case "start_rebuild": {
        const r = this.replicas.get(c.replicaId)!;
        this.probeGate(c.replicaId, true);
        const base = c.source === "snapshot_tail" ? c.snapshotLsn : c.targetLsn;
        this.queue.push({
          type: "rebuild_progress",
          replicaId: c.replicaId,
          sessionId: c.sessionId,
          stage: "base",
          lsn: base,
        });
        if (c.source === "snapshot_tail" && c.targetLsn > base) {
          this.queue.push({
            type: "rebuild_progress",
            replicaId: c.replicaId,
            sessionId: c.sessionId,
            stage: "tail",
            lsn: c.targetLsn,
          });
        }
        r.durableLsn = c.targetLsn;
        r.flushedAhead = false;
        this.queue.push({
          type: "rebuild_done",
          replicaId: c.replicaId,
          sessionId: c.sessionId,
          flushedLsn: c.targetLsn,
          checkpointLsn: base,
        });
        return;
      }
      case "stop_recovery":
        // The engine ended the session: drop whatever the host still had queued for it.
        this.dropQueued(c.replicaId, c.sessionId);
        return;
      case "start_receiver":
      case "publish_projection":
        return;
    }
  }

  private dropQueued(replicaId: string, sessionId: number): void {
    const keep = this.queue.filter(
      (e) => !("sessionId" in e && e.sessionId === sessionId && e.replicaId === replicaId),
    );
    this.queue.splice(0, this.queue.length, ...keep);
  }

  /** The shipper asks the gate before sending a live-tail entry. */
  private probeGate(replicaId: string, recovering: boolean): void {
    const allowed = this.engine.snapshot().execution.replicas.get(replicaId)?.liveEligible ?? true;
    this.gateChecks.push({ replicaId, allowed, recovering });
  }
}

describe("host loop", () => {
  it("two replicas (zero-gap and behind) converge; barrier durability then publishes healthy", () => {
    const host = new FakeHost({ headLsn: 120n, committedLsn: 100n, tailLsn: 20n });
    host.replicas.set(`${VOL}/vs-2`, { durableLsn: 100n, flushedAhead: false });
    host.replicas.set(`${VOL}/vs-3`, { durableLsn: 55n, flushedAhead: false });
    host.run({
      type: "assignment",
      epoch: 1n,
      role: "primary",
      replicas: ["vs-2", "vs-3"].map((serverId) => ({
        serverId,
        dataAddr: `${serverId}:1`,
        ctrlAddr: `${serverId}:2`,
      })),
    });
    const snap = host.engine.snapshot();
    expect(snap.senders.map((s) => s.state)).toEqual(["in_sync", "in_sync"]);
    expect([...snap.execution.replicas.values()].every((r) => r.liveEligible)).toBe(true);
    expect(host.gateChecks.every((g) => !g.allowed)).toBe(true);
    expect(snap.projection.boundary.durableLsn).toBe(100n);
    host.run({ type: "barrier_accepted", flushedLsn: 120n });
    expect(host.engine.snapshot().projection.mode.name).toBe("publish_healthy");
    expect(host.port.count()).toBe(0);
  });

  it("liveness: any replica positions converge to in_sync (rebuild where catch-up is impossible or over budget)", () => {
    const position = fc.record({
      durableLsn: fc.bigInt({ min: 0n, max: 130n }),
      flushedAhead: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(position, { minLength: 1, maxLength: 3 }),
        fc.bigInt({ min: 0n, max: 90n }),
        fc.bigInt({ min: 0n, max: 100n }),
        fc.boolean(),
        fc.bigInt({ min: 1n, max: 25n }),
        fc.constantFrom(0n, 30n),
        (positions, tailLsn, checkpointLsn, trusted, step, maxEntries) => {
          const history = {
            headLsn: 110n,
            committedLsn: 100n,
            tailLsn,
            checkpointLsn,
            checkpointTrusted: trusted,
          };
          const host = new FakeHost(history, step, maxEntries);
          const servers = positions.map((_, i) => `vs-${i + 1}`);
          positions.forEach((p, i) => {
            host.replicas.set(`${VOL}/${servers[i]}`, { ...p });
          });
          host.run({
            type: "assignment",
            epoch: 1n,
            role: "primary",
            replicas: servers.map((serverId) => ({
              serverId,
              dataAddr: `${serverId}:1`,
              ctrlAddr: `${serverId}:2`,
            })),
          });
          // Operator rebuilds whatever could not catch up.
          for (const s of host.engine.snapshot().senders) {
            if (s.state === "needs_rebuild")
              host.run({ type: "start_recovery", replicaId: s.replicaId, kind: "rebuild" });
          }
          const snap = host.engine.snapshot();
          expect(snap.senders.map((s) => s.state)).toEqual(servers.map(() => "in_sync"));
          expect([...host.replicas.values()].every((r) => r.durableLsn === 100n)).toBe(true);
          expect([...snap.execution.replicas.values()].every((r) => r.liveEligible && !r.sessionActive)).toBe(
            true,
          );
          expect(host.gateChecks.every((g) => !g.allowed)).toBe(true);
          expect(snap.projection.mode.name).not.toBe("needs_rebuild");
          expect(host.port.count()).toBe(0);
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });

  it("liveness under interference: failures, epoch bumps, cancels and barrier rejections never wedge recovery", () => {
    const servers = ["vs-1", "vs-2"];
    const ids = servers.map((s) => `${VOL}/${s}`);
    const assign = (epoch: bigint): EngineEvent => ({
      type: "assignment",
      epoch,
      role: "primary",
      replicas: servers.map((serverId) => ({
        serverId,
        dataAddr: `${serverId}:1`,
        ctrlAddr: `${serverId}:2`,
      })),
    });
    const current = (h: FakeHost, i: number) =>
      h.engine.snapshot().execution.replicas.get(ids[i % ids.length]!)!;
    const kinds: ((h: FakeHost, i: number) => EngineEvent | null)[] = [
      (h) => {
        h.epoch += 1n;
        return { type: "epoch_bump", epoch: h.epoch };
      },
      (h, i) => {
        const r = current(h, i);
        return r.sessionActive
          ? { type: "recovery_failed", replicaId: r.replicaId, sessionId: r.sessionId, reason: "io" }
          : null;
      },
      (h, i) => ({ type: "cancel_recovery", replicaId: current(h, i).replicaId, reason: "operator" }),
      () => ({ type: "barrier_rejected", reason: "timeout" }),
      (h, i) => ({ type: "start_recovery", replicaId: current(h, i).replicaId, kind: "catchup" }),
    ];
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: kinds.length - 1 }), fc.nat(3)),
          {
            maxLength: 6,
          },
        ),
        fc.bigInt({ min: 30n, max: 100n }),
        fc.bigInt({ min: 30n, max: 100n }),
        (plan, f1, f2) => {
          const host = new FakeHost(
            { headLsn: 110n, committedLsn: 100n, tailLsn: 20n, checkpointLsn: 50n, checkpointTrusted: true },
            9n,
          );
          host.replicas.set(ids[0]!, { durableLsn: f1, flushedAhead: false });
          host.replicas.set(ids[1]!, { durableLsn: f2, flushedAhead: false });
          host.interference = plan.map(([at, k, i]) => [at, (h: FakeHost) => kinds[k]!(h, i)]);
          host.run(assign(host.epoch));
          // Whatever happened, a fresh assignment (and an operator rebuild where needed) converges.
          host.interference = [];
          host.epoch += 1n;
          host.run(assign(host.epoch));
          for (const s of host.engine.snapshot().senders) {
            if (s.state !== "in_sync")
              host.run({ type: "start_recovery", replicaId: s.replicaId, kind: "rebuild" });
          }
          const snap = host.engine.snapshot();
          expect(snap.senders.map((s) => s.state)).toEqual(["in_sync", "in_sync"]);
          expect(snap.projection.recovery.phase).toBe("idle");
          expect(host.port.count()).toBe(0);
        },
      ),
      { numRuns: 150, seed: 5 },
    );
  });
});
