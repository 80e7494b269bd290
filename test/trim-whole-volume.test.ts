// A discard of a whole 1 TiB sparse file-backed volume (what mkfs and fstrim send) through the
// agent's Volume.Trim RPC, under sync_all with a replica: acknowledged and flushed, the agents stay
// up, their peak RSS grows by well under 64 MiB, the volume files' allocated size does not grow
// (the written data is punched out), every copy reads zeros, and all of it survives SIGKILL of both
// agents and a restart. Before trims were ranges this crashed the agent with an unhandled
// `wal_full: admission queue is full` (one 8 MiB piece per admission slot).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { allocatedBytes, discardBackend } from "@blockship/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { flush, read, trim, write } from "./support/io";
import {
  allocate,
  assign,
  MiB,
  primaryAssignment,
  replicaAssignment,
  replicasInSync,
  volumeStatus,
} from "./support/master";

const fleet = new AgentFleet();
let primary: AgentHandle;
let replica: AgentHandle;
const VOLUME = "trim-1t";
const TiB = 2 ** 40;
const BLOCK = 4096;
/** Where data is written before the trim: the first, a middle and the last MiB. */
const SPOTS = [0, TiB / 2 / BLOCK, TiB / BLOCK - 256];
const DATA = Buffer.alloc(MiB, 0x5a);

/** Peak resident set of a process (VmHWM), in bytes. */
function peakRssBytes(pid: number | undefined): number {
  if (pid === undefined) throw new Error("agent not running");
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error("no VmHWM");
  return Number(m[1]) * 1024;
}

const fileOf = (a: AgentHandle) => join(a.dataDir, "volumes", `${VOLUME}.blk`);

/** Waits until `agent`'s flusher has put everything up to `lsn` into its extent. */
async function checkpointed(agent: AgentHandle, lsn: bigint): Promise<void> {
  await waitFor(
    async () => BigInt((await volumeStatus(agent, VOLUME)).checkpoint_lsn) >= lsn,
    `${agent.serverId}: checkpoint at LSN ${lsn}`,
    60_000,
  );
}

async function expectZeros(agent: AgentHandle, what: string): Promise<void> {
  for (const lba of SPOTS) {
    const got = await read(agent, VOLUME, lba, DATA.length, { allowCopyRead: true });
    expect(got.equals(Buffer.alloc(DATA.length)), `${what}: lba ${lba} reads zeros`).toBe(true);
  }
}

beforeAll(async () => {
  [primary, replica] = await Promise.all([
    fleet.start({ kind: "primary", serverId: "trim-p" }),
    fleet.start({ kind: "replica", serverId: "trim-r" }),
  ]);
});

afterAll(async () => {
  await fleet.cleanup();
});

describe("trim of a whole 1 TiB volume", () => {
  it("is acknowledged, flushed to the replica, punches holes, and survives SIGKILL", async () => {
    showLogsOnFailure(fleet);
    // The helper is built by `npm ci`; without it this test would zero 1 TiB the slow way.
    expect(discardBackend().backend, discardBackend().detail).toBe("native");
    for (const a of [primary, replica])
      await allocate(a, { volumeId: VOLUME, sizeBytes: TiB, mode: "sync_all" });
    await assign(replica, replicaAssignment(VOLUME, 1, primary));
    await assign(primary, primaryAssignment(VOLUME, 1, [replica]));
    await waitFor(() => replicasInSync(primary, VOLUME, 1), "replica in sync");
    for (const lba of SPOTS) await write(primary, VOLUME, lba, DATA);
    await flush(primary, VOLUME);
    // The data in the extent too (not only in the WAL), so the trim has real blocks to punch out.
    for (const a of [primary, replica]) await checkpointed(a, BigInt(SPOTS.length));
    const allocatedBefore = [primary, replica].map((a) => allocatedBytes(fileOf(a)));
    const peakBefore = [primary, replica].map((a) => peakRssBytes(a.pid));

    const startedMs = performance.now();
    const res = await trim(primary, VOLUME, 0, TiB);
    const ackMs = performance.now() - startedMs;
    const flushed = await flush(primary, VOLUME);
    const flushedMs = performance.now() - startedMs;
    expect(BigInt(flushed.durable_lsn)).toBeGreaterThanOrEqual(BigInt(res.lsn));
    console.log(
      `1 TiB trim: acknowledged in ${ackMs.toFixed(0)} ms, flushed (sync_all) in ${flushedMs.toFixed(0)} ms`,
    );
    await expectZeros(primary, "primary");

    // The flusher of each copy punches the range out of its extent: the written MiB go away.
    for (const [i, a] of [primary, replica].entries()) {
      await checkpointed(a, BigInt(res.lsn));
      expect(allocatedBytes(fileOf(a)), `${a.serverId}: allocated after the trim`).toBeLessThan(
        allocatedBefore[i]! - 2 * MiB,
      );
    }
    const peakGrowth = [primary, replica].map((a, i) => peakRssBytes(a.pid) - peakBefore[i]!);
    console.log(`peak RSS growth: primary ${peakGrowth[0]! / MiB} MiB, replica ${peakGrowth[1]! / MiB} MiB`);
    for (const g of peakGrowth) expect(g).toBeLessThan(64 * MiB);

    await Promise.all([primary, replica].map((a) => a.kill("SIGKILL")));
    await Promise.all([primary, replica].map((a) => a.restart()));
    await assign(replica, replicaAssignment(VOLUME, 2, primary));
    await expectZeros(replica, "replica after SIGKILL");
    await assign(primary, primaryAssignment(VOLUME, 2, [replica]));
    await expectZeros(primary, "primary after SIGKILL");
    for (const [i, a] of [primary, replica].entries())
      expect(allocatedBytes(fileOf(a)), `${a.serverId}: allocated size`).toBeLessThan(allocatedBefore[i]!);
  }, 180_000);
});
