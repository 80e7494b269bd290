// Property tests over random event sequences (fast-check, bounded runs).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CoreEvent, type Sender, type SessionKind, VolumeCore, VolumeEngine } from "../src/index";
import { FakeRetention, history, newSender } from "./helpers";
import { checkInvariants, lsn, type Step, stepArb, toEvent, VOL, type World } from "./properties-model";

describe("engine properties", () => {
  it("random event sequences keep every invariant; stale IDs mutate nothing; redelivery emits nothing", () => {
    const seen = { resyncTransfer: 0, resyncCatchUp: 0, resyncDone: 0 };
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
          for (const sender of engine.snapshot().senders) {
            if (sender.session?.kind === "resync" && sender.session.phase === "transfer")
              seen.resyncTransfer++;
            if (sender.session?.kind === "resync" && sender.session.phase === "catchup") seen.resyncCatchUp++;
          }
          if (ev.type === "resync_committed" && out.rejected === null && out.commands.length > 0)
            seen.resyncDone++;
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
    // The sequences do reach every resync phase (the invariants above were checked on them).
    expect(seen.resyncTransfer > 0 && seen.resyncCatchUp > 0 && seen.resyncDone > 0).toBe(true);
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
      (s, id) => s.beginResync(id),
      (s, id) => s.recordResyncProgress(id, 1, 5n),
      (s, id) => s.commitResync(id, 100n, 100n, 7),
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
