// The edge-case tables of test/rpc-edge-battery.test.ts: every RPC with extreme numbers (2^32,
// 2^53, u64 max), maximal LBAs, LBA + length overflow, zero lengths, garbage IDs and unknown enum
// numbers, and the gRPC code and stable reason each must get back. test/support/bad-input-*.ts
// has the plainer malformed cases; these are the ones a careless Number() or a missing bound breaks.
import { deadlineIn, type ShipRequest, unary } from "@blockship/rpc";
import {
  type BadInputContext,
  type Case,
  FAILED_PRECONDITION,
  INVALID_ARGUMENT,
  NOT_FOUND,
  OUT_OF_RANGE,
} from "./bad-input-common";
import { MiB } from "./master";

export const U64_MAX = "18446744073709551615";
export const P32 = "4294967296";
export const P53 = "9007199254740992";
const UINT32_MAX = 4294967295;
const block = Buffer.alloc(4096, 7);
const IA: [number, string] = [INVALID_ARGUMENT, "invalid_argument"];
const OOR: [number, string] = [OUT_OF_RANGE, "out_of_range"];
const GARBAGE_IDS = ["x".repeat(129), "a/b", "nul\u0000id", "ünï", " ", "y".repeat(10_000), "../x"];

/** A rejection shaped like a failed call, from a batch item's status (ApplyAssignments, RenewLeases). */
function itemOutcome(status: { code: number; reason: string } | null | undefined): Promise<void> {
  if (status === null || status === undefined) return Promise.reject(new Error("no item status"));
  return status.code === 0 ? Promise.resolve() : Promise.reject({ code: status.code, reason: status.reason });
}

export function volumeEdgeCases(ctx: BadInputContext): Case[] {
  const v = ctx.volume;
  const p = ctx.primary.volume;
  const write = (req: Record<string, unknown>) => () =>
    unary((cb) => p.Write({ volume_id: v, lba: "0", data: block, ...req }, deadlineIn(10_000), cb));
  const read = (req: Record<string, unknown>) => () =>
    unary((cb) => p.Read({ volume_id: v, lba: "0", length_bytes: 4096, ...req }, deadlineIn(10_000), cb));
  const trim = (req: Record<string, unknown>) => () =>
    unary((cb) => p.Trim({ volume_id: v, lba: "0", length_bytes: "4096", ...req }, deadlineIn(10_000), cb));
  const flush = (req: Record<string, unknown>) => () =>
    unary((cb) => p.Flush({ volume_id: v, ...req }, deadlineIn(10_000), cb));
  const last = ctx.blocks - 1;
  return [
    ["Write: lba 2^32", write({ lba: P32 }), ...OOR],
    ["Write: lba 2^53", write({ lba: P53 }), ...OOR],
    ["Write: lba u64 max", write({ lba: U64_MAX }), ...OOR],
    ["Write: last block + 3 blocks", write({ lba: String(last - 1), data: Buffer.alloc(3 * 4096) }), ...OOR],
    ["Write: 8 MiB + one block", write({ data: Buffer.alloc(8 * MiB + 4096) }), ...IA],
    ["Write: one byte", write({ data: Buffer.alloc(1) }), ...IA],
    ["Write: expected_epoch u64 max", write({ expected_epoch: U64_MAX }), ...IA],
    ["Write: expected_epoch 2^53", write({ expected_epoch: P53 }), ...IA],
    ...GARBAGE_IDS.map((id, i): Case => [`Write: garbage volume_id #${i}`, write({ volume_id: id }), ...IA]),
    ["Read: length uint32 max", read({ length_bytes: UINT32_MAX }), ...IA],
    ["Read: length 8 MiB + one block", read({ length_bytes: 8 * MiB + 4096 }), ...IA],
    ["Read: lba u64 max", read({ lba: U64_MAX }), ...OOR],
    ["Read: lba 2^53", read({ lba: P53 }), ...OOR],
    ["Read: last block, two blocks long", read({ lba: String(last), length_bytes: 8192 }), ...OOR],
    ["Read: missing volume_id", read({ volume_id: "" }), ...IA],
    // u64 max is not a multiple of the block size; 2^64 - 4096 is, and overflows 64 bits at lba 1.
    ["Trim: length u64 max", trim({ length_bytes: U64_MAX }), ...IA],
    ["Trim: length 2^53", trim({ length_bytes: P53 }), ...OOR],
    ["Trim: length 2^64 - 4096 at lba 1", trim({ lba: "1", length_bytes: "18446744073709547520" }), ...OOR],
    ["Trim: lba u64 max", trim({ lba: U64_MAX }), ...OOR],
    ["Trim: last block, two blocks long", trim({ lba: String(last), length_bytes: "8192" }), ...OOR],
    ["Trim: zero length", trim({ length_bytes: "0" }), ...IA],
    ["Trim: length 4097", trim({ length_bytes: "4097" }), ...IA],
    ["Trim: expected_epoch u64 max", trim({ expected_epoch: U64_MAX }), ...IA],
    ["Flush: expected_epoch u64 max", flush({ expected_epoch: U64_MAX }), ...IA],
    ["Flush: expected_epoch 2^32", flush({ expected_epoch: P32 }), FAILED_PRECONDITION, "epoch_stale"],
    ["Flush: garbage volume_id", flush({ volume_id: "a/b" }), ...IA],
    [
      "GetInfo: 10k-character volume_id",
      () => unary((cb) => p.GetInfo({ volume_id: "z".repeat(10_000) }, cb)),
      ...IA,
    ],
  ];
}

