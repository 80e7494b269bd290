// Property tests over random event sequences (fast-check, bounded runs).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CoreEvent,
  type EngineEvent,
  type Sender,
  type SessionKind,
  VolumeCore,
  VolumeEngine,
} from "../src/index";
import { FakeRetention, history, newSender } from "./helpers";

const VOL = "/vol/p";
const SERVERS = ["vs-1", "vs-2", "vs-3"] as const;
const rid = (i: number): string => `${VOL}/${SERVERS[i]}`;

type Step =
  | {
      k: "assign";
      epochUp: boolean;
      servers: boolean[];
      moved: number;
      role: "primary" | "rebuilding" | "stale";
    }
  | { k: "bump" }
  | { k: "handshake"; r: number; stale: boolean; lsn: bigint }
  | { k: "progress"; r: number; stale: boolean; lsn: bigint }
  | { k: "tick"; advanceMs: number }
  | { k: "done"; r: number; stale: boolean }
  | { k: "truncated"; r: number; lsn: bigint }
  | { k: "failed"; r: number; stale: boolean }
  | { k: "start"; r: number; kind: SessionKind }
  | { k: "rebuild"; r: number; stage: "base" | "tail" | "done"; lsn: bigint }
  | { k: "barrier"; ok: boolean; lsn: bigint }
  | { k: "committed"; lsn: bigint };

// Biased towards the boundaries that matter: retention tail (40), checkpoint (60), committed (100), head.
const lsn = fc.oneof(
  fc.constantFrom(0n, 39n, 40n, 60n, 99n, 100n, 101n, 140n),
  fc.bigInt({ min: 0n, max: 160n }),
);
const replica = fc.integer({ min: 0, max: 2 });
/** One session-scoped event in four uses a stale session ID. */
const rarely = fc.integer({ min: 0, max: 3 }).map((x) => x === 0);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      k: fc.constant("assign" as const),
      epochUp: fc.boolean(),
      servers: fc.array(
        fc.integer({ min: 0, max: 3 }).map((x) => x > 0),
        { minLength: 3, maxLength: 3 },
      ),
      moved: fc.integer({ min: -1, max: 2 }),
      role: fc.constantFrom("primary" as const, "primary" as const, "rebuilding" as const, "stale" as const),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ k: fc.constant("bump" as const) }), weight: 1 },
  {
    arbitrary: fc.record({ k: fc.constant("handshake" as const), r: replica, stale: rarely, lsn }),
    weight: 4,
  },
  {
    arbitrary: fc.record({ k: fc.constant("progress" as const), r: replica, stale: rarely, lsn }),
    weight: 5,
  },
  {
    arbitrary: fc.record({ k: fc.constant("tick" as const), advanceMs: fc.integer({ min: 0, max: 40 }) }),
    weight: 2,
  },
  { arbitrary: fc.record({ k: fc.constant("done" as const), r: replica, stale: rarely }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant("truncated" as const), r: replica, lsn }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant("failed" as const), r: replica, stale: rarely }), weight: 1 },
  {
    arbitrary: fc.record({
      k: fc.constant("start" as const),
      r: replica,
      kind: fc.constantFrom<SessionKind>("catchup", "rebuild"),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("rebuild" as const),
      r: replica,
      stage: fc.constantFrom("base" as const, "tail" as const, "done" as const),
      lsn,
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ k: fc.constant("barrier" as const), ok: fc.boolean(), lsn }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant("committed" as const), lsn }), weight: 1 },
);

interface World {
  readonly engine: VolumeEngine;
  readonly port: FakeRetention;
  epoch: bigint;
  nowMs: number;
}

/** Replica r of those the engine currently has (so most session-scoped events hit a real replica). */
function target(w: World, r: number): string {
  const ids = w.engine.snapshot().senders.map((s) => s.replicaId);
  return ids.length === 0 ? rid(r) : ids[r % ids.length]!;
}

function currentSession(w: World, r: number): number {
  return w.engine.snapshot().execution.replicas.get(target(w, r))?.sessionId ?? 0;
}

