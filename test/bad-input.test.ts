// Bad input on every RPC of real agent processes → the documented gRPC code and reason; after each
// case the agents keep serving (health SERVING, a valid write/read works) and the volume is intact.
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import {
  closeClient,
  createReplicationClient,
  createVolumeClient,
  deadlineIn,
  grpcCodeOf,
  type RenewLeasesResponse__Output,
  reasonOf,
  type ShipRequest,
  type ShipResponse__Output,
  unary,
} from "@blockship/rpc";
import type { ClientDuplexStream } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { flush, patternBytes, prng, read, write } from "./support/io";
import {
  allocate,
  assign,
  assignAll,
  MiB,
  primaryAssignment,
  replicaAssignment,
  replicasInSync,
  volumeStatus,
} from "./support/master";

// Canonical gRPC status codes (numbers on the wire).
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const PERMISSION_DENIED = 7;
const RESOURCE_EXHAUSTED = 8;
const FAILED_PRECONDITION = 9;
const ABORTED = 10;
const OUT_OF_RANGE = 11;

const fleet = new AgentFleet();
let primary: AgentHandle;
let replica: AgentHandle;
const VOLUME = "bad";
const SIZE_BYTES = 16 * MiB;
const BLOCKS = SIZE_BYTES / 4096;
const EPOCH = 3;
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
    expect((await read(agent, VOLUME, 0, original.length)).equals(original)).toBe(true);
  }
  const probe = randomBytes(4096);
  await write(primary, VOLUME, BLOCKS - 1, probe);
  await flush(primary, VOLUME); // sync_all: the replica confirmed it
  expect((await read(replica, VOLUME, BLOCKS - 1, 4096)).equals(probe)).toBe(true);
}

function showLogsOnFailure(): void {
  onTestFailed(() => {
    console.error(fleet.logs());
  });
}

const block = Buffer.alloc(4096, 1);

// [name, call, expected code, expected reason]
type Case = readonly [string, () => Promise<unknown>, number, string];

