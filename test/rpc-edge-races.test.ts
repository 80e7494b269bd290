// Conflicting calls on one volume in parallel batches, on real agent processes: allocate, assign,
// delete, write, trim, flush, read, WriteStream, status and recovery calls race each other on the
// primary while the replica's copy is assigned and deleted under it. Whatever wins, every answer is
// OK or a documented code with its stable reason (never UNKNOWN, never INTERNAL); afterwards both
// agents are alive and SERVING, the process guard never fired, and the volume works again.
import { randomBytes } from "node:crypto";
import { deadlineIn, REASON_CODES, unary } from "@blockship/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { expectAliveAndUnguarded, METRICS_ARGS } from "./support/guard-check";
import { flush, prng, read, write } from "./support/io";
import {
  allocate,
  assign,
  assignAll,
  MiB,
  primaryAssignment,
  replicaAssignment,
  replicasInSync,
} from "./support/master";

const fleet = new AgentFleet();
let primary: AgentHandle;
let replica: AgentHandle;
const VOLUME = "race";
const SPEC = { volumeId: VOLUME, sizeBytes: 8 * MiB, walSizeBytes: 4 * MiB, mode: "sync_all" } as const;
const ROUNDS = 12;
const CALL_MS = 10_000;

beforeAll(async () => {
  [primary, replica] = await Promise.all([
    fleet.start({
      kind: "primary",
      serverId: "race-p",
      args: [...METRICS_ARGS, "--barrier-timeout-ms", "1000"],
    }),
    fleet.start({ kind: "replica", serverId: "race-r", args: [...METRICS_ARGS] }),
  ]);
}, 60_000);

afterAll(async () => {
  await fleet.cleanup();
});

interface Answer {
  readonly call: string;
  readonly code: number;
  readonly reason: string | undefined;
}

/** Runs a call and records its status; a per-item batch status counts as the call's answer. */
async function answer(call: string, p: Promise<unknown>): Promise<Answer> {
  try {
    const res = (await p) as { results?: { status?: { code: number; reason: string } }[] } | undefined;
    const item = res?.results?.find((r) => r.status !== undefined && r.status.code !== 0)?.status;
    return item === undefined
      ? { call, code: 0, reason: undefined }
      : { call, code: item.code, reason: item.reason };
  } catch (err) {
    const e = err as { code?: unknown; metadata?: { get(k: string): unknown[] } };
    const reason = e.metadata?.get("reason")[0];
    return {
      call,
      code: typeof e.code === "number" ? e.code : -1,
      reason: typeof reason === "string" ? reason : undefined,
    };
  }
}

/** A WriteStream of `n` one-block writes (the last one flushes), ended by the client. */
function writeStream(agent: AgentHandle, n: number, lba: number): Promise<void> {
  const s = agent.volume.WriteStream(deadlineIn(CALL_MS));
  return new Promise<void>((resolve, reject) => {
    s.on("data", () => undefined);
    s.once("error", reject);
    s.once("end", resolve);
    for (let i = 0; i < n; i++) {
      s.write({
        volume_id: VOLUME,
        seq: String(i + 1),
        flush: i === n - 1,
        writes: [{ lba: String(lba + i), data: randomBytes(4096) }],
      });
    }
    s.end();
  });
}

