// The random-world model of the engine property tests: steps, their arbitraries, how a step becomes
// an engine event (current or stale IDs), and the invariants checked after every step.
import fc from "fast-check";
import { expect } from "vitest";
import type { EngineEvent, ResyncFacts, SessionKind, VolumeEngine } from "../src/index";
import type { FakeRetention } from "./helpers";

export const VOL = "/vol/p";
const SERVERS = ["vs-1", "vs-2", "vs-3"] as const;
const rid = (i: number): string => `${VOL}/${SERVERS[i]}`;

export type Step =
  | {
      k: "assign";
      epochUp: boolean;
      servers: boolean[];
      moved: number;
      role: "primary" | "rebuilding" | "stale";
    }
  | { k: "bump" }
  | { k: "handshake"; r: number; stale: boolean; lsn: bigint; resync: ResyncFacts | null }
  | { k: "resync_progress"; r: number; stale: boolean; pass: number; blocksLeft: bigint }
  | { k: "resync_commit"; r: number; stale: boolean; baseUp: bigint; extra: bigint; wild: boolean }
  | { k: "progress"; r: number; stale: boolean; lsn: bigint }
  | { k: "tick"; advanceMs: number }
  | { k: "done"; r: number; stale: boolean }
  | { k: "truncated"; r: number; lsn: bigint }
  | { k: "failed"; r: number; stale: boolean }
  | { k: "start"; r: number; kind: SessionKind }
  | { k: "rebuild"; r: number; stage: "base" | "tail" | "done"; lsn: bigint }
  | { k: "barrier"; ok: boolean; lsn: bigint }
  | { k: "committed"; lsn: bigint }
  | { k: "ready"; what: "role_applied" | "shipper_configured" | "shipper_connected" };

// Biased towards the boundaries that matter: retention tail (40), checkpoint (60), committed (100), head.
export const lsn = fc.oneof(
  fc.constantFrom(0n, 39n, 40n, 60n, 99n, 100n, 101n, 140n),
  fc.bigInt({ min: 0n, max: 160n }),
);
const replica = fc.integer({ min: 0, max: 2 });
/** One session-scoped event in four uses a stale session ID. */
const rarely = fc.integer({ min: 0, max: 3 }).map((x) => x === 0);
/** Histories as a handshake reports them: mostly common and tracked, sometimes not. */
const resyncFacts: fc.Arbitrary<ResyncFacts | null> = fc.option(
  fc.record({
    forkLsn: fc.option(lsn, { nil: undefined, freq: 6 }),
    replicaHeadLsn: lsn,
    primaryChangeBaseLsn: fc.oneof(fc.constant(0n), lsn),
    replicaChangeBaseLsn: fc.option(fc.oneof(fc.constant(0n), lsn), { nil: undefined, freq: 6 }),
    replicaResyncPending: fc.boolean(),
  }),
  { nil: null, freq: 2 },
);
export const stepArb: fc.Arbitrary<Step> = fc.oneof(
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
    arbitrary: fc.record({
      k: fc.constant("handshake" as const),
      r: replica,
      stale: rarely,
      lsn,
      resync: resyncFacts,
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("resync_progress" as const),
      r: replica,
      stale: rarely,
      pass: fc.integer({ min: 1, max: 4 }),
      blocksLeft: fc.bigInt({ min: 0n, max: 50n }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("resync_commit" as const),
      r: replica,
      stale: rarely,
      baseUp: fc.bigInt({ min: 0n, max: 20n }),
      extra: fc.bigInt({ min: 0n, max: 20n }),
      /** Mostly a plausible commit (base ≥ fork), sometimes one below the fork. */
      wild: rarely,
    }),
    weight: 2,
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
  {
    arbitrary: fc.record({
      k: fc.constant("ready" as const),
      what: fc.constantFrom(
        "role_applied" as const,
        "shipper_configured" as const,
        "shipper_connected" as const,
      ),
    }),
    weight: 2,
  },
);

export interface World {
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

export function toEvent(w: World, s: Step): { ev: EngineEvent; stale: boolean } {
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
          ...(s.resync === null ? {} : { resync: s.resync }),
        },
        stale: s.stale,
      };
    case "resync_progress":
      return {
        ev: {
          type: "resync_progress",
          replicaId: target(w, s.r),
          sessionId: sid(s.r, s.stale),
          pass: s.pass,
          blocksLeft: s.blocksLeft,
          nowMs: w.nowMs,
        },
        stale: s.stale,
      };
    case "resync_commit": {
      const fork = w.engine.snapshot().senders.find((x) => x.replicaId === target(w, s.r))?.session
        ?.resync?.forkLsn;
      const base = fork === undefined || s.wild ? s.baseUp : fork + s.baseUp;
      return {
        ev: {
          type: "resync_committed",
          replicaId: target(w, s.r),
          sessionId: sid(s.r, s.stale),
          baseLsn: base,
          consistentLsn: base + s.extra,
          nowMs: w.nowMs,
        },
        stale: s.stale,
      };
    }
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
      // Always refused now (no plan truncates), so it must change nothing, like a stale event.
      return {
        ev: { type: "truncation_done", replicaId: target(w, s.r), sessionId: sid(s.r, false), lsn: s.lsn },
        stale: true,
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
    case "ready":
      return { ev: { type: s.what }, stale: false };
  }
}

type Snap = NonNullable<ReturnType<VolumeEngine["snapshot"]>["senders"][number]["session"]>;

/**
 * A running resync: the gate names it, the volume is not healthy, and it holds a WAL pin exactly in
 * its catch-up phase (from its base).
 */
function checkResync(w: World, s: Snap, reason: string): void {
  const r = s.resync!;
  expect(["transfer", "catchup"]).toContain(s.phase);
  expect(
    reason.startsWith(
      `active_resync_session phase=${s.phase} pass=${r.pass} blocks_left=${r.blocksLeft} fork=${r.forkLsn} `,
    ),
  ).toBe(true);
  const pins = [...w.port.held.values()].filter((p) => p.replicaId === s.replicaId);
  if (s.phase === "transfer") {
    expect(reason.endsWith("start=- target=-")).toBe(true);
    expect(pins).toEqual([]);
  } else {
    expect([s.startLsn, s.frozenTargetLsn]).toEqual([r.baseLsn, r.consistentLsn]);
    expect(r.baseLsn >= r.forkLsn && r.consistentLsn > r.baseLsn).toBe(true);
    expect(pins.map((p) => [p.kind, p.lsn])).toEqual([["wal", r.baseLsn]]);
  }
  expect(w.engine.snapshot().projection.mode.name).not.toBe("publish_healthy");
}

export function checkInvariants(w: World): void {
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
    if (s?.kind === "resync") checkResync(w, s, e.reason);
  }
  expect(new Set(snap.senders.map((s) => s.replicaId)).size).toBe(snap.senders.length);
  // Pins never outlive the session they were taken for.
  for (const pin of w.port.held.values()) expect(activeReplicas.has(pin.replicaId)).toBe(true);
}