/** A session ID that is certainly not the replica's current one (but looks plausible). */
function staleSession(w: World, r: number): number {
  const cur = currentSession(w, r);
  return cur > 1 ? cur - 1 : cur + 1000;
}

function toEvent(w: World, s: Step): { ev: EngineEvent; stale: boolean } {
  const sid = (r: number, stale: boolean): number => (stale ? staleSession(w, r) : currentSession(w, r));
  switch (s.k) {
    case "assign": {
      if (s.epochUp) w.epoch += 1n;
      const chosen = SERVERS.filter((_, i) => s.servers[i]);
      const list = s.role === "rebuilding" ? chosen.slice(0, 1) : s.role === "stale" ? [] : chosen;
      const role = s.role === "rebuilding" && list.length === 0 ? "primary" : s.role;
      const replicas = list.map((serverId, i) => ({
        serverId,
        dataAddr: `${serverId}:${i === s.moved ? 9 : 1}`,
        ctrlAddr: `${serverId}:2`,
      }));
      return { ev: { type: "assignment", epoch: w.epoch, role, replicas }, stale: false };
    }
    case "bump":
      w.epoch += 1n;
      return { ev: { type: "epoch_bump", epoch: w.epoch }, stale: false };
    case "handshake":
      return {
        ev: {
          type: "handshake",
          replicaId: target(w, s.r),
          sessionId: sid(s.r, s.stale),
          replicaDurableLsn: s.lsn,
          nowMs: w.nowMs,
        },
        stale: s.stale,
      };
    case "progress":
      return {
        ev: {
          type: "catchup_progress",
          replicaId: target(w, s.r),
          sessionId: sid(s.r, s.stale),
          durableLsn: s.lsn,
          nowMs: w.nowMs,
        },
        stale: s.stale,
      };
    case "tick":
      w.nowMs += s.advanceMs;
      return { ev: { type: "budget_tick", nowMs: w.nowMs }, stale: false };
    case "done":
      return {
        ev: { type: "catchup_done", replicaId: target(w, s.r), sessionId: sid(s.r, s.stale) },
        stale: s.stale,
      };
    case "truncated":
      return {
        ev: { type: "truncation_done", replicaId: target(w, s.r), sessionId: sid(s.r, false), lsn: s.lsn },
        stale: false,
      };
    case "failed":
      return {
        ev: {
          type: "recovery_failed",
          replicaId: target(w, s.r),
          sessionId: sid(s.r, s.stale),
          reason: "io",
        },
        stale: s.stale,
      };
    case "start":
      return { ev: { type: "start_recovery", replicaId: target(w, s.r), kind: s.kind }, stale: false };
    case "rebuild": {
      const sessionId = sid(s.r, false);
      const ev: EngineEvent =
        s.stage === "done"
          ? {
              type: "rebuild_done",
              replicaId: target(w, s.r),
              sessionId,
              flushedLsn: s.lsn,
              checkpointLsn: s.lsn,
            }
          : { type: "rebuild_progress", replicaId: target(w, s.r), sessionId, stage: s.stage, lsn: s.lsn };
      return { ev, stale: false };
    }
    case "barrier":
      return {
        ev: s.ok
          ? { type: "barrier_accepted", flushedLsn: s.lsn }
          : { type: "barrier_rejected", reason: `r${s.lsn % 3n}` },
        stale: false,
      };
    case "committed":
      return { ev: { type: "committed_advanced", committedLsn: s.lsn }, stale: false };
  }
}

function checkInvariants(w: World): void {
  const snap = w.engine.snapshot();
  const activeReplicas = new Set<string>();
  for (const sender of snap.senders) {
    const s = sender.session;
    // At most one session per replica, and an attached session is always active (invariant 34).
    if (s !== null) {
      expect(s.active).toBe(true);
      activeReplicas.add(sender.replicaId);
      // Progress never exceeds a frozen target.
      if (s.frozenTargetLsn > 0n) expect(s.recoveredTo <= s.frozenTargetLsn).toBe(true);
      expect(s.epoch).toBe(sender.epoch);
    }
    const e = snap.execution.replicas.get(sender.replicaId)!;
    expect(e.sessionActive).toBe(s !== null);
    expect(e.liveEligible).toBe(!e.sessionActive);
    expect(e.reason === "").toBe(e.liveEligible);
  }
  expect(new Set(snap.senders.map((s) => s.replicaId)).size).toBe(snap.senders.length);
  // Pins never outlive the session they were taken for.
  for (const pin of w.port.held.values()) expect(activeReplicas.has(pin.replicaId)).toBe(true);
}