/** One batch of conflicting calls, all started at once (order shuffled by `rand`). */
function conflictingBatch(epoch: number, rand: () => number): Promise<Answer>[] {
  const p = primary;
  const v = { volume_id: VOLUME };
  const recoveryReq = { ...v, replica_id: `${VOLUME}/${replica.serverId}`, epoch: String(epoch) };
  const calls: [string, () => Promise<unknown>][] = [
    ["allocate(P)", () => allocate(p, SPEC)],
    ["allocate(R)", () => allocate(replica, SPEC)],
    ["assign replica(R)", () => assignAll(replica, [replicaAssignment(VOLUME, epoch, p)])],
    [
      "assign primary(P)",
      () => assignAll(p, [primaryAssignment(VOLUME, epoch, [replica], { lease_ttl_ms: 30_000 })]),
    ],
    [
      "write",
      () => write(p, VOLUME, Math.floor(rand() * 1000), randomBytes(4096 * (1 + Math.floor(rand() * 8)))),
    ],
    ["write 2", () => write(p, VOLUME, 0, randomBytes(64 * 1024))],
    [
      "trim",
      () =>
        unary((cb) =>
          p.volume.Trim({ ...v, lba: "0", length_bytes: String(4 * MiB) }, deadlineIn(CALL_MS), cb),
        ),
    ],
    ["flush", () => flush(p, VOLUME)],
    ["flush 2", () => flush(p, VOLUME)],
    ["read", () => read(p, VOLUME, 0, 8192)],
    ["read copy(R)", () => read(replica, VOLUME, 0, 8192, { allowCopyRead: true })],
    ["writeStream", () => writeStream(p, 8, 100)],
    ["getInfo", () => unary((cb) => p.volume.GetInfo(v, deadlineIn(CALL_MS), cb))],
    [
      "getStatus",
      () => unary((cb) => p.control.GetStatus({ volume_ids: [VOLUME] }, deadlineIn(CALL_MS), cb)),
    ],
    ["protocolState", () => unary((cb) => p.control.GetProtocolState(v, deadlineIn(CALL_MS), cb))],
    [
      "startRecovery",
      () =>
        unary((cb) =>
          p.control.StartRecovery({ ...recoveryReq, kind: "RECOVERY_KIND_CATCHUP" }, deadlineIn(CALL_MS), cb),
        ),
    ],
    ["cancelRecovery", () => unary((cb) => p.control.CancelRecovery(recoveryReq, deadlineIn(CALL_MS), cb))],
    [
      "renew",
      () =>
        unary((cb) =>
          p.control.RenewLeases(
            { grants: [{ ...v, epoch: String(epoch), lease_ttl_ms: 30_000 }] },
            deadlineIn(CALL_MS),
            cb,
          ),
        ),
    ],
    ["delete(P)", () => unary((cb) => p.control.DeleteVolume(v, deadlineIn(CALL_MS), cb))],
    ["delete(R)", () => unary((cb) => replica.control.DeleteVolume(v, deadlineIn(CALL_MS), cb))],
  ];
  // Deletes only in every other round (the rest race assignment against I/O on a live pair).
  const chosen = calls.filter(([name]) => !name.startsWith("delete") || epoch % 2 === 0);
  for (let i = chosen.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [chosen[i], chosen[j]] = [chosen[j] as (typeof chosen)[number], chosen[i] as (typeof chosen)[number]];
  }
  return chosen.map(([name, fn]) => answer(name, fn()));
}

/** An answer is OK, or a canonical reason with its canonical code (and never INTERNAL). */
function misfits(answers: readonly Answer[]): Answer[] {
  return answers.filter((a) => {
    if (a.code === 0) return false;
    if (a.reason === undefined || !Object.hasOwn(REASON_CODES, a.reason) || a.reason === "internal")
      return true;
    return REASON_CODES[a.reason as keyof typeof REASON_CODES] !== a.code;
  });
}

describe("conflicting calls on one volume in parallel batches", () => {
  it(`${ROUNDS} rounds of allocate / assign / delete / write / trim / flush / read / WriteStream / recovery at once`, async () => {
    showLogsOnFailure(fleet);
    const rand = prng(13);
    const seen = new Map<string, number>();
    for (let round = 1; round <= ROUNDS; round++) {
      const answers = await Promise.all(conflictingBatch(round, rand));
      expect(misfits(answers), `round ${round}`).toEqual([]);
      for (const a of answers) {
        const key = `${a.code === 0 ? "OK" : a.reason}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      await expectAliveAndUnguarded([primary, replica]);
    }
    // The races did race: some calls failed with a documented reason, some succeeded.
    expect(seen.get("OK") ?? 0).toBeGreaterThan(0);
    expect([...seen.keys()].length).toBeGreaterThan(1);

    // The volume works again once the master's assignments settle.
    await allocate(primary, SPEC);
    await allocate(replica, SPEC);
    const epoch = ROUNDS + 1;
    await assign(replica, replicaAssignment(VOLUME, epoch, primary));
    await assign(primary, primaryAssignment(VOLUME, epoch, [replica]));
    await waitFor(() => replicasInSync(primary, VOLUME, 1), "replica in sync after the races", 20_000);
    const probe = randomBytes(16 * 1024);
    await write(primary, VOLUME, 7, probe);
    await flush(primary, VOLUME);
    expect((await read(primary, VOLUME, 7, probe.length)).equals(probe)).toBe(true);
    expect((await read(replica, VOLUME, 7, probe.length, { allowCopyRead: true })).equals(probe)).toBe(true);
    await expectAliveAndUnguarded([primary, replica]);
  });
});
