// The end of every recovery test: the copies converged and hold exactly what the client saw
// acknowledged by flushes.
import { reasonOf } from "@blockship/rpc";
import { expect } from "vitest";
import { type AgentHandle, waitFor } from "./agents";
import { firstDifference, flush, readAll, type VolumeModel } from "./io";
import { protocolState, replicasInSync, volumeStatus } from "./master";

/**
 * Waits until every replica is in sync, flushes, waits until each confirmed the primary's head as
 * durable, then compares every copy (primary included) byte for byte with the flushed model.
 */
export async function expectCopiesHold(
  primary: AgentHandle,
  replicas: readonly AgentHandle[],
  model: VolumeModel,
): Promise<void> {
  const volumeId = model.volumeId;
  await waitFor(() => replicasInSync(primary, volumeId, replicas.length), `${volumeId}: replicas in sync`);
  await model.flush(primary);
  const head = (await volumeStatus(primary, volumeId)).head_lsn;
  await waitFor(
    async () => (await volumeStatus(primary, volumeId)).replicas.every((r) => r.durable_lsn === head),
    `${volumeId}: every replica durable at the head ${head}`,
  );
  for (const copy of [primary, ...replicas]) {
    const bytes = await readAll(copy, volumeId, model.sizeBytes);
    expect(
      firstDifference(bytes, model.flushed),
      `${volumeId} on ${copy.serverId}: first differing byte`,
    ).toBe(-1);
  }
}

/** The primary's count of committed resyncs of the volume (its --metrics-listen endpoint). */
export async function resyncsCommitted(primary: AgentHandle, volumeId: string): Promise<number> {
  if (primary.metricsAddress === undefined) throw new Error(`${primary.serverId} serves no metrics`);
  const text = await (await fetch(`http://${primary.metricsAddress}/metrics`)).text();
  const line = text
    .split("\n")
    .find(
      (l) =>
        l.startsWith("blockship_resync_sessions{") &&
        l.includes(`volume="${volumeId}"`) &&
        l.includes('outcome="committed"'),
    );
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

export interface ResyncWatchOptions {
  readonly timeoutMs?: number;
  /** Runs on every poll while the copy is not yet back (e.g. a flush whose success is checked). */
  readonly whileWaiting?: () => Promise<void>;
}

/**
 * Waits until the primary has the copy in sync (and eligible for the live tail) again, by a
 * changed-block resync: meanwhile the copy is never reported NEEDS_REBUILD, afterwards the
 * primary counts a committed resync and the copy was not rebuilt. Returns the gate reasons seen
 * while a session ran.
 */
export async function untilResynced(
  primary: AgentHandle,
  volumeId: string,
  copy: AgentHandle,
  opts: ResyncWatchOptions = {},
): Promise<Set<string>> {
  const reasons = new Set<string>();
  await waitFor(
    async () => {
      await opts.whileWaiting?.();
      const st = (await volumeStatus(primary, volumeId)).replicas.find((r) => r.server_id === copy.serverId);
      expect(st?.sender_state, "the copy was reported NEEDS_REBUILD").not.toBe("SENDER_STATE_NEEDS_REBUILD");
      const ps = (await protocolState(primary, volumeId)).replicas.find((r) =>
        r.replica_id.endsWith(copy.serverId),
      );
      if (ps?.session_active) reasons.add(ps.reason);
      return st?.sender_state === "SENDER_STATE_IN_SYNC" && st.live_eligible;
    },
    `${volumeId}: ${copy.serverId} resynced`,
    opts.timeoutMs ?? 60_000,
  );
  expect(await resyncsCommitted(primary, volumeId), "no resync was committed").toBeGreaterThanOrEqual(1);
  expect((await volumeStatus(copy, volumeId)).last_rebuild, "the copy was rebuilt").toBeNull();
  return reasons;
}

/**
 * A sync_all flush on the primary while the copy comes back: it fails, or — if it succeeds, which
 * counts the copy — the copy holds what `holds` checks (a flush must never count a copy that lacks
 * the flushed history).
 */
export function flushNeverLies(primary: AgentHandle, volumeId: string, holds: () => Promise<void>) {
  return async () => {
    const reason = await flush(primary, volumeId).then(() => undefined, reasonOf);
    if (reason === undefined) await holds();
    else expect(reason).toBe("durability_barrier_failed");
  };
}
