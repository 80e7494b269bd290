// Scenarios of the seed and invariant 32: the protocol execution state (seed) and the live-shipping gate.
import { describe, expect, it } from "vitest";
import {
  decideLiveShipping,
  deriveReplicaExecutionState,
  deriveVolumeExecutionState,
  ExecutionStateStore,
  type LiveShippingPolicy,
  makeReplicaId,
  RecoveryOrchestrator,
  Registry,
  SessionIdSource,
} from "../src/index";
import { catchingUp, ep, history } from "./helpers";

const PATH = "/data/vol-a.blk";
const VS2 = makeReplicaId(PATH, "vs-2");

function primaryAssigned(): { reg: Registry; o: RecoveryOrchestrator; store: ExecutionStateStore } {
  const reg = new Registry(PATH, new SessionIdSource());
  const o = new RecoveryOrchestrator(reg);
  o.processAssignment({
    volumeId: PATH,
    epoch: 1n,
    replicas: [{ replicaId: VS2, endpoint: ep() }],
    recoveryTargets: { [VS2]: "catchup" },
  });
  const store = new ExecutionStateStore();
  store.sync(PATH, reg.snapshot());
  return { reg, o, store };
}

/** A stand-in for the data-plane shipper: consults the policy before any dial or send. */
class FakeShipper {
  dials = 0;
  sent: bigint[] = [];
  constructor(
    readonly replicaId: string,
    private readonly policy: LiveShippingPolicy,
  ) {}
  ship(lsn: bigint): { shipped: boolean; reason: string } {
    const d = this.policy(this.replicaId, lsn);
    if (!d.allow) return { shipped: false, reason: d.reason };
    this.dials += 1;
    this.sent.push(lsn);
    return { shipped: true, reason: "" };
  }
}

describe("§8.7 protocol-aware execution", () => {
  it("89. ProtocolExecutionState_ActiveCatchUpBlocksLiveShipping (invariant 32)", () => {
    const { store } = primaryAssigned();
    const r = store.get(PATH)!.replicas.get(VS2)!;
    expect(r).toMatchObject({
      sessionKind: "catchup",
      sessionActive: true,
      liveEligible: false,
      sessionPhase: "init",
    });
    expect(r.reason.startsWith("active_catchup_session")).toBe(true);
    expect(store.policyFor(PATH)(VS2, 5n)).toEqual({ allow: false, reason: r.reason });
  });

  it("90. ProtocolExecutionState_InSyncSenderAllowsLiveShipping", () => {
    const { reg, store } = primaryAssigned();
    const policy = store.policyFor(PATH);
    reg.get(VS2)!.invalidateSession("test", "in_sync");
    store.sync(PATH, reg.snapshot());
    const r = store.get(PATH)!.replicas.get(VS2)!;
    expect(r).toMatchObject({
      senderState: "in_sync",
      sessionId: 0,
      sessionKind: "",
      sessionActive: false,
      liveEligible: true,
      reason: "",
    });
    expect(policy(VS2, 5n)).toEqual({ allow: true, reason: "" });
  });

  it("91. WALShipper_LiveShippingPolicyBlocksBeforeDial / AllowsShip", () => {
    const { reg, store } = primaryAssigned();
    const shipper = new FakeShipper(VS2, store.policyFor(PATH));
    expect(shipper.ship(7n).shipped).toBe(false);
    expect(shipper.dials).toBe(0);
    reg.get(VS2)!.invalidateSession("done", "in_sync");
    store.sync(PATH, reg.snapshot());
    expect(shipper.ship(8n)).toEqual({ shipped: true, reason: "" });
    expect(shipper.sent).toEqual([8n]);
  });

  it("the reason names the frozen target once catch-up began, else the handshake target", () => {
    const { reg, o, store } = primaryAssigned();
    o.executeRecovery(VS2, 70n, history());
    store.sync(PATH, reg.snapshot());
    expect(store.get(PATH)!.replicas.get(VS2)!.reason).toBe(
      "active_catchup_session phase=handshake start=70 target=100 recovered=70",
    );
    const s = reg.get(VS2)!;
    s.beginCatchUp(s.sessionId);
    s.recordCatchUpProgress(s.sessionId, 80n);
    const state = deriveReplicaExecutionState(s.snapshot());
    expect(state).toMatchObject({ frozenTargetLsn: 100n, recoveredTo: 80n, senderState: "catching_up" });
    expect(state.reason).toBe("active_catchup_session phase=catchup start=70 target=100 recovered=80");
  });

  it("rebuild sessions gate too", () => {
    const reg = new Registry(PATH, new SessionIdSource());
    reg.applyAssignment({
      volumeId: PATH,
      epoch: 1n,
      replicas: [{ replicaId: VS2, endpoint: ep() }],
      recoveryTargets: { [VS2]: "rebuild" },
    });
    const d = decideLiveShipping(deriveVolumeExecutionState(PATH, reg.snapshot()), VS2, 1n);
    expect(d.allow).toBe(false);
    expect(d.reason).toMatch(/^active_rebuild_session phase=init/);
  });

  it("unknown volume or replica ⇒ allow; other volumes' senders are ignored; empty volumes are dropped", () => {
    const store = new ExecutionStateStore();
    expect(store.policyFor("/nope")("x", 1n)).toEqual({ allow: true, reason: "" });
    const { s } = catchingUp(0n, 10n);
    const foreign = deriveVolumeExecutionState(PATH, [s.snapshot()]);
    expect(foreign.replicas.size).toBe(0);
    expect(store.sync(PATH, [s.snapshot()]).replicas.size).toBe(0);
    expect(store.get(PATH)).toBeUndefined();
    const { store: full } = primaryAssigned();
    expect(full.policyFor(PATH)(`${PATH}/other`, 1n).allow).toBe(true);
    full.remove(PATH);
    expect(full.policyFor(PATH)(VS2, 1n).allow).toBe(true);
  });

  it("one replica as well as many, sorted by replica ID; liveEligible is exactly !sessionActive", () => {
    const reg = new Registry(PATH, new SessionIdSource());
    const ids = ["vs-9", "vs-1", "vs-5"].map((s) => makeReplicaId(PATH, s));
    reg.applyAssignment({
      volumeId: PATH,
      epoch: 1n,
      replicas: ids.map((replicaId) => ({ replicaId, endpoint: ep() })),
      recoveryTargets: { [ids[0]!]: "catchup" },
    });
    const state = deriveVolumeExecutionState(PATH, reg.snapshot());
    expect([...state.replicas.keys()]).toEqual([...ids].sort());
    for (const r of state.replicas.values()) expect(r.liveEligible).toBe(!r.sessionActive);
    expect(state.replicas.get(ids[0]!)!.liveEligible).toBe(false);
  });

  it("a blocked replica without a reason string falls back to the LSN form", () => {
    const base = deriveReplicaExecutionState(catchingUp(0n, 5n).s.snapshot());
    const state = { volumeId: PATH, replicas: new Map([[VS2, { ...base, replicaId: VS2, reason: "" }]]) };
    expect(decideLiveShipping(state, VS2, 42n)).toEqual({
      allow: false,
      reason: "live_tail_not_allowed lsn=42",
    });
  });
});