export function controlEdgeCases(ctx: BadInputContext): Case[] {
  const c = ctx.primary.control;
  const allocate = (req: Record<string, unknown>) => () =>
    unary((cb) =>
      c.AllocateVolume(
        {
          volume_id: "edge-new",
          size_bytes: String(MiB),
          durability_mode: "DURABILITY_MODE_BEST_EFFORT",
          ...req,
        },
        cb,
      ),
    );
  const assignOne = (a: Record<string, unknown>) => async () => {
    const res = await unary<{ results: { status: { code: number; reason: string } | null }[] }>((cb) =>
      c.ApplyAssignments(
        {
          assignments: [
            {
              volume_id: ctx.volume,
              epoch: String(ctx.epoch),
              role: "ROLE_PRIMARY",
              lease_ttl_ms: 60_000,
              ...a,
            },
          ],
        },
        deadlineIn(10_000),
        cb,
      ),
    );
    return itemOutcome(res.results[0]?.status);
  };
  const renewOne = (g: Record<string, unknown>) => async () => {
    const res = await unary<{ results: { status: { code: number; reason: string } | null }[] }>((cb) =>
      c.RenewLeases(
        { grants: [{ volume_id: ctx.volume, epoch: String(ctx.epoch), lease_ttl_ms: 60_000, ...g }] },
        deadlineIn(10_000),
        cb,
      ),
    );
    return itemOutcome(res.results[0]?.status);
  };
  const recovery = (method: "StartRecovery" | "CancelRecovery", req: Record<string, unknown>) => () =>
    unary((cb) =>
      c[method](
        {
          volume_id: ctx.volume,
          replica_id: `${ctx.volume}/${ctx.replica.serverId}`,
          epoch: String(ctx.epoch),
          kind: "RECOVERY_KIND_CATCHUP",
          ...req,
        },
        cb,
      ),
    );
  return [
    ["AllocateVolume: size u64 max", allocate({ size_bytes: U64_MAX }), ...IA],
    ["AllocateVolume: size 2^53", allocate({ size_bytes: P53 }), ...IA],
    ["AllocateVolume: size 0", allocate({ size_bytes: "0" }), ...IA],
    ["AllocateVolume: block size uint32 max", allocate({ block_size: UINT32_MAX }), ...IA],
    ["AllocateVolume: block size 3", allocate({ block_size: 3 }), ...IA],
    ["AllocateVolume: wal size u64 max", allocate({ wal_size_bytes: U64_MAX }), ...IA],
    ["AllocateVolume: unknown durability mode 99", allocate({ durability_mode: 99 }), ...IA],
    ["AllocateVolume: garbage volume_id", allocate({ volume_id: "a/b" }), ...IA],
    ["ApplyAssignments: epoch u64 max", assignOne({ epoch: U64_MAX }), ...IA],
    ["ApplyAssignments: lease_ttl_ms uint32 max", assignOne({ lease_ttl_ms: UINT32_MAX }), ...IA],
    ["ApplyAssignments: unknown role 42", assignOne({ role: 42 }), ...IA],
    [
      "ApplyAssignments: replica address port 99999",
      assignOne({ replicas: [{ server_id: "r", address: "127.0.0.1:99999" }] }),
      ...IA,
    ],
    ["ApplyAssignments: garbage volume_id", assignOne({ volume_id: "a/b" }), ...IA],
    ["RenewLeases: epoch u64 max", renewOne({ epoch: U64_MAX }), FAILED_PRECONDITION, "epoch_stale"],
    ["RenewLeases: lease_ttl_ms uint32 max", renewOne({ lease_ttl_ms: UINT32_MAX }), ...IA],
    ["RenewLeases: epoch 0", renewOne({ epoch: "0" }), ...IA],
    ["GetStatus: garbage volume id", () => unary((cb) => c.GetStatus({ volume_ids: ["a/b"] }, cb)), ...IA],
    [
      "WatchStatus: interval uint32 max",
      () => firstMessage(c.WatchStatus({ interval_ms: UINT32_MAX })),
      ...IA,
    ],
    [
      "GetProtocolState: garbage volume_id",
      () => unary((cb) => c.GetProtocolState({ volume_id: "..\u0000" }, cb)),
      ...IA,
    ],
    ["StartRecovery: unknown kind 77", recovery("StartRecovery", { kind: 77 }), ...IA],
    [
      "StartRecovery: epoch u64 max",
      recovery("StartRecovery", { epoch: U64_MAX }),
      FAILED_PRECONDITION,
      "epoch_stale",
    ],
    ["StartRecovery: replica_id without a slash", recovery("StartRecovery", { replica_id: "x" }), ...IA],
    [
      "CancelRecovery: epoch u64 max",
      recovery("CancelRecovery", { epoch: U64_MAX }),
      FAILED_PRECONDITION,
      "epoch_stale",
    ],
    ["CancelRecovery: epoch 0", recovery("CancelRecovery", { epoch: "0" }), ...IA],
    [
      "DeleteVolume: 129-character volume_id",
      () => unary((cb) => c.DeleteVolume({ volume_id: "d".repeat(129) }, cb)),
      ...IA,
    ],
  ];
}

