// A simulated host driving VolumeEngine the way the agent will: execute each command, feed back what
// it observed, until nothing is left to do. Checks that recovery converges (liveness) for any mix of
// replica positions, and that the gate is closed exactly while a replica is being recovered.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decideRecovery,
  type EngineCommand,
  type EngineEvent,
  type RetainedHistory,
  VolumeEngine,
} from "../src/index";
import { FakeRetention } from "./helpers";

const VOL = "/data/vol-h.blk";

interface FakeReplica {
  durableLsn: bigint;
  /** Head above durable / a divergent tail (only with histories: otherwise durable is the head). */
  headLsn?: bigint;
  /** The fork point with the primary's history; undefined = no common history. */
  forkLsn?: bigint | undefined;
  /** Change-tracking base; undefined = untracked. */
  changeBaseLsn?: bigint | undefined;
  /** The replica's resync marker. */
  resyncPending?: boolean;
}

/** The replica after it caught up (or was rebuilt/committed) to `lsn` of the primary's history. */
function holdsPrimaryUpTo(r: FakeReplica, lsn: bigint): void {
  r.durableLsn = lsn;
  r.headLsn = lsn;
  r.forkLsn = lsn;
}

class FakeHost {
  readonly engine: VolumeEngine;
  readonly port: FakeRetention;
  readonly replicas = new Map<string, FakeReplica>();
  readonly queue: EngineEvent[] = [];
  nowMs = 1;
  readonly gateChecks: { replicaId: string; allowed: boolean; recovering: boolean }[] = [];