describe("engine properties", () => {
  it("random event sequences keep every invariant; stale IDs mutate nothing; redelivery emits nothing", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 60 }), fc.boolean(), (steps, budgeted) => {
        const port = new FakeRetention({
          headLsn: 140n,
          committedLsn: 100n,
          tailLsn: 40n,
          checkpointLsn: 60n,
          checkpointTrusted: true,
        });
        const engine = new VolumeEngine({
          volumeId: VOL,
          retention: port,
          ...(budgeted
            ? { catchUpBudget: { maxDurationMs: 60, maxEntries: 50n, progressDeadlineMs: 25 } }
            : {}),
        });
        const w: World = { engine, port, epoch: 1n, nowMs: 1 };
        let last = engine.snapshot().projection.boundary;
        const opening: Step = {
          k: "assign",
          epochUp: false,
          servers: [true, true, true],
          moved: -1,
          role: "primary",
        };
        for (const step of [opening, ...steps]) {
          const before = engine.snapshot();
          const { ev, stale } = toEvent(w, step);
          const out = engine.apply(ev);
          if (stale) {
            expect(out.rejected).not.toBeNull();
            expect(out.commands).toEqual([]);
            expect(engine.snapshot()).toEqual(before);
          }
          if (ev.type === "assignment" && out.rejected === null) {
            expect(engine.apply(ev).commands).toEqual([]);
          }
          checkInvariants(w);
          const b = out.projection.boundary;
          expect(b.durableLsn >= last.durableLsn && b.committedLsn >= last.committedLsn).toBe(true);
          expect(b.checkpointLsn >= last.checkpointLsn).toBe(true);
          last = b;
        }
        // Leaving the volume releases everything.
        engine.apply({ type: "assignment", epoch: w.epoch, role: "none", replicas: [] });
        expect(port.count()).toBe(0);
      }),
      { numRuns: 500, seed: 20261124 },
    );
  });

  it("core: boundaries are monotonic and identical redelivery is silent for any event", () => {
    const rids = [`${VOL}/a`, `${VOL}/b`];
    const replicaId = fc.constantFrom(undefined, rids[0], rids[1], `${VOL}/zz`);
    const coreEvent: fc.Arbitrary<CoreEvent> = fc.oneof(
      fc.record({
        type: fc.constant("assignment_delivered" as const),
        epoch: fc.bigInt({ min: 1n, max: 3n }),
        role: fc.constantFrom("primary" as const, "replica" as const),
        replicas: fc
          .subarray(rids)
          .map((ids) =>
            ids.map((id) => ({ replicaId: id, endpoint: { dataAddr: id, ctrlAddr: id, version: 0 } })),
          ),
        recoveryTarget: fc.constantFrom<SessionKind | null>(null, "catchup", "rebuild"),
      }),
      fc.constantFrom<CoreEvent>(
        { type: "role_applied" },
        { type: "receiver_ready_observed" },
        { type: "shipper_configured_observed" },
        { type: "shipper_connected_observed" },
      ),
      fc.record({ type: fc.constant("barrier_accepted" as const), flushedLsn: lsn }),
      fc.record({ type: fc.constant("barrier_rejected" as const), reason: fc.constantFrom("a", "b") }),
      fc.record({ type: fc.constant("committed_lsn_advanced" as const), committedLsn: lsn }),
      fc.record({ type: fc.constant("checkpoint_advanced" as const), checkpointLsn: lsn }),
      fc.record({ type: fc.constant("diagnostic_shipped_advanced" as const), shippedLsn: lsn }),
      fc.record({ type: fc.constant("catchup_planned" as const), replicaId, targetLsn: lsn }),
      fc.record({ type: fc.constant("recovery_progress_observed" as const), replicaId, achievedLsn: lsn }),
      fc.record({ type: fc.constant("catchup_completed" as const), replicaId, achievedLsn: lsn }),
      fc.record({
        type: fc.constant("needs_rebuild_observed" as const),
        replicaId,
        reason: fc.constantFrom("g", "h"),
      }),
      fc.record({ type: fc.constant("rebuild_started" as const), replicaId, targetLsn: lsn }),
      fc.record({
        type: fc.constant("rebuild_committed" as const),
        replicaId,
        achievedLsn: lsn,
        flushedLsn: lsn,
        checkpointLsn: lsn,
      }),
    );
    fc.assert(
      fc.property(fc.array(coreEvent, { minLength: 1, maxLength: 50 }), (events) => {
        const core = new VolumeCore(VOL);
        let last = core.projection().boundary;
        for (const ev of events) {
          const first = core.apply(ev);
          const b = first.projection.boundary;
          expect(b.durableLsn >= last.durableLsn).toBe(true);
          expect(b.committedLsn >= last.committedLsn).toBe(true);
          expect(b.checkpointLsn >= last.checkpointLsn).toBe(true);
          expect(b.diagnosticShippedLsn >= last.diagnosticShippedLsn).toBe(true);
          last = b;
          if (ev.type === "assignment_delivered") expect(core.apply(ev).commands).toEqual([]);
          // Healthy publication always needs a primary with barrier durability.
          if (first.projection.publication.healthy) {
            expect(first.projection.role).toBe("primary");
            expect(b.durableLsn > 0n).toBe(true);
          }
        }
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it("sender: every session-scoped API called with a stale ID throws or returns false and changes nothing", () => {
    type Op = (s: Sender, id: number) => unknown;
    const ops: Op[] = [
      (s, id) => s.beginConnect(id),
      (s, id) => s.recordHandshake(id, 10n, 50n),
      (s, id) =>
        s.recordHandshakeWithOutcome(id, {
          replicaFlushedLsn: 60n,
          committedLsn: 100n,
          retentionStartLsn: 0n,
        }),
      (s, id) => s.beginCatchUp(id, 5),
      (s, id) => s.recordCatchUpProgress(id, 70n, 6),
      (s, id) => s.recordTruncation(id, 100n),
      (s, id) => s.completeSessionById(id),
      (s, id) => s.checkBudget(id, 1_000_000),
      (s, id) => s.selectRebuildFromHistory(id, history()),
      (s, id) => s.beginRebuildTransfer(id),
      (s, id) => s.recordRebuildTransferProgress(id, 100n),
      (s, id) => s.completeRebuild(id),
    ];
    const lifecycle = fc.constantFrom("epoch", "endpoint", "supersede", "stop", "invalidate");
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: ops.length - 1 }), fc.boolean()), { maxLength: 30 }),
        lifecycle,
        (calls, how) => {
          const s = newSender("r1", 1n);
          const old = s.attachSession(1n, "catchup", {
            budget: { maxDurationMs: 1, maxEntries: 0n, progressDeadlineMs: 0 },
          });
          if (how === "epoch") s.updateEpoch(2n);
          else if (how === "endpoint") s.updateEndpoint({ dataAddr: "x", ctrlAddr: "y", version: 1 });
          else if (how === "supersede") s.supersedeSession("rebuild", "t");
          else if (how === "stop") s.stop();
          else s.invalidateSession("t", "disconnected");
          for (const [i, useCurrent] of calls) {
            const current = s.sessionId;
            const id = useCurrent && current !== 0 ? current : old;
            const before = s.snapshot();
            let threw = false;
            let result: unknown;
            try {
              result = ops[i]!(s, id);
            } catch {
              threw = true;
            }
            if (id === old) {
              expect(threw || result === false).toBe(true);
              expect(s.snapshot()).toEqual(before);
            }
            const after = s.sessionSnapshot();
            expect(after === null || after.active).toBe(true);
          }
        },
      ),
      { numRuns: 300, seed: 3 },
    );
  });
});
