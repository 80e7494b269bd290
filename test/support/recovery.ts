// The end of every recovery test: the copies converged and hold exactly what the client saw
// acknowledged by flushes.
import { expect } from "vitest";
import { type AgentHandle, waitFor } from "./agents";
import { firstDifference, readAll, type VolumeModel } from "./io";
import { replicasInSync, volumeStatus } from "./master";

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
