// The one recovery decider: one test per row of the README's decision table, and properties over
// arbitrary facts (exactly one plan; never a resync over untracked changes; never a WAL catch-up
// over a recycled gap or a diverged copy).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decideRecovery, gapRetained, type RecoveryFacts, type ResyncFacts } from "../src/index";

const C = 100n;

function facts(f: bigint, tail: bigint, resync?: Partial<ResyncFacts>): RecoveryFacts {
  const base: RecoveryFacts = { replicaDurableLsn: f, committedLsn: C, tailLsn: tail, headLsn: 120n };
  if (resync === undefined) return base;
  return {
    ...base,
    resync: {
      forkLsn: f < C ? f : C,
      replicaHeadLsn: f,
      primaryChangeBaseLsn: 0n,
      replicaChangeBaseLsn: 0n,
      replicaResyncPending: false,
      ...resync,
    },
  };
}

describe("decideRecovery without resync facts (an old peer): the WAL-only rules", () => {
  it.each([
    ["F == C", 100n, 0n, "zero_gap", /^zero_gap$/],
    ["gap retained, nothing recycled", 70n, 0n, "catchup", /^gap_within_retention: need LSN 71-100/],
    ["gap retained, F == T", 50n, 50n, "catchup", /^gap_within_retention/],
    ["gap recycled", 49n, 50n, "needs_rebuild", /^gap_beyond_retention: need LSN 50 but tail=50, head=120/],
    ["replica ahead: never cut back", 105n, 0n, "needs_rebuild", /^replica_ahead: .*\(no_common_history\)$/],
  ] as const)("%s ⇒ %s", (_n, f, tail, kind, reason) => {
    const d = decideRecovery(facts(f, tail));
    expect(d.kind).toBe(kind);
    expect(d.reason).toMatch(reason);
  });

  it("a catch-up replays (F, C]; zero-gap names C; the head is only explanation", () => {
    expect(decideRecovery(facts(70n, 0n))).toMatchObject({ kind: "catchup", startLsn: 70n, targetLsn: C });
    expect(decideRecovery(facts(100n, 0n))).toMatchObject({ kind: "zero_gap", lsn: C });
    const noHead = decideRecovery({ replicaDurableLsn: 10n, committedLsn: C, tailLsn: 50n });
    expect(noHead.reason).toBe("gap_beyond_retention: need LSN 11 but tail=50");
  });
});

