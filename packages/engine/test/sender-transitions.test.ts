// The sender transition table, one test per row.
import { describe, expect, it } from "vitest";
import { makeHandshakeResult, ProtocolError, type ReplicaState, Sender, SessionIdSource } from "../src/index";
import { catchingUp, ep, history, newSender, rebuilding } from "./helpers";

describe("sender transition table (§2.2)", () => {
  it("row 1: create ⇒ disconnected, no session, epoch of the assignment", () => {
    const s = new Sender("vol/vs-2", ep(), 7n, new SessionIdSource());
    expect(s.state).toBe("disconnected");
    expect(s.epoch).toBe(7n);
    expect(s.sessionSnapshot()).toBeNull();
  });

  it("row 2: attach leaves the sender state unchanged, session in init", () => {
    const s = newSender();
    const id = s.attachSession(1n, "catchup");
    expect(id).toBeGreaterThan(0);
    expect(s.state).toBe("disconnected");
    expect(s.sessionSnapshot()?.phase).toBe("init");
  });

  it("row 3: beginConnect ⇒ connecting", () => {
    const s = newSender();
    const id = s.attachSession(1n, "catchup");
    s.beginConnect(id);
    expect(s.state).toBe("connecting");
    expect(s.sessionSnapshot()?.phase).toBe("connecting");
    expect(() => s.beginConnect(id)).toThrow(ProtocolError);
  });

  it("row 4: recordHandshake sets the range, rejects target < start and wrong phase", () => {
    const s = newSender();
    const id = s.attachSession(1n, "catchup");
    expect(() => s.recordHandshake(id, 0n, 10n)).toThrow(/invalid_phase/);
    s.beginConnect(id);
    expect(() => s.recordHandshake(id, 20n, 10n)).toThrow(/invalid_range/);
    s.recordHandshake(id, 10n, 20n);
    const snap = s.sessionSnapshot();
    expect(snap?.phase).toBe("handshake");
    expect([snap?.startLsn, snap?.targetLsn, snap?.recoveredTo]).toEqual([10n, 20n, 10n]);
    expect(s.state).toBe("connecting");
  });

  it.each([
    ["zero_gap", 100n, 100n, 100n],
    ["catchup", 70n, 70n, 100n],
  ] as const)(
    "row 5: handshake outcome %s (F=%s) ⇒ range and state unchanged",
    (outcome, f, start, target) => {
      const s = newSender();
      const id = s.attachSession(1n, "catchup");
      s.beginConnect(id);
      expect(s.recordHandshakeWithOutcome(id, makeHandshakeResult(history(), f))).toBe(outcome);
      const snap = s.sessionSnapshot();
      expect([snap?.startLsn, snap?.targetLsn, snap?.kind]).toEqual([start, target, "catchup"]);
      expect(s.state).toBe("connecting");
    },
  );

  it("row 6: handshake outcome needs_rebuild ⇒ session dropped, sender needs_rebuild, no error", () => {
    const s = newSender();
    const id = s.attachSession(1n, "catchup");
    s.beginConnect(id);
    expect(s.recordHandshakeWithOutcome(id, makeHandshakeResult(history({ tailLsn: 50n }), 10n))).toBe(
      "needs_rebuild",
    );
    expect(s.state).toBe("needs_rebuild");
    expect(s.sessionSnapshot()).toBeNull();
  });

  it("row 6b: handshake with outcome outside connecting is rejected", () => {
    const s = newSender();
    const id = s.attachSession(1n, "catchup");
    expect(() => s.recordHandshakeWithOutcome(id, makeHandshakeResult(history(), 1n))).toThrow(
      /invalid_phase/,
    );
  });

  it("row 7: beginCatchUp ⇒ catching_up and freezes the target", () => {
    const { s } = catchingUp(10n, 50n);
    expect(s.state).toBe("catching_up");
    expect(s.sessionSnapshot()?.frozenTargetLsn).toBe(50n);
    expect(s.sessionSnapshot()?.phase).toBe("catchup");
  });

  it("row 7b: beginCatchUp outside handshake is rejected", () => {
    const s = newSender();
    const id = s.attachSession(1n, "catchup");
    s.beginConnect(id);
    expect(() => s.beginCatchUp(id)).toThrow(/invalid_phase/);
  });

  it("row 8: completeSessionById ⇒ in_sync, session detached", () => {
    const { s, id } = catchingUp(10n, 50n);
    s.recordCatchUpProgress(id, 50n);
    expect(s.completeSessionById(id)).toBe(true);
    expect(s.state).toBe("in_sync");
    expect(s.sessionSnapshot()).toBeNull();
    expect(s.completeSessionById(id)).toBe(false);
  });

  it("row 9: completeRebuild ⇒ in_sync", () => {
    const { s, id } = rebuilding(60n);
    s.selectRebuildSource(id, 0n, false, 60n);
    s.beginRebuildTransfer(id);
    s.recordRebuildTransferProgress(id, 60n);
    expect(s.completeRebuild(id)).toBe(60n);
    expect(s.state).toBe("in_sync");
    expect(s.sessionSnapshot()).toBeNull();
  });

  it("row 10: budget violation ⇒ needs_rebuild, session detached", () => {
    const { s, id } = catchingUp(0n, 50n, { maxDurationMs: 5, maxEntries: 0n, progressDeadlineMs: 0 }, 1);
    expect(s.checkBudget(id, 3)).toBeNull();
    expect(s.checkBudget(id, 10)).toBe("duration_exceeded");
    expect(s.state).toBe("needs_rebuild");
    expect(s.sessionSnapshot()).toBeNull();
  });

  it("row 11: higher epoch with a session ⇒ disconnected, session invalidated", () => {
    const { s, id } = catchingUp(0n, 50n);
    expect(s.updateEpoch(2n)).toBe(true);
    expect(s.state).toBe("disconnected");
    expect(s.sessionSnapshot()).toBeNull();
    expect(() => s.recordCatchUpProgress(id, 1n)).toThrow(/no_active_session/);
  });

  it("row 12: higher epoch without a session keeps in_sync", () => {
    const { s, id } = catchingUp(0n, 5n);
    s.recordCatchUpProgress(id, 5n);
    s.completeSessionById(id);
    expect(s.updateEpoch(2n)).toBe(false);
    expect(s.state).toBe("in_sync");
    expect(s.epoch).toBe(2n);
  });

  it.each([1n, 2n])("row 13: epoch %s <= current (2) is a no-op (invariant 11)", (e) => {
    const s = newSender("r1", 2n);
    const id = s.attachSession(2n, "catchup");
    expect(s.updateEpoch(e)).toBe(false);
    expect(s.epoch).toBe(2n);
    expect(s.sessionSnapshot()?.id).toBe(id);
  });

  it("row 14: endpoint change with a session ⇒ disconnected", () => {
    const { s } = catchingUp(0n, 50n);
    expect(s.updateEndpoint(ep("10.0.0.9:9000"))).toBe(true);
    expect(s.state).toBe("disconnected");
    expect(s.endpoint.dataAddr).toBe("10.0.0.9:9000");
  });

  it("row 15: endpoint change without a session keeps the state and stores the endpoint", () => {
    const { s, id } = catchingUp(0n, 5n);
    s.recordCatchUpProgress(id, 5n);
    s.completeSessionById(id);
    expect(s.updateEndpoint(ep("a", "b", 3))).toBe(false);
    expect(s.state).toBe("in_sync");
    expect(s.endpoint).toEqual(ep("a", "b", 3));
    expect(s.updateEndpoint(ep("a", "b", 3))).toBe(false);
  });

  it.each(["disconnected", "degraded", "in_sync", "needs_rebuild"] as ReplicaState[])(
    "row 16: invalidateSession sets target state %s (works when stopped)",
    (target) => {
      const { s } = catchingUp(0n, 50n);
      s.stop();
      s.invalidateSession("host", target);
      expect(s.state).toBe(target);
      expect(s.sessionSnapshot()).toBeNull();
    },
  );

  it("row 17: stop keeps the state, drops the session, and makes everything else a no-op or error", () => {
    const { s, id } = catchingUp(0n, 50n);
    s.stop();
    s.stop();
    expect(s.stopped).toBe(true);
    expect(s.state).toBe("catching_up");
    expect(s.sessionSnapshot()).toBeNull();
    expect(() => s.attachSession(1n, "catchup")).toThrow(/sender_stopped/);
    expect(s.supersedeSession("catchup", "x")).toBe(0);
    expect(s.updateEpoch(5n)).toBe(false);
    expect(s.updateEndpoint(ep("z"))).toBe(false);
    expect(() => s.beginConnect(id)).toThrow(/sender_stopped/);
    expect(s.completeSessionById(id)).toBe(false);
  });

  it("authority check order: stopped → no session → mismatch", () => {
    const s = newSender();
    expect(() => s.beginConnect(1)).toThrow(/no_active_session/);
    const id = s.attachSession(1n, "catchup");
    expect(() => s.beginConnect(id + 1)).toThrow(/session_id_mismatch/);
    s.stop();
    expect(() => s.beginConnect(id)).toThrow(/sender_stopped/);
  });

  it("attach at a different epoch than the sender's is rejected", () => {
    const s = newSender("r1", 2n);
    expect(() => s.attachSession(1n, "catchup")).toThrow(/epoch_mismatch/);
    expect(() => s.attachSession(3n, "catchup")).toThrow(/epoch_mismatch/);
  });

  it("supersede invalidates the old session and creates one at the sender epoch", () => {
    const s = newSender("r1", 4n);
    const a = s.attachSession(4n, "catchup");
    const b = s.supersedeSession("rebuild", "assignment_intent");
    expect(b).not.toBe(a);
    expect(s.sessionSnapshot()).toMatchObject({ id: b, kind: "rebuild", epoch: 4n, phase: "init" });
  });

  it("session IDs come from the engine instance counter and are never reused", () => {
    const ids = new SessionIdSource();
    const a = newSender("a", 1n, ids);
    const b = newSender("b", 1n, ids);
    const seen = [
      a.attachSession(1n, "catchup"),
      b.attachSession(1n, "catchup"),
      a.supersedeSession("catchup", "x"),
    ];
    expect(seen).toEqual([1, 2, 3]);
    expect(new SessionIdSource().next()).toBe(1);
  });

  describe("resync rows", () => {
    const resync = { kind: "resync" as const, forkLsn: 40n, reason: "test" };
    function planned(): { s: Sender; id: number } {
      const s = newSender();
      const id = s.attachSession(1n, "catchup");
      s.beginConnect(id);
      expect(s.recordHandshakeDecision(id, resync)).toBe("resync");
      return { s, id };
    }

    it("handshake plans a resync: the catch-up session becomes kind resync, still connecting, no range", () => {
      const { s, id } = planned();
      expect(s.sessionSnapshot()).toMatchObject({
        kind: "resync",
        phase: "handshake",
        startLsn: 0n,
        targetLsn: 0n,
      });
      expect(s.sessionSnapshot()?.resync).toMatchObject({ forkLsn: 40n, pass: 0, committed: false });
      expect(s.state).toBe("connecting");
      // Not completable from the handshake (unlike a zero gap), and not a WAL catch-up.
      expect(s.completeSessionById(id)).toBe(false);
      expect(() => s.beginCatchUp(id)).toThrow(/wrong_session_kind/);
    });

    it("beginResync → transfer (catching_up); progress validated; commit → catchup with the frozen consistent target", () => {
      const { s, id } = planned();
      expect(() => s.recordResyncProgress(id, 1, 1n)).toThrow(/invalid_phase/);
      s.beginResync(id);
      expect([s.state, s.sessionSnapshot()?.phase]).toEqual(["catching_up", "transfer"]);
      expect(() => s.beginResync(id)).toThrow(/invalid_phase/);
      expect(() => s.recordResyncProgress(id, 0, 1n)).toThrow(/invalid_argument/);
      expect(() => s.recordResyncProgress(id, 1.5, 1n)).toThrow(/invalid_argument/);
      s.recordResyncProgress(id, 2, 9n);
      expect(() => s.recordResyncProgress(id, 1, 1n)).toThrow(/progress_regression/);
      expect(() => s.recordCatchUpProgress(id, 41n)).toThrow(/invalid_phase/);
      expect(s.commitResync(id, 50n, 60n, 7)).toBe(false);
      expect(s.sessionSnapshot()).toMatchObject({
        phase: "catchup",
        startLsn: 50n,
        frozenTargetLsn: 60n,
        recoveredTo: 50n,
      });
      expect(() => s.commitResync(id, 50n, 60n, 7)).toThrow(/invalid_phase/);
      s.recordCatchUpProgress(id, 60n);
      expect(s.completeSessionById(id)).toBe(true);
      expect([s.state, s.sessionId]).toEqual(["in_sync", 0]);
    });

    it("resync steps on other kinds are refused; an operator-made resync session behaves like a catch-up", () => {
      const { s, id } = catchingUp(0n, 10n);
      expect(() => s.beginResync(id)).toThrow(/wrong_session_kind/);
      const r = rebuilding(10n);
      expect(() => r.s.commitResync(r.id, 1n, 1n, 1)).toThrow(/wrong_session_kind/);
      const o = newSender();
      const oid = o.attachSession(1n, "resync");
      o.beginConnect(oid);
      o.recordHandshake(oid, 5n, 10n);
      o.beginCatchUp(oid);
      expect(o.sessionSnapshot()).toMatchObject({ kind: "resync", phase: "catchup", resync: null });
      expect(() => o.recordResyncProgress(oid, 1, 1n)).toThrow(/wrong_session_kind/);
    });

    it("a resync has no budget while transferring; its catch-up stall ends it disconnected", () => {
      const s = newSender();
      const id = s.attachSession(1n, "catchup", {
        budget: { maxDurationMs: 10, maxEntries: 1n, progressDeadlineMs: 0 },
      });
      s.beginConnect(id);
      s.recordHandshakeDecision(id, resync);
      s.beginResync(id);
      expect(s.checkBudget(id, 1_000_000)).toBeNull();
      s.commitResync(id, 40n, 100n, 1_000_000);
      s.recordCatchUpProgress(id, 90n, 1_000_001); // 50 entries: no entries budget for a resync
      expect(s.checkBudget(id, 1_000_005)).toBeNull();
      expect(s.checkBudget(id, 1_000_011)).toBe("duration_exceeded");
      expect([s.state, s.sessionId]).toEqual(["disconnected", 0]);
    });
  });
});
