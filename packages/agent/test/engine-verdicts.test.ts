// The engine's own needs-rebuild verdicts reach the data plane (engine-verdicts.ts), driven through
// the real VolumeEngine: a recovery handshake whose gap the primary already recycled, and a copy
// holding records beyond the primary's head (truncation is never done here), end the replica's
// session in needs_rebuild. Exactly that transition is handed to the shipper — once, with the
// engine's reason — and a sender the engine merely still holds as needs_rebuild is not re-condemned.
import {
  type EngineCommand,
  type EngineEvent,
  type PinResult,
  type RetainedHistory,
  type RetentionPort,
  VolumeEngine,
  type VolumeExecutionState,
} from "@blockship/engine";
import { describe, expect, it } from "vitest";
import { engineNeedsRebuildReason, newlyCondemned } from "../src/engine-verdicts";

const V = "v";
const R = "v/r1";

class Retention implements RetentionPort {
  private nextPin = 1;
  constructor(public history: RetainedHistory) {}
  retainedHistory(): RetainedHistory {
    return this.history;
  }
  pinWal(replicaId: string, lsn: bigint): PinResult {
    return { ok: true, pin: { kind: "wal", replicaId, lsn, pinId: this.nextPin++ } };
  }
  pinSnapshot(): PinResult {
    return { ok: false, reason: "rebuild_is_pulled_by_the_copy" };
  }
  pinFullBase(): PinResult {
    return { ok: false, reason: "rebuild_is_pulled_by_the_copy" };
  }
  release(): void {}
}

/** A primary engine at epoch 1 with one replica whose recovery session waits for its handshake. */
function primaryWithSession(history: { headLsn: bigint; tailLsn: bigint }) {
  const engine = new VolumeEngine({
    volumeId: V,
    retention: new Retention({
      ...history,
      committedLsn: history.headLsn,
      checkpointLsn: history.tailLsn,
      checkpointTrusted: true,
    }),
  });
  const run = (event: EngineEvent) => {
    const before = engine.snapshot().execution;
    const out = engine.apply(event);
    return { before, after: out.execution, commands: out.commands as readonly EngineCommand[] };
  };
  const replicas = [{ serverId: "r1", dataAddr: "127.0.0.1:1", ctrlAddr: "127.0.0.1:1" }];
  const { commands } = run({ type: "assignment", epoch: 1n, role: "primary", replicas });
  const connect = commands.find((c) => c.type === "connect_replica");
  if (connect?.type !== "connect_replica") throw new Error("no connect_replica");
  return { engine, run, sessionId: connect.sessionId };
}

const nobodyKnows = () => false;

function senderState(e: VolumeExecutionState): string | undefined {
  return e.replicas.get(R)?.senderState;
}

describe("engine needs-rebuild verdicts are handed to the data plane", () => {
  it("a handshake gap already recycled from the WAL: condemned once, with the engine's reason", () => {
    const { engine, run, sessionId } = primaryWithSession({ headLsn: 12n, tailLsn: 10n });
    const step = run({ type: "handshake", replicaId: R, sessionId, replicaDurableLsn: 3n, nowMs: 1 });
    expect(senderState(step.after)).toBe("needs_rebuild");
    expect(newlyCondemned(step.before, step.after, nobodyKnows)).toEqual([R]);
    const reason = engineNeedsRebuildReason(engine.log.forReplica(R), R);
    expect(reason).toMatch(/^needs_rebuild: gap_beyond_retention: need LSN 4 but tail=10, head=12/);

    // Later events find the engine still holding needs_rebuild: not a new verdict.
    const later = run({ type: "committed_advanced", committedLsn: 12n });
    expect(senderState(later.after)).toBe("needs_rebuild");
    expect(newlyCondemned(later.before, later.after, nobodyKnows)).toEqual([]);
  });

  it("a copy holding records beyond the primary's head (no fork point known): condemned at the handshake", () => {
    const { engine, run, sessionId } = primaryWithSession({ headLsn: 12n, tailLsn: 0n });
    const step = run({ type: "handshake", replicaId: R, sessionId, replicaDurableLsn: 13n, nowMs: 1 });
    // Never cut back: no catch-up is planned, the replica waits for a rebuild (or, with the
    // histories' resync facts, a resync from the fork point).
    expect(step.commands.filter((c) => c.type === "start_catchup")).toEqual([]);
    expect(senderState(step.after)).toBe("needs_rebuild");
    expect(newlyCondemned(step.before, step.after, nobodyKnows)).toEqual([R]);
    const reason = engineNeedsRebuildReason(engine.log.forReplica(R), R);
    expect(reason).toMatch(/^needs_rebuild: replica_ahead: durable 13 > committed 12/);
  });

  it("a verdict the data plane already holds is not handed over again", () => {
    const { run, sessionId } = primaryWithSession({ headLsn: 12n, tailLsn: 10n });
    const step = run({ type: "handshake", replicaId: R, sessionId, replicaDurableLsn: 3n, nowMs: 1 });
    expect(newlyCondemned(step.before, step.after, (id) => id === R)).toEqual([]);
  });

  it("a zero gap or a gap within the WAL is never condemned", () => {
    for (const durable of [12n, 11n]) {
      const { run, sessionId } = primaryWithSession({ headLsn: 12n, tailLsn: 10n });
      const step = run({ type: "handshake", replicaId: R, sessionId, replicaDurableLsn: durable, nowMs: 1 });
      expect(senderState(step.after)).not.toBe("needs_rebuild");
      expect(newlyCondemned(step.before, step.after, nobodyKnows)).toEqual([]);
    }
  });

  it("the reason falls back to a stable text when the log names none", () => {
    expect(engineNeedsRebuildReason([], R)).toBe("needs_rebuild: no catch-up can bring the replica back");
    expect(
      engineNeedsRebuildReason(
        [{ seq: 1, replicaId: R, event: "budget_escalated", detail: "progress_stalled" }],
        R,
      ),
    ).toBe("needs_rebuild: catchup_budget_progress_stalled");
  });
});
