// One gate, one report: the policy the shippers consult and the answer the reports show come
// from LiveShippingGate.eligibility, in every case (session active, catch-up window, lost replica).
import type { ReplicaExecutionState, VolumeExecutionState } from "@blockship/engine";
import { describe, expect, it } from "vitest";
import { LiveShippingGate } from "../src/live-shipping-gate";
import { replicaExecutionToWire } from "../src/status";

const R = "v/r1";

function replica(extra: Partial<ReplicaExecutionState>): ReplicaExecutionState {
  return {
    replicaId: R,
    senderState: "in_sync",
    sessionId: 0n as never,
    sessionKind: "",
    sessionPhase: "",
    startLsn: 0n,
    targetLsn: 0n,
    frozenTargetLsn: 0n,
    recoveredTo: 0n,
    sessionActive: false,
    liveEligible: true,
    reason: "",
    ...extra,
  } as ReplicaExecutionState;
}

function setup(
  state: ReplicaExecutionState,
  opts: { windowTo?: number; lost?: boolean; verdict?: string } = {},
) {
  const execution: VolumeExecutionState = { volumeId: "v", replicas: new Map([[R, state]]) };
  const denied: string[] = [];
  const gate = new LiveShippingGate({
    execution: () => execution,
    catchUps: { windowTargetLsn: () => opts.windowTo ?? 0 },
    lost: { has: () => opts.lost === true },
    needsRebuildReason: () => opts.verdict,
    onDenied: (_id, reason) => denied.push(String(reason)),
  });
  const e = gate.eligibility(R);
  const wire = replicaExecutionToWire(state, e);
  return { gate, e, wire, denied };
}

const ACTIVE = "active_catchup_session phase=catchup start=4 target=9 recovered=4";

describe("LiveShippingGate: the policy and the report are one answer", () => {
  it("in sync, no session: eligible, every LSN allowed, reported eligible with no reason", () => {
    const { gate, e, wire } = setup(replica({}));
    expect(e).toEqual({ eligible: true, windowToLsn: 0, reason: "" });
    expect(gate.policy(R, 1_000_000)).toEqual({ allow: true });
    expect([wire.live_eligible, wire.reason]).toEqual([true, ""]);
  });

  it("session active (connecting): nothing is shipped; the report shows the denial reason", () => {
    const reason = "active_catchup_session phase=connecting start=0 target=0 recovered=0";
    const { gate, e, wire, denied } = setup(
      replica({ sessionActive: true, liveEligible: false, sessionPhase: "connecting", reason }),
    );
    expect(e).toEqual({ eligible: false, windowToLsn: 0, reason });
    expect(gate.policy(R, 1)).toEqual({ allow: false, reason });
    expect([wire.live_eligible, wire.reason]).toEqual([false, reason]);
    expect(denied).toEqual([reason]);
  });

  it("catch-up window: entries up to the frozen target pass, later ones wait; the report names the window", () => {
    const { gate, e, wire } = setup(
      replica({ sessionActive: true, liveEligible: false, sessionPhase: "catchup", reason: ACTIVE }),
      { windowTo: 9 },
    );
    const reason = `${ACTIVE}; catchup_window up to lsn 9`;
    expect(e).toEqual({ eligible: false, windowToLsn: 9, reason });
    expect(gate.policy(R, 9)).toEqual({ allow: true });
    expect(gate.policy(R, 10)).toEqual({ allow: false, reason });
    expect([wire.live_eligible, wire.reason]).toEqual([false, reason]);
  });

  it("lost replica without a session: denied, and reported as denied (the engine alone says eligible)", () => {
    const state = replica({ senderState: "disconnected" });
    const { gate, e, wire } = setup(state, { lost: true });
    expect(state.liveEligible).toBe(true);
    expect(e.eligible).toBe(false);
    expect(e.reason).toMatch(/^awaiting_catchup_session: v\/r1 was disconnected/);
    expect(gate.policy(R, 1)).toEqual({ allow: false, reason: e.reason });
    expect([wire.live_eligible, wire.reason]).toEqual([false, e.reason]);
  });

  it("lost replica the data plane condemned: its needs-rebuild verdict is the one reason", () => {
    const verdict =
      "needs_rebuild: divergent_history at LSN 2 (replica epoch 1 crc 1, primary epoch 2 crc 2)";
    const { gate, e, wire } = setup(replica({ senderState: "needs_rebuild" }), { lost: true, verdict });
    expect(e).toEqual({ eligible: false, windowToLsn: 0, reason: verdict });
    expect(gate.policy(R, 1)).toEqual({ allow: false, reason: verdict });
    expect([wire.live_eligible, wire.reason]).toEqual([false, verdict]);
  });

  it("an unknown replica is not gated (the engine does not track it)", () => {
    const { gate } = setup(replica({}));
    expect(gate.eligibility("v/other")).toEqual({ eligible: true, windowToLsn: 0, reason: "" });
  });
});