describe("decideRecovery with resync facts", () => {
  it.each([
    ["in sync, not diverged", facts(100n, 0n, {}), "zero_gap", /^zero_gap$/],
    ["gap retained, fork = replica head", facts(70n, 0n, {}), "catchup", /^gap_within_retention/],
    [
      "gap retained, fork above replica head",
      facts(70n, 0n, { forkLsn: 70n, replicaHeadLsn: 60n }),
      "catchup",
      /^gap_within_retention/,
    ],
    [
      "gap recycled, common history",
      facts(10n, 50n, {}),
      "resync",
      /^resync from fork 10: gap_beyond_retention: need LSN 11 but tail=50/,
    ],
    [
      "gap recycled, replica untracked (not diverged: not needed)",
      facts(10n, 50n, { replicaChangeBaseLsn: undefined }),
      "resync",
      /^resync from fork 10/,
    ],
    [
      "diverged after the fork, gap retained",
      facts(70n, 0n, { forkLsn: 60n }),
      "resync",
      /^resync from fork 60: diverged: replica head 70 > fork 60/,
    ],
    ["diverged, F == C", facts(100n, 0n, { forkLsn: 90n }), "resync", /^resync from fork 90: diverged/],
    [
      "replica ahead (F > C)",
      facts(105n, 0n, { forkLsn: 98n }),
      "resync",
      /^resync from fork 98: replica_ahead: durable 105 > committed 100/,
    ],
    [
      "replica ahead with fork = C",
      facts(105n, 0n, { forkLsn: 100n, replicaHeadLsn: 100n }),
      "resync",
      /^resync from fork 100: replica_ahead/,
    ],
    [
      "resync pending, in sync otherwise",
      facts(100n, 0n, { replicaResyncPending: true }),
      "resync",
      /^resync from fork 100: resync_pending/,
    ],
    [
      "resync pending, replica untracked",
      facts(70n, 0n, { replicaResyncPending: true, replicaChangeBaseLsn: undefined }),
      "resync",
      /resync_pending/,
    ],
    [
      "no common history",
      facts(70n, 0n, { forkLsn: undefined }),
      "needs_rebuild",
      /^no_common_history: diverged/,
    ],
    [
      "no common history, pending",
      facts(70n, 0n, { forkLsn: undefined, replicaResyncPending: true }),
      "needs_rebuild",
      /^no_common_history: resync_pending/,
    ],
    [
      "primary base above the fork",
      facts(10n, 50n, { primaryChangeBaseLsn: 11n }),
      "needs_rebuild",
      /^untracked_changes: primary base 11 > fork 10 \(gap_beyond_retention/,
    ],
    ["primary base = fork", facts(10n, 50n, { primaryChangeBaseLsn: 10n }), "resync", /^resync from fork 10/],
    [
      "diverged, replica base above the fork",
      facts(70n, 0n, { forkLsn: 60n, replicaChangeBaseLsn: 61n }),
      "needs_rebuild",
      /^untracked_changes: replica base 61 > fork 60 \(diverged/,
    ],
    [
      "diverged, replica base = fork",
      facts(70n, 0n, { forkLsn: 60n, replicaChangeBaseLsn: 60n }),
      "resync",
      /^resync from fork 60/,
    ],
    [
      "diverged, replica untracked",
      facts(70n, 0n, { forkLsn: 60n, replicaChangeBaseLsn: undefined }),
      "needs_rebuild",
      /^untracked_changes: replica tracks no changes \(diverged/,
    ],
  ] as const)("%s ⇒ %s", (_n, f, kind, reason) => {
    const d = decideRecovery(f);
    expect(d.kind).toBe(kind);
    expect(d.reason).toMatch(reason);
    if (d.kind === "resync") expect(d.forkLsn).toBe(f.resync!.forkLsn);
  });
});

const lsn = fc.bigInt({ min: 0n, max: 200n });
const arbFacts: fc.Arbitrary<RecoveryFacts> = fc
  .record({
    f: lsn,
    c: lsn,
    tail: lsn,
    withResync: fc.boolean(),
    fork: fc.option(lsn, { nil: undefined }),
    head: lsn,
    pBase: lsn,
    rBase: fc.option(lsn, { nil: undefined }),
    pending: fc.boolean(),
  })
  .map((x) => ({
    replicaDurableLsn: x.f,
    committedLsn: x.c,
    tailLsn: x.tail,
    ...(x.withResync
      ? {
          resync: {
            forkLsn: x.fork,
            replicaHeadLsn: x.head,
            primaryChangeBaseLsn: x.pBase,
            replicaChangeBaseLsn: x.rBase,
            replicaResyncPending: x.pending,
          },
        }
      : {}),
  }));

function diverged(f: RecoveryFacts): boolean {
  const r = f.resync;
  if (r === undefined) return f.replicaDurableLsn > f.committedLsn;
  return r.forkLsn === undefined || r.forkLsn < r.replicaHeadLsn || f.replicaDurableLsn > f.committedLsn;
}

describe("decideRecovery properties", () => {
  it("exactly one plan, deterministic, with a reason", () => {
    fc.assert(
      fc.property(arbFacts, (f) => {
        const d = decideRecovery(f);
        expect(["zero_gap", "catchup", "resync", "needs_rebuild"]).toContain(d.kind);
        expect(d.reason).not.toBe("");
        expect(decideRecovery(f)).toEqual(d);
      }),
      { numRuns: 2000 },
    );
  });

  it("resync never when a tracking base is above the fork (or no fork), always from the fork", () => {
    fc.assert(
      fc.property(arbFacts, (f) => {
        const d = decideRecovery(f);
        if (d.kind !== "resync") return;
        const r = f.resync!;
        expect(r.forkLsn).toBeDefined();
        expect(d.forkLsn).toBe(r.forkLsn);
        expect(r.primaryChangeBaseLsn <= d.forkLsn).toBe(true);
        if (diverged(f)) {
          expect(r.replicaChangeBaseLsn).toBeDefined();
          expect(r.replicaChangeBaseLsn! <= d.forkLsn).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("catch-up / zero-gap never over a recycled gap, a diverged copy or a pending resync", () => {
    fc.assert(
      fc.property(arbFacts, (f) => {
        const d = decideRecovery(f);
        if (d.kind !== "catchup" && d.kind !== "zero_gap") return;
        expect(diverged(f)).toBe(false);
        expect(f.resync?.replicaResyncPending ?? false).toBe(false);
        if (d.kind === "catchup") {
          expect(gapRetained(f)).toBe(true);
          expect([d.startLsn, d.targetLsn]).toEqual([f.replicaDurableLsn, f.committedLsn]);
          expect(d.startLsn < d.targetLsn).toBe(true);
        } else expect(f.replicaDurableLsn).toBe(f.committedLsn);
      }),
      { numRuns: 2000 },
    );
  });

  it("a rebuild only when no resync is possible; never one when the WAL or the blocks suffice", () => {
    fc.assert(
      fc.property(arbFacts, (f) => {
        const d = decideRecovery(f);
        const r = f.resync;
        if (r === undefined) {
          const walOnly = f.replicaDurableLsn === f.committedLsn || (!diverged(f) && gapRetained(f));
          expect(d.kind === "needs_rebuild").toBe(!walOnly);
          return;
        }
        const tracked =
          r.forkLsn !== undefined &&
          r.primaryChangeBaseLsn <= r.forkLsn &&
          (!diverged(f) || (r.replicaChangeBaseLsn !== undefined && r.replicaChangeBaseLsn <= r.forkLsn));
        const inSync = f.replicaDurableLsn === f.committedLsn;
        const walEnough = !r.replicaResyncPending && !diverged(f) && (inSync || gapRetained(f));
        expect(d.kind === "needs_rebuild").toBe(!walEnough && !tracked);
      }),
      { numRuns: 2000 },
    );
  });
});
