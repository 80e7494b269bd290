// Edge cases on every RPC of real agent processes (Volume, Control incl. recovery, Replication,
// Rebuild, Health, reflection): extreme numbers, garbage IDs and enums, cancelled and garbage
// streams, and conflicting calls on one volume in parallel. Each answer has its documented code and
// stable reason (never UNKNOWN, never INTERNAL for bad input); after each group both agents are
// alive, Health answers SERVING, a write + flush + read works, and the process guard never fired
// (no RPC path needed the backstop).
import { randomBytes } from "node:crypto";
import { deadlineIn, REASON_CODES, unary } from "@blockship/rpc";
import { bufCurl } from "@blockship/rpc/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { type BadInputContext, NOT_FOUND } from "./support/bad-input-common";
import {
  controlEdgeCases,
  firstMessage,
  P53,
  replicationEdgeCases,
  U64_MAX,
  volumeEdgeCases,
} from "./support/edge-battery-cases";
import { showLogsOnFailure } from "./support/failures";
import { expectAliveAndUnguarded, METRICS_ARGS } from "./support/guard-check";
import { flush, read, write } from "./support/io";
import {
  allocate,
  assign,
  MiB,
  primaryAssignment,
  replicaAssignment,
  replicasInSync,
} from "./support/master";

const fleet = new AgentFleet();
let primary: AgentHandle;
let replica: AgentHandle;
const VOLUME = "edge";
const SIZE_BYTES = 16 * MiB;
const BLOCKS = SIZE_BYTES / 4096;
const EPOCH = 5;
const ctx = (): BadInputContext => ({ primary, replica, volume: VOLUME, blocks: BLOCKS, epoch: EPOCH });
const METRICS = [...METRICS_ARGS];

beforeAll(async () => {
  [primary, replica] = await Promise.all([
    fleet.start({ kind: "primary", serverId: "edge-p", args: METRICS }),
    fleet.start({ kind: "replica", serverId: "edge-r", args: METRICS }),
  ]);
  await allocate(primary, { volumeId: VOLUME, sizeBytes: SIZE_BYTES, mode: "sync_all" });
  await allocate(replica, { volumeId: VOLUME, sizeBytes: SIZE_BYTES, mode: "sync_all" });
  await assign(replica, replicaAssignment(VOLUME, EPOCH, primary));
  await assign(primary, primaryAssignment(VOLUME, EPOCH, [replica]));
  await waitFor(() => replicasInSync(primary, VOLUME, 1), "replica in sync");
}, 60_000);

afterAll(async () => {
  await fleet.cleanup();
});

interface Outcome {
  readonly code: number | undefined;
  readonly reason: string | undefined;
}

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    await p;
    return { code: 0, reason: undefined };
  } catch (err) {
    const e = err as { code?: unknown; metadata?: { get(k: string): unknown[] }; reason?: unknown };
    const fromMeta = e.metadata?.get("reason")[0];
    const reason =
      typeof fromMeta === "string" ? fromMeta : typeof e.reason === "string" ? e.reason : undefined;
    return { code: typeof e.code === "number" ? e.code : undefined, reason };
  }
}

/** Both agents alive, SERVING, a replicated write + flush + read works; the guard never fired. */
async function stillServing(): Promise<void> {
  await expectAliveAndUnguarded([primary, replica]);
  // A faked Ship stream from "the assigned primary" may have replaced the real one: let it reconnect.
  await waitFor(() => replicasInSync(primary, VOLUME, 1), "replica back in sync", 20_000);
  const probe = randomBytes(8192);
  await write(primary, VOLUME, 10, probe);
  await flush(primary, VOLUME); // sync_all: the replica has it too
  expect((await read(primary, VOLUME, 10, 8192)).equals(probe)).toBe(true);
  expect((await read(replica, VOLUME, 10, 8192, { allowCopyRead: true })).equals(probe)).toBe(true);
}

function expectNoInternal(got: readonly [string, Outcome][]): void {
  const bad = got.filter(([, o]) => o.code === 2 || o.code === 13 || o.code === undefined);
  expect(bad, "UNKNOWN / INTERNAL / no code").toEqual([]);
}

