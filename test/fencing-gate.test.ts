// One gate, one report, through real agent processes: while a primary has lost its replica, the
// replica's live_eligible and reason in GetProtocolState and GetStatus are the live gate's answer
// (the one the shipper gets): never "eligible" while the shipper is denied.
import type { GetProtocolStateResponse__Output, VolumeStatus__Output } from "@blockship/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { flush, write } from "./support/io";
import {
  allocate,
  assign,
  primaryAssignment,
  protocolState,
  replicaAssignment,
  replicasInSync,
  volumeStatus,
} from "./support/master";

const fleet = new AgentFleet();
let primary: AgentHandle;
let replica: AgentHandle;
const VOLUME = "gate";
const REPLICA_ID = `${VOLUME}/gate-r`;
/** Bound on the snapshots a test takes while it looks for a state (each is three RPCs). */
const MAX_SNAPSHOTS = 2_000;

beforeAll(async () => {
  [primary, replica] = await Promise.all([
    fleet.start({ kind: "primary", serverId: "gate-p", args: ["--barrier-timeout-ms", "1000"] }),
    fleet.start({ kind: "replica", serverId: "gate-r", args: ["--barrier-timeout-ms", "1000"] }),
  ]);
});

afterAll(async () => {
  await fleet.cleanup();
});

interface Snapshot {
  readonly engine: GetProtocolStateResponse__Output["replicas"][number];
  readonly status: VolumeStatus__Output["replicas"][number];
}

/**
 * A snapshot in which the protocol state did not change while GetStatus was read (the same answer
 * before and after), so the two reports can be compared; the first that satisfies `want`.
 */
async function stableSnapshot(what: string, want: (s: Snapshot) => boolean): Promise<Snapshot> {
  const key = (e: Snapshot["engine"] | undefined) =>
    JSON.stringify([e?.session_id, e?.session_active, e?.sender_state, e?.live_eligible, e?.reason]);
  for (let i = 0; i < MAX_SNAPSHOTS; i++) {
    const before = (await protocolState(primary, VOLUME)).replicas.find((r) => r.replica_id === REPLICA_ID);
    const status = (await volumeStatus(primary, VOLUME)).replicas.find((r) => r.replica_id === REPLICA_ID);
    const after = (await protocolState(primary, VOLUME)).replicas.find((r) => r.replica_id === REPLICA_ID);
    if (before === undefined || after === undefined || status === undefined) continue;
    if (key(before) !== key(after)) continue;
    const s = { engine: after, status };
    if (want(s)) return s;
  }
  throw new Error(`no stable snapshot with ${what} in ${MAX_SNAPSHOTS} tries`);
}

function expectOneAnswer(s: Snapshot): void {
  expect([s.status.live_eligible, s.status.reason]).toEqual([s.engine.live_eligible, s.engine.reason]);
}

describe("one gate, one report", () => {
  it("a lost replica is reported exactly as the gate treats it: not eligible, awaiting its catch-up session", async () => {
    showLogsOnFailure(fleet);
    await allocate(primary, { volumeId: VOLUME });
    await allocate(replica, { volumeId: VOLUME });
    await assign(replica, replicaAssignment(VOLUME, 1, primary));
    await assign(primary, primaryAssignment(VOLUME, 1, [replica]));
    await waitFor(() => replicasInSync(primary, VOLUME, 1), "replica in sync");
    const healthy = await stableSnapshot(
      "an in-sync replica",
      (s) => s.engine.sender_state === "SENDER_STATE_IN_SYNC",
    );
    expect([healthy.engine.live_eligible, healthy.engine.reason]).toEqual([true, ""]);
    expect(healthy.status.live_eligible).toBe(true);

    await replica.kill("SIGKILL");
    await write(primary, VOLUME, 0, Buffer.alloc(4096, 1));
    await flush(primary, VOLUME); // best_effort: local
    // Between the primary's retries the engine has no session for the replica; the gate still
    // denies it the live tail until a catch-up session plans its gap.
    const lost = await stableSnapshot(
      "the lost replica between sessions",
      (s) => !s.engine.session_active && s.engine.sender_state !== "SENDER_STATE_IN_SYNC",
    );
    expect(lost.engine.live_eligible).toBe(false);
    expect(lost.engine.reason).toMatch(/^awaiting_catchup_session: gate\/gate-r was disconnected/);
    expectOneAnswer(lost);
    // Back: the catch-up session brings it in sync and the gate (and every report) opens again.
    await replica.restart();
    await assign(replica, replicaAssignment(VOLUME, 1, primary));
    await waitFor(() => replicasInSync(primary, VOLUME, 1), "replica back in sync", 30_000);
    const back = await stableSnapshot(
      "the replica in sync again",
      (s) => s.engine.sender_state === "SENDER_STATE_IN_SYNC",
    );
    expect([back.engine.live_eligible, back.engine.reason]).toEqual([true, ""]);
    expectOneAnswer(back);
  });
});