  /** The peers exchange histories (resync facts in every handshake); the primary's tracking base. */
  withHistories = false;
  primaryChangeBaseLsn = 0n;

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
          ...(this.withHistories ? { resync: this.resyncFacts(r) } : {}),
        });
        return;
      }
      case "start_resync":
        this.startResync(c);
        return;
      case "start_catchup": {
        const r = this.replicas.get(c.replicaId)!;
        this.probeGate(c.replicaId, true);
        // No plan ever cuts a replica back: a catch-up starts exactly at the replica's durable LSN.
        expect([c.truncateToLsn, r.durableLsn]).toEqual([0n, c.fromLsn]);
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
        holdsPrimaryUpTo(r, c.targetLsn);
        r.resyncPending = false;
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
        holdsPrimaryUpTo(r, c.targetLsn);
        r.changeBaseLsn = c.targetLsn;
        r.resyncPending = false;
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

  private resyncFacts(r: FakeReplica) {
    return {
      forkLsn: "forkLsn" in r ? r.forkLsn : r.durableLsn,
      replicaHeadLsn: r.headLsn ?? r.durableLsn,
      primaryChangeBaseLsn: this.primaryChangeBaseLsn,
      replicaChangeBaseLsn: "changeBaseLsn" in r ? r.changeBaseLsn : 0n,
      replicaResyncPending: r.resyncPending ?? false,
    };
  }

  /**
   * The replica takes its marker at once; two passes; the commit leaves its log at the base (a
   * primary head ≥ the fork) with the marker still set until it reached the consistent LSN.
   */
  private startResync(c: Extract<EngineCommand, { type: "start_resync" }>): void {
    const r = this.replicas.get(c.replicaId)!;
    const committed = this.port.history.committedLsn;
    this.probeGate(c.replicaId, true);
    expect(c.forkLsn <= this.port.history.headLsn).toBe(true);
    r.resyncPending = true;
    const ids = { replicaId: c.replicaId, sessionId: c.sessionId, nowMs: this.nowMs };
    this.queue.push({ type: "resync_progress", ...ids, pass: 1, blocksLeft: 12n });
    this.queue.push({ type: "resync_progress", ...ids, pass: 2, blocksLeft: 2n });
    const base = committed - 3n > c.forkLsn ? committed - 3n : c.forkLsn;
    const consistent = base > committed ? base : committed;
    holdsPrimaryUpTo(r, base);
    if (base >= consistent) r.resyncPending = false; // consistent at once: the marker clears
    this.queue.push({ type: "resync_committed", ...ids, baseLsn: base, consistentLsn: consistent });
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
    host.replicas.set(`${VOL}/vs-2`, { durableLsn: 100n });
    host.replicas.set(`${VOL}/vs-3`, { durableLsn: 55n });
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
    const position = fc.record({ durableLsn: fc.bigInt({ min: 0n, max: 130n }) });
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

  it("liveness with histories: a recycled gap, a divergent or ahead copy, a pending resync all converge by resync; a rebuild only without common tracked history", () => {
    const position = fc.record({
      durableLsn: fc.bigInt({ min: 0n, max: 130n }),
      aheadBy: fc.bigInt({ min: 0n, max: 10n }),
      forkBack: fc.option(fc.bigInt({ min: 0n, max: 20n }), { nil: undefined, freq: 8 }),
      changeBaseLsn: fc.option(fc.bigInt({ min: 0n, max: 100n }), { nil: undefined, freq: 8 }),
      resyncPending: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(position, { minLength: 1, maxLength: 3 }),
        fc.bigInt({ min: 0n, max: 90n }),
        fc.bigInt({ min: 0n, max: 60n }),
        fc.bigInt({ min: 1n, max: 25n }),
        (positions, tailLsn, primaryChangeBaseLsn, step) => {
          const history = {
            headLsn: 110n,
            committedLsn: 100n,
            tailLsn,
            checkpointLsn: 50n,
            checkpointTrusted: true,
          };
          const host = new FakeHost(history, step);
          host.withHistories = true;
          host.primaryChangeBaseLsn = primaryChangeBaseLsn;
          const servers = positions.map((_, i) => `vs-${i + 1}`);
          const expectRebuild = new Set<string>();
          positions.forEach((p, i) => {
            const id = `${VOL}/${servers[i]}`;
            const headLsn = p.durableLsn + p.aheadBy;
            const top = headLsn < 110n ? headLsn : 110n;
            const forkLsn = p.forkBack === undefined ? undefined : top > p.forkBack ? top - p.forkBack : 0n;
            const r = {
              durableLsn: p.durableLsn,
              headLsn,
              forkLsn,
              changeBaseLsn: p.changeBaseLsn,
              resyncPending: p.resyncPending,
            };
            host.replicas.set(id, r);
            const d = decideRecovery({
              replicaDurableLsn: r.durableLsn,
              committedLsn: 100n,
              tailLsn,
              resync: {
                forkLsn,
                replicaHeadLsn: headLsn,
                primaryChangeBaseLsn,
                replicaChangeBaseLsn: p.changeBaseLsn,
                replicaResyncPending: p.resyncPending,
              },
            });
            if (d.kind === "needs_rebuild") expectRebuild.add(id);
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
          // Exactly the copies without common tracked history wait for a rebuild; every other one
          // converged by itself (zero gap, catch-up or resync: no operator needed).
          const first = host.engine.snapshot();
          expect(
            new Set(first.senders.filter((s) => s.state === "needs_rebuild").map((s) => s.replicaId)),
          ).toEqual(expectRebuild);
          for (const s of first.senders) {
            if (!expectRebuild.has(s.replicaId)) expect(s.state).toBe("in_sync");
            else host.run({ type: "start_recovery", replicaId: s.replicaId, kind: "rebuild" });
          }
          const snap = host.engine.snapshot();
          expect(snap.senders.map((s) => s.state)).toEqual(servers.map(() => "in_sync"));
          // A fork above C (both hold uncommitted records) resyncs to a consistent LSN above C.
          expect([...host.replicas.values()].every((r) => r.durableLsn >= 100n && !r.resyncPending)).toBe(
            true,
          );
          expect(host.gateChecks.every((g) => !g.allowed)).toBe(true);
          expect(snap.projection.recovery.phase).toBe("idle");
          expect(snap.projection.mode.name).not.toBe("needs_rebuild");
          expect(host.port.count()).toBe(0);
        },
      ),
      { numRuns: 200, seed: 12 },
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
        fc.constantFrom(20n, 60n),
        fc.boolean(),
        (plan, f1, f2, tailLsn, withHistories) => {
          const host = new FakeHost(
            { headLsn: 110n, committedLsn: 100n, tailLsn, checkpointLsn: 50n, checkpointTrusted: true },
            9n,
          );
          // With histories, a recycled gap is resynced (and a resync broken off is resumed).
          host.withHistories = withHistories;
          host.replicas.set(ids[0]!, { durableLsn: f1 });
          host.replicas.set(ids[1]!, { durableLsn: f2 });
          host.interference = plan.map(([at, k, i]) => [at, (h: FakeHost) => kinds[k]!(h, i)]);
          host.run(assign(host.epoch));
          // Whatever happened, a fresh assignment (and an operator rebuild where needed) converges.
          host.interference = [];
          host.epoch += 1n;
          host.run(assign(host.epoch));
          for (const s of host.engine.snapshot().senders) {
            // Common, tracked histories never need the operator.
            if (withHistories) expect(s.state).toBe("in_sync");
            if (s.state !== "in_sync")
              host.run({ type: "start_recovery", replicaId: s.replicaId, kind: "rebuild" });
          }
          const snap = host.engine.snapshot();
          expect(snap.senders.map((s) => s.state)).toEqual(["in_sync", "in_sync"]);
          expect([...host.replicas.values()].every((r) => r.durableLsn === 100n && !r.resyncPending)).toBe(
            true,
          );
          expect(snap.projection.recovery.phase).toBe("idle");
          expect(host.port.count()).toBe(0);
        },
      ),
      { numRuns: 200, seed: 5 },
    );
  });
});