describe("RPC edge-case battery on real agents: right code and reason, the agents keep serving", () => {
  for (const [group, cases] of [
    ["Volume", volumeEdgeCases],
    ["Control", controlEdgeCases],
    ["Replication + Rebuild", replicationEdgeCases],
  ] as const) {
    it(`${group}: extreme numbers, garbage ids and enums`, async () => {
      showLogsOnFailure(fleet);
      const got: [string, Outcome][] = [];
      const want: [string, Outcome][] = [];
      for (const [name, call, code, reason] of cases(ctx())) {
        got.push([name, await outcome(call())]);
        want.push([name, { code, reason: code === 0 ? undefined : reason }]);
      }
      expectNoInternal(got);
      expect(got).toEqual(want);
      await stillServing();
    });
  }

  it("Health and reflection: unknown services, a cancelled Watch, listing through reflection", async () => {
    showLogsOnFailure(fleet);
    const unknown = await outcome(
      unary((cb) => primary.health.Check({ service: "no.such.Service".repeat(500) }, deadlineIn(5_000), cb)),
    );
    expect(unknown.code).toBe(NOT_FOUND);
    for (let i = 0; i < 5; i++) {
      const watch = primary.health.Watch({ service: i % 2 === 0 ? "" : "nope" });
      watch.on("error", () => undefined); // CANCELLED after cancel()
      await firstMessage(watch);
    }
    const listed = await bufCurl({ address: primary.address, listServices: true });
    expect(listed.stdout).toContain("blockship.v1.Volume");
    const described = await bufCurl({
      address: primary.address,
      method: "blockship.v1.Volume/Read",
      data: { volume_id: VOLUME, lba: U64_MAX, length_bytes: 4096 },
    });
    expect(described.stderr).toContain("out_of_range");
    await stillServing();
  });

  it("streams: cancelled mid-way, garbage WriteStream messages, flooding then hanging up", async () => {
    showLogsOnFailure(fleet);
    // A WriteStream cancelled after its first answer, while more writes (with flushes) are in flight.
    for (let round = 0; round < 4; round++) {
      const s = primary.volume.WriteStream(deadlineIn(10_000));
      s.on("error", () => undefined);
      const first = new Promise<void>((resolve) => s.once("data", () => resolve()));
      for (let seq = 1; seq <= 32; seq++) {
        s.write({
          volume_id: VOLUME,
          seq: String(seq),
          flush: seq % 4 === 0,
          writes: [{ lba: String(64 + seq), data: randomBytes(4096) }],
        });
      }
      await first;
      s.cancel();
    }
    // Garbage inside a WriteStream: each must end the stream with a clean status.
    const garbage: [Record<string, unknown>[], string][] = [
      [
        [{ volume_id: VOLUME, seq: "1", writes: [{ lba: U64_MAX, data: randomBytes(4096) }] }],
        "out_of_range",
      ],
      [
        [{ volume_id: VOLUME, seq: "1", writes: [{ lba: "0", data: randomBytes(4095) }] }],
        "invalid_argument",
      ],
      [[{ volume_id: VOLUME, seq: "1", writes: [{ lba: "0" }] }], "invalid_argument"],
      [
        [{ volume_id: VOLUME, expected_epoch: U64_MAX, writes: [{ lba: "0", data: randomBytes(4096) }] }],
        "invalid_argument",
      ],
      [
        [
          {
            volume_id: VOLUME,
            seq: P53,
            writes: Array.from({ length: 4097 }, () => ({ lba: "0", data: Buffer.alloc(0) })),
          },
        ],
        "invalid_argument",
      ],
      [[{ volume_id: "a/b" }], "invalid_argument"],
      [
        [
          { volume_id: VOLUME, writes: [] },
          { volume_id: "nope", writes: [] },
        ],
        "invalid_argument",
      ],
    ];
    for (const [messages, reason] of garbage) {
      const s = primary.volume.WriteStream(deadlineIn(10_000));
      const res = await outcome(
        new Promise<void>((resolve, reject) => {
          s.on("data", () => undefined);
          s.once("error", reject);
          s.once("end", resolve);
          for (const m of messages) s.write(m);
          s.end();
        }),
      );
      expect([res.reason, res.code]).toEqual([reason, REASON_CODES[reason as keyof typeof REASON_CODES]]);
    }
    // A client that floods a WriteStream without reading its answers (they back up behind HTTP/2
    // flow control), then hangs up.
    const flood = primary.volume.WriteStream(deadlineIn(10_000));
    flood.on("error", () => undefined);
    for (let seq = 1; seq <= 3000; seq++) flood.write({ volume_id: VOLUME, seq: String(seq), writes: [] });
    // The first answer arrived (the rest back up behind it: nobody reads them), then it hangs up.
    await new Promise<void>((resolve) => flood.once("readable", resolve));
    flood.cancel();
    // WatchStatus and Rebuild.StreamBase cancelled right after they start.
    for (let i = 0; i < 5; i++) {
      const w = primary.control.WatchStatus({ interval_ms: 100 });
      w.on("error", () => undefined);
      await firstMessage(w);
      const b = primary.rebuild.StreamBase({
        volume_id: VOLUME,
        epoch: String(EPOCH),
        replica_server_id: "nobody",
      });
      b.on("error", () => undefined);
      b.on("data", () => undefined);
      b.cancel();
    }
    // A Ship stream to the replica cancelled mid-way (before and after its first message).
    for (let i = 0; i < 4; i++) {
      const s = replica.replication.Ship();
      s.on("error", () => undefined);
      s.on("data", () => undefined);
      if (i % 2 === 1)
        s.write({
          volume_id: VOLUME,
          epoch: "1",
          primary_server_id: "nobody",
          replica_server_id: replica.serverId,
        });
      s.cancel();
    }
    await stillServing();
  });
});
