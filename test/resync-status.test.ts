// What a changed-block resync shows while it runs (real agent processes, SIGKILL, a rate limit so
// the transfer lasts long enough to be sampled): GetProtocolState names the session kind resync in
// phase transfer (then catchup) with its pass and blocks left, GetStatus shows the same progress
// and, once committed, the replica's last resync; the resynced copy reports its own marker.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blockctl, type CliRun } from "../packages/cli/test/helpers";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { BLOCK_BYTES, prng, VolumeModel, write } from "./support/io";
import {
  allocate,
  assign,
  MiB,
  primaryAssignment,
  protocolState,
  replicaAssignment,
  replicasInSync,
  volumeStatus,
} from "./support/master";
import { expectCopiesHold } from "./support/recovery";

const fleet = new AgentFleet();
let a: AgentHandle;
let b: AgentHandle;
const SIZE_BYTES = 16 * MiB;
const SMALL_WAL_BYTES = 2 * MiB;
const RESYNC_TIMEOUT_MS = 90_000;

beforeAll(async () => {
  [a, b] = await Promise.all([
    // ~6 MiB of changed blocks at 2 MiB/s: the transfer lasts a few seconds.
    fleet.start({ kind: "primary", serverId: "rss-a", args: ["--rebuild-rate-limit", "2MiB"] }),
    fleet.start({ kind: "replica", serverId: "rss-b" }),
  ]);
});

afterAll(async () => {
  await fleet.cleanup();
});

describe("resync observability (real agents)", () => {
  it("GetProtocolState and GetStatus show the resync session's kind, phase, pass and blocks left", async () => {
    showLogsOnFailure(fleet);
    const volumeId = "rss-away";
    for (const x of [a, b])
      await allocate(x, {
        volumeId,
        sizeBytes: SIZE_BYTES,
        walSizeBytes: SMALL_WAL_BYTES,
        mode: "best_effort",
      });
    await assign(b, replicaAssignment(volumeId, 1, a));
    await assign(a, primaryAssignment(volumeId, 1, [b]));
    await waitFor(() => replicasInSync(a, volumeId, 1), "b in sync");
    const model = new VolumeModel(volumeId, SIZE_BYTES);
    await model.randomOps(a, 10, prng(7));
    await model.flush(a);
    await b.kill("SIGKILL");
    const chunk = 32;
    for (let i = 0; i < 48; i++) {
      const lba = (i * chunk * 7) % (SIZE_BYTES / BLOCK_BYTES - chunk);
      const data = Buffer.alloc(chunk * BLOCK_BYTES, i + 1);
      await write(a, volumeId, lba, data);
      data.copy(model.acked, lba * BLOCK_BYTES);
      if (i % 8 === 7) await model.flush(a);
    }
    await model.flush(a);
    await b.restart();
    await assign(b, replicaAssignment(volumeId, 1, a));

    const phases = new Set<string>();
    let sawTransfer = false;
    let sawStatusProgress = false;
    let sawCopyMarker = false;
    // blockctl recovery follow, started once the session is there (non-TTY: plain progress lines).
    let followed: Promise<CliRun> | undefined;
    await waitFor(
      async () => {
        const ps = (await protocolState(a, volumeId)).replicas.find((r) => r.replica_id.endsWith(b.serverId));
        if (ps?.session_active && ps.session_kind === "SESSION_KIND_RESYNC") {
          phases.add(ps.session_phase);
          followed ??= blockctl(["--addr", a.address, "recovery", "follow", volumeId, b.serverId]);
          expect(ps.resync, "a resync session carries its progress").not.toBeNull();
          if (ps.session_phase === "SESSION_PHASE_TRANSFER" && (ps.resync?.pass ?? 0) >= 1) {
            sawTransfer = true;
            expect(ps.reason).toMatch(
              /^active_resync_session phase=transfer pass=\d+ blocks_left=\d+ fork=\d+/,
            );
            expect(ps.reason).toContain(`blocks_left=${ps.resync?.blocks_left}`);
          }
        } else expect(ps?.resync ?? null).toBeNull();
        const st = (await volumeStatus(a, volumeId)).replicas.find((r) => r.server_id === b.serverId);
        if (st?.resync != null && st.resync.pass >= 1) sawStatusProgress = true;
        const copy = await volumeStatus(b, volumeId).catch(() => undefined);
        if (copy !== undefined && copy.resync_phase !== "") {
          sawCopyMarker = true;
          expect(["transfer", "catchup"]).toContain(copy.resync_phase);
        }
        return st?.sender_state === "SENDER_STATE_IN_SYNC" && st.live_eligible;
      },
      `${volumeId}: ${b.serverId} resynced`,
      RESYNC_TIMEOUT_MS,
    );
    expect(phases.has("SESSION_PHASE_TRANSFER"), [...phases].join(",")).toBe(true);
    expect(sawTransfer).toBe(true);
    expect(sawStatusProgress).toBe(true);
    expect(sawCopyMarker).toBe(true);
    expect(followed, "blockctl follow was started").toBeDefined();
    const run = await (followed as Promise<CliRun>);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/resync session \d+ (transfer|catchup)/);
    expect(run.stdout).toContain("completed");

    const st = (await volumeStatus(a, volumeId)).replicas.find((r) => r.server_id === b.serverId);
    expect(st?.resync ?? null, "no resync progress once in sync").toBeNull();
    expect(st?.last_resync).not.toBeNull();
    expect(Number(st?.last_resync?.passes)).toBeGreaterThanOrEqual(1);
    expect(Number(st?.last_resync?.sent_bytes)).toBeGreaterThanOrEqual(48 * BLOCK_BYTES);
    expect(Number(st?.last_resync?.base_lsn)).toBeGreaterThan(0);
    const copy = await volumeStatus(b, volumeId);
    expect(copy.resync_phase).toBe("");
    expect(copy.last_rebuild, "the copy was rebuilt").toBeNull();
    await expectCopiesHold(a, [b], model);
  });
});