export function replicationEdgeCases(ctx: BadInputContext): Case[] {
  const r = ctx.replica;
  const hello = {
    volume_id: ctx.volume,
    epoch: String(ctx.epoch),
    primary_server_id: ctx.primary.serverId,
    replica_server_id: r.serverId,
  };
  const handshake = (req: Record<string, unknown>) => () =>
    unary((cb) => r.replication.Handshake({ ...hello, ...req }, deadlineIn(10_000), cb));
  const streamBase = (req: Record<string, unknown>) => () =>
    firstMessage(
      ctx.primary.rebuild.StreamBase(
        { volume_id: ctx.volume, epoch: String(ctx.epoch), replica_server_id: r.serverId, ...req },
        deadlineIn(10_000),
      ),
    );
  return [
    ["Handshake: epoch u64 max", handshake({ epoch: U64_MAX }), ...IA],
    // Informational for the replica (it answers with its own state): accepted, changes nothing.
    ["Handshake: primary_head_lsn u64 max", handshake({ primary_head_lsn: U64_MAX }), 0, ""],
    ["Handshake: '..' as volume_id", handshake({ volume_id: ".." }), NOT_FOUND, "volume_not_found"],
    ["Handshake: garbage volume_id", handshake({ volume_id: "a/b" }), ...IA],
    ["Ship: first message epoch u64 max", () => ship(ctx, [{ ...hello, epoch: U64_MAX }]), ...IA],
    [
      "Ship: batch first_lsn u64 max",
      () =>
        ship(ctx, [
          hello,
          { batch: { first_lsn: U64_MAX, last_lsn: U64_MAX, record_count: 1, records: block } },
        ]),
      ...IA,
    ],
    [
      "Ship: batch record_count 0",
      () => ship(ctx, [hello, { batch: { first_lsn: "1", last_lsn: "1", record_count: 0, records: block } }]),
      ...IA,
    ],
    [
      "Ship: barrier lsn u64 max",
      () => ship(ctx, [hello, { barrier: { barrier_id: "1", lsn: U64_MAX } }]),
      ...IA,
    ],
    [
      "Ship: barrier id u64 max",
      () => ship(ctx, [hello, { barrier: { barrier_id: U64_MAX, lsn: "1" } }]),
      ...IA,
    ],
    ["Ship: a second message with no body", () => ship(ctx, [hello, {}]), ...IA],
    ["StreamBase: missing volume_id", streamBase({ volume_id: "" }), ...IA],
    ["StreamBase: unknown volume", streamBase({ volume_id: "nope" }), NOT_FOUND, "volume_not_found"],
    ["StreamBase: epoch u64 max", streamBase({ epoch: U64_MAX }), ...IA],
    ["StreamBase: chunk size uint32 max", streamBase({ chunk_size_bytes: UINT32_MAX }), ...IA],
    ["StreamBase: resume offset u64 max", streamBase({ resume_offset_bytes: U64_MAX }), ...IA],
  ];
}

/** The first message of a server stream, or its error; the stream is cancelled after it. */
export function firstMessage(stream: NodeJS.EventEmitter & { cancel(): void }): Promise<unknown> {
  return new Promise((resolve, reject) => {
    stream.once("data", (msg: unknown) => {
      stream.cancel();
      resolve(msg);
    });
    stream.once("error", reject);
    stream.once("end", () => resolve(undefined));
  });
}

/** Opens Replication.Ship on the replica, sends `messages`, resolves at its end (rejects on error). */
export async function ship(ctx: BadInputContext, messages: readonly Partial<ShipRequest>[]): Promise<void> {
  const stream = ctx.replica.replication.Ship(deadlineIn(10_000));
  const done = new Promise<void>((resolve, reject) => {
    stream.on("data", () => undefined);
    stream.once("error", reject);
    stream.once("end", resolve);
  });
  for (const m of messages) stream.write(m);
  stream.end();
  await done;
}