const controlCases = (): Case[] => [
  [
    "AllocateVolume: missing volume_id",
    () =>
      unary((cb) =>
        primary.control.AllocateVolume(
          { size_bytes: String(MiB), durability_mode: "DURABILITY_MODE_BEST_EFFORT" },
          cb,
        ),
      ),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "AllocateVolume: size not a multiple of the block size",
    () =>
      unary((cb) =>
        primary.control.AllocateVolume(
          { volume_id: "x", size_bytes: "4097", durability_mode: "DURABILITY_MODE_BEST_EFFORT" },
          cb,
        ),
      ),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "AllocateVolume: durability mode missing",
    () => unary((cb) => primary.control.AllocateVolume({ volume_id: "x", size_bytes: String(MiB) }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "AllocateVolume: existing volume with other parameters",
    () =>
      unary((cb) =>
        primary.control.AllocateVolume(
          {
            volume_id: VOLUME,
            size_bytes: String(2 * SIZE_BYTES),
            durability_mode: "DURABILITY_MODE_SYNC_ALL",
          },
          cb,
        ),
      ),
    ALREADY_EXISTS,
    "volume_exists",
  ],
  [
    "ApplyAssignments: more than 1024 items",
    () =>
      unary((cb) =>
        primary.control.ApplyAssignments(
          { assignments: Array.from({ length: 1025 }, () => primaryAssignment("none", 1, [])) },
          cb,
        ),
      ),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "RenewLeases: more than 1024 grants",
    () =>
      unary((cb) =>
        primary.control.RenewLeases(
          {
            grants: Array.from({ length: 1025 }, () => ({ volume_id: VOLUME, epoch: "1", lease_ttl_ms: 1 })),
          },
          cb,
        ),
      ),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "WatchStatus: interval out of range",
    () => firstMessage(primary.control.WatchStatus({ interval_ms: 5 })),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "GetProtocolState: missing volume_id",
    () => unary((cb) => primary.control.GetProtocolState({}, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "GetProtocolState: unknown volume",
    () => unary((cb) => primary.control.GetProtocolState({ volume_id: "nope" }, cb)),
    NOT_FOUND,
    "volume_not_found",
  ],
  [
    "StartRecovery: unknown volume",
    () =>
      unary((cb) =>
        primary.control.StartRecovery(
          { volume_id: "nope", replica_id: "nope/bad-r", epoch: "1", kind: "RECOVERY_KIND_CATCHUP" },
          cb,
        ),
      ),
    NOT_FOUND,
    "volume_not_found",
  ],
  [
    "StartRecovery: kind missing",
    () =>
      unary((cb) =>
        primary.control.StartRecovery(
          { volume_id: VOLUME, replica_id: `${VOLUME}/bad-r`, epoch: String(EPOCH) },
          cb,
        ),
      ),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "StartRecovery: replica not in the set",
    () =>
      unary((cb) =>
        primary.control.StartRecovery(
          {
            volume_id: VOLUME,
            replica_id: `${VOLUME}/other`,
            epoch: String(EPOCH),
            kind: "RECOVERY_KIND_CATCHUP",
          },
          cb,
        ),
      ),
    NOT_FOUND,
    "replica_not_found",
  ],
  [
    "StartRecovery: stale epoch",
    () =>
      unary((cb) =>
        primary.control.StartRecovery(
          { volume_id: VOLUME, replica_id: `${VOLUME}/bad-r`, epoch: "1", kind: "RECOVERY_KIND_CATCHUP" },
          cb,
        ),
      ),
    FAILED_PRECONDITION,
    "epoch_stale",
  ],
  [
    "StartRecovery: on a replica",
    () =>
      unary((cb) =>
        replica.control.StartRecovery(
          {
            volume_id: VOLUME,
            replica_id: `${VOLUME}/bad-r`,
            epoch: String(EPOCH),
            kind: "RECOVERY_KIND_CATCHUP",
          },
          cb,
        ),
      ),
    FAILED_PRECONDITION,
    "not_primary",
  ],
  [
    "CancelRecovery: unknown volume",
    () =>
      unary((cb) =>
        primary.control.CancelRecovery({ volume_id: "nope", replica_id: "nope/bad-r", epoch: "1" }, cb),
      ),
    NOT_FOUND,
    "volume_not_found",
  ],
  [
    "CancelRecovery: missing replica_id",
    () => unary((cb) => primary.control.CancelRecovery({ volume_id: VOLUME, epoch: String(EPOCH) }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "DeleteVolume: missing volume_id",
    () => unary((cb) => primary.control.DeleteVolume({}, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "DeleteVolume: malformed volume_id",
    () => unary((cb) => primary.control.DeleteVolume({ volume_id: "../etc" }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
];

const volumeCases = (): Case[] => [
  [
    "Write: missing volume_id",
    () => unary((cb) => primary.volume.Write({ lba: "0", data: block }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "Write: unknown volume",
    () => unary((cb) => primary.volume.Write({ volume_id: "nope", lba: "0", data: block }, cb)),
    NOT_FOUND,
    "volume_not_found",
  ],
  [
    "Write: LBA out of range",
    () => unary((cb) => primary.volume.Write({ volume_id: VOLUME, lba: String(BLOCKS), data: block }, cb)),
    OUT_OF_RANGE,
    "out_of_range",
  ],
  [
    "Write: runs past the end",
    () =>
      unary((cb) =>
        primary.volume.Write({ volume_id: VOLUME, lba: String(BLOCKS - 1), data: Buffer.alloc(8192) }, cb),
      ),
    OUT_OF_RANGE,
    "out_of_range",
  ],
  [
    "Write: LBA beyond 2^53",
    () =>
      unary((cb) =>
        primary.volume.Write({ volume_id: VOLUME, lba: "18446744073709551615", data: block }, cb),
      ),
    OUT_OF_RANGE,
    "out_of_range",
  ],
  [
    "Write: unaligned length",
    () => unary((cb) => primary.volume.Write({ volume_id: VOLUME, lba: "0", data: Buffer.alloc(4095) }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "Write: empty data",
    () => unary((cb) => primary.volume.Write({ volume_id: VOLUME, lba: "0", data: Buffer.alloc(0) }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "Write: on the replica",
    () => unary((cb) => replica.volume.Write({ volume_id: VOLUME, lba: "0", data: block }, cb)),
    FAILED_PRECONDITION,
    "not_primary",
  ],
  [
    "Write: expected epoch differs",
    () =>
      unary((cb) =>
        primary.volume.Write({ volume_id: VOLUME, lba: "0", data: block, expected_epoch: "1" }, cb),
      ),
    FAILED_PRECONDITION,
    "epoch_stale",
  ],
  [
    "Read: unaligned length",
    () => unary((cb) => primary.volume.Read({ volume_id: VOLUME, lba: "0", length_bytes: 100 }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "Read: zero length",
    () => unary((cb) => primary.volume.Read({ volume_id: VOLUME, lba: "0", length_bytes: 0 }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "Read: out of range",
    () =>
      unary((cb) => primary.volume.Read({ volume_id: VOLUME, lba: String(BLOCKS), length_bytes: 4096 }, cb)),
    OUT_OF_RANGE,
    "out_of_range",
  ],
  [
    "Read: unknown volume",
    () => unary((cb) => primary.volume.Read({ volume_id: "nope", lba: "0", length_bytes: 4096 }, cb)),
    NOT_FOUND,
    "volume_not_found",
  ],
  [
    "Trim: unaligned length",
    () => unary((cb) => primary.volume.Trim({ volume_id: VOLUME, lba: "0", length_bytes: "100" }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "Trim: out of range",
    () =>
      unary((cb) =>
        primary.volume.Trim({ volume_id: VOLUME, lba: String(BLOCKS), length_bytes: "4096" }, cb),
      ),
    OUT_OF_RANGE,
    "out_of_range",
  ],
  [
    "Flush: unknown volume",
    () => unary((cb) => primary.volume.Flush({ volume_id: "nope" }, cb)),
    NOT_FOUND,
    "volume_not_found",
  ],
  [
    "Flush: missing volume_id",
    () => unary((cb) => primary.volume.Flush({}, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "GetInfo: missing volume_id",
    () => unary((cb) => primary.volume.GetInfo({}, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "GetInfo: unknown volume",
    () => unary((cb) => primary.volume.GetInfo({ volume_id: "nope" }, cb)),
    NOT_FOUND,
    "volume_not_found",
  ],
  [
    "WriteStream: first message without volume_id",
    () => writeStream([{ seq: "1", writes: [{ lba: "0", data: block }] }]),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "WriteStream: volume changes mid-stream",
    () =>
      writeStream([
        { volume_id: VOLUME, seq: "1", writes: [] },
        { volume_id: "other", seq: "2", writes: [] },
      ]),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "WriteStream: write out of range",
    () => writeStream([{ volume_id: VOLUME, seq: "1", writes: [{ lba: String(BLOCKS), data: block }] }]),
    OUT_OF_RANGE,
    "out_of_range",
  ],
];

// Not here yet: Rebuild.StreamBase answers UNIMPLEMENTED (rebuild is not wired), so its cases
// wait for it; a Ship opened with epoch 0 ends with ABORTED epoch_mismatch where replication.proto
// documents INVALID_ARGUMENT (reported to the agent's owner).
const replicationCases = (): Case[] => [
  [
    "Handshake: missing fields",
    () => unary((cb) => replica.replication.Handshake({ volume_id: VOLUME }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "Handshake: unknown volume",
    () =>
      unary((cb) =>
        replica.replication.Handshake(
          { volume_id: "nope", epoch: "1", primary_server_id: "bad-p", replica_server_id: "bad-r" },
          cb,
        ),
      ),
    NOT_FOUND,
    "volume_not_found",
  ],
  [
    "Handshake: not the assigned primary",
    () =>
      unary((cb) =>
        replica.replication.Handshake(
          {
            volume_id: VOLUME,
            epoch: String(EPOCH),
            primary_server_id: "intruder",
            replica_server_id: "bad-r",
          },
          cb,
        ),
      ),
    PERMISSION_DENIED,
    "unauthenticated_peer",
  ],
  [
    "Ship: garbage bytes in a batch from the assigned primary",
    async () => ship({ batch: await garbageBatch(64 * 1024) }),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "Ship: not the assigned primary",
    async () => ship({ batch: await garbageBatch(4096) }, { primary_server_id: "intruder" }),
    PERMISSION_DENIED,
    "unauthenticated_peer",
  ],
  [
    "Ship: wrong epoch",
    async () => ship({ batch: await garbageBatch(4096) }, { epoch: String(EPOCH + 1) }),
    ABORTED,
    "epoch_mismatch",
  ],
  [
    "Ship: unknown volume",
    async () => ship({ batch: await garbageBatch(4096) }, { volume_id: "nope" }),
    NOT_FOUND,
    "volume_not_found",
  ],
];

describe("bad input on every RPC → documented code and reason; the agents keep serving", () => {
  for (const [group, cases] of [
    ["Control", controlCases],
    ["Volume", volumeCases],
    ["Replication", replicationCases],
  ] as const) {
    it(`${group}`, async () => {
      showLogsOnFailure();
      const got: [string, Outcome][] = [];
      const want: [string, Outcome][] = [];
      for (const [name, call, code, reason] of cases()) {
        got.push([name, await outcome(call())]);
        want.push([name, { code, reason }]);
      }
      expect(got).toEqual(want);
      await stillServingAndIntact();
    });
  }

  it("ApplyAssignments: per-item failures (missing id, unknown volume, role out of range, epoch 0, epoch regression) leave the batch's valid items applied", async () => {
    showLogsOnFailure();
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
    showLogsOnFailure();
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

/** The first message of a server stream (or its error). */
function firstMessage(stream: NodeJS.EventEmitter & { cancel(): void }): Promise<unknown> {
  return new Promise((resolve, reject) => {
    stream.once("data", (msg: unknown) => {
      stream.cancel();
      resolve(msg);
    });
    stream.once("error", reject);
    stream.once("end", () => resolve(undefined));
  });
}

/** Opens a WriteStream, sends `requests`, and resolves when the stream ends (rejects on its error). */
async function writeStream(requests: readonly Record<string, unknown>[]): Promise<void> {
  const stream = primary.volume.WriteStream(deadlineIn(10_000));
  const done = new Promise<void>((resolve, reject) => {
    stream.on("data", () => undefined);
    stream.once("error", reject);
    stream.once("end", resolve);
  });
  for (const r of requests) stream.write(r);
  stream.end();
  await done;
}

/**
 * Opens Replication.Ship on the replica as the assigned primary (unless `identity` overrides it),
 * sends one body, and resolves when the replica ends the stream (rejects with its error).
 */
/** A batch that claims to be the next LSN on the replica but carries random bytes. */
async function garbageBatch(sizeBytes: number): Promise<ShipRequest["batch"]> {
  const next = BigInt((await volumeStatus(replica, VOLUME)).head_lsn) + 1n;
  return {
    first_lsn: String(next),
    last_lsn: String(next),
    record_count: 1,
    records: randomBytes(sizeBytes),
  };
}

async function ship(
  body: Pick<ShipRequest, "batch" | "barrier">,
  identity: Partial<ShipRequest> = {},
): Promise<void> {
  const client = createReplicationClient(replica.address);
  try {
    const stream: ClientDuplexStream<ShipRequest, ShipResponse__Output> = client.Ship(deadlineIn(10_000));
    const done = new Promise<void>((resolve, reject) => {
      stream.on("data", () => undefined);
      stream.once("error", reject);
      stream.once("end", resolve);
    });
    stream.write({
      volume_id: VOLUME,
      epoch: String(EPOCH),
      primary_server_id: primary.serverId,
      replica_server_id: replica.serverId,
      ...identity,
    });
    stream.write(body);
    stream.end();
    await Promise.race([done, once(stream, "close").then(() => done)]);
  } finally {
    closeClient(client);
  }
}
