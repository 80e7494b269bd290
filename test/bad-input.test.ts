// Bad input on every RPC of real agent processes → the documented gRPC code and reason; after each
// case the agents keep serving (health SERVING, a valid write/read works) and the volume is intact.
import { randomBytes } from "node:crypto";
import {
  closeClient,
  createVolumeClient,
  deadlineIn,
  grpcCodeOf,
  type RenewLeasesResponse__Output,
  reasonOf,
  unary,
} from "@blockship/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import {
  type BadInputContext,
  controlCases,
  FAILED_PRECONDITION,
  INVALID_ARGUMENT,
  NOT_FOUND,
  RESOURCE_EXHAUSTED,
  volumeCases,
} from "./support/bad-input-cases";
import { replicationCases } from "./support/bad-input-replication-cases";
import { showLogsOnFailure } from "./support/failures";
import { flush, patternBytes, prng, read, write } from "./support/io";
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
const VOLUME = "bad";
const SIZE_BYTES = 16 * MiB;
const BLOCKS = SIZE_BYTES / 4096;
const EPOCH = 3;
const ctx = (): BadInputContext => ({ primary, replica, volume: VOLUME, blocks: BLOCKS, epoch: EPOCH });
/** Written and flushed before the first case; must read back identically after every case. */
const original = patternBytes(64 * 4096, prng(7));

beforeAll(async () => {
  [primary, replica] = await Promise.all([
    fleet.start({ kind: "primary", serverId: "bad-p" }),
    fleet.start({ kind: "replica", serverId: "bad-r" }),
  ]);
  await allocate(primary, { volumeId: VOLUME, sizeBytes: SIZE_BYTES, mode: "sync_all" });
  await allocate(replica, { volumeId: VOLUME, sizeBytes: SIZE_BYTES, mode: "sync_all" });
  await assign(replica, replicaAssignment(VOLUME, EPOCH, primary));
  await assign(primary, primaryAssignment(VOLUME, EPOCH, [replica]));
  await waitFor(() => replicasInSync(primary, VOLUME, 1), "replica in sync");
  await write(primary, VOLUME, 0, original);
  await flush(primary, VOLUME);
});

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
    return { code: grpcCodeOf(err), reason: reasonOf(err) };
  }
}

/** Both agents still serve, the volume is intact on both copies, and a new write replicates. */
async function stillServingAndIntact(): Promise<void> {
  for (const agent of [primary, replica]) {
    const health = await unary<{ status: string }>((cb) =>
      agent.health.Check({ service: "" }, deadlineIn(5_000), cb),
    );
    expect(health.status).toBe("SERVING");
    const copy = { allowCopyRead: agent === replica };
    expect((await read(agent, VOLUME, 0, original.length, copy)).equals(original)).toBe(true);
  }
  const probe = randomBytes(4096);
  await write(primary, VOLUME, BLOCKS - 1, probe);
  await flush(primary, VOLUME); // sync_all: the replica confirmed it
  expect((await read(replica, VOLUME, BLOCKS - 1, 4096, { allowCopyRead: true })).equals(probe)).toBe(true);
}

describe("bad input on every RPC → documented code and reason; the agents keep serving", () => {
  for (const [group, cases] of [
    ["Control", controlCases],
    ["Volume", volumeCases],
    ["Replication", replicationCases],
  ] as const) {
    it(`${group}`, async () => {
      showLogsOnFailure(fleet);
      const got: [string, Outcome][] = [];
      const want: [string, Outcome][] = [];
      for (const [name, call, code, reason] of cases(ctx())) {
        got.push([name, await outcome(call())]);
        want.push([name, { code, reason }]);
      }
      expect(got).toEqual(want);
      await stillServingAndIntact();
    });
  }

  it("ApplyAssignments: per-item failures (missing id, unknown volume, role out of range, epoch 0, epoch regression) leave the batch's valid items applied", async () => {
    showLogsOnFailure(fleet);
    await allocate(primary, { volumeId: "items", sizeBytes: MiB * 4, walSizeBytes: MiB });
    const results = await assignAll(primary, [
      { epoch: "1", role: "ROLE_PRIMARY", lease_ttl_ms: 1000 },
      primaryAssignment("nope", 1, []),
      { ...primaryAssignment(VOLUME, EPOCH, [replica]), role: 99 as unknown as "ROLE_PRIMARY" },
      primaryAssignment(VOLUME, 0, [replica]),
      primaryAssignment(VOLUME, EPOCH - 1, [replica]),
      primaryAssignment("items", 1, []),
    ]);
    expect(results.map((r) => [r.volume_id, r.status?.code, r.status?.reason])).toEqual([
      ["", INVALID_ARGUMENT, "invalid_argument"],
      ["nope", NOT_FOUND, "volume_not_found"],
      [VOLUME, INVALID_ARGUMENT, "invalid_argument"],
      [VOLUME, INVALID_ARGUMENT, "invalid_argument"],
      [VOLUME, FAILED_PRECONDITION, "epoch_regression"],
      ["items", 0, ""],
    ]);
    const renewals = await unary<RenewLeasesResponse__Output>((cb) =>
      primary.control.RenewLeases(
        {
          grants: [
            { volume_id: "nope", epoch: "1", lease_ttl_ms: 1000 },
            { volume_id: VOLUME, epoch: String(EPOCH), lease_ttl_ms: 0 },
            { volume_id: VOLUME, epoch: "1", lease_ttl_ms: 1000 },
          ],
        },
        cb,
      ),
    );
    expect(renewals.results.map((r) => [r.status?.code, r.status?.reason])).toEqual([
      [NOT_FOUND, "volume_not_found"],
      [INVALID_ARGUMENT, "invalid_argument"],
      [FAILED_PRECONDITION, "epoch_stale"],
    ]);
    await stillServingAndIntact();
  });

  it("an oversize message (> 16 MiB) is refused by grpc with RESOURCE_EXHAUSTED", async () => {
    showLogsOnFailure(fleet);
    // Our own client allows 32 MiB so that the request reaches the agent, which must refuse it.
    const big = createVolumeClient(primary.address, {
      channelOptions: { "grpc.max_send_message_length": 32 * MiB },
    });
    try {
      const res = await outcome(
        unary((cb) => big.Write({ volume_id: VOLUME, lba: "0", data: Buffer.alloc(17 * MiB) }, cb)),
      );
      expect(res.code).toBe(RESOURCE_EXHAUSTED);
    } finally {
      closeClient(big);
    }
    await stillServingAndIntact();
  });
});
