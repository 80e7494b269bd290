// The bad-input case tables of test/bad-input.test.ts: every RPC with a malformed, unknown or
// unauthorised request and the documented gRPC code and reason it must get back.
import { deadlineIn, unary } from "@blockship/rpc";
import type { AgentHandle } from "./agents";
import { MiB, primaryAssignment } from "./master";

// Canonical gRPC status codes (numbers on the wire).
export const INVALID_ARGUMENT = 3;
export const NOT_FOUND = 5;
export const ALREADY_EXISTS = 6;
export const PERMISSION_DENIED = 7;
export const RESOURCE_EXHAUSTED = 8;
export const FAILED_PRECONDITION = 9;
export const ABORTED = 10;
export const OUT_OF_RANGE = 11;

/** The pair and volume the cases run against (set up by the test file). */
export interface BadInputContext {
  readonly primary: AgentHandle;
  readonly replica: AgentHandle;
  readonly volume: string;
  readonly blocks: number;
  readonly epoch: number;
}

const block = Buffer.alloc(4096, 1);

// [name, call, expected code, expected reason]
export type Case = readonly [string, () => Promise<unknown>, number, string];

export const controlCases = (ctx: BadInputContext): Case[] => [
  [
    "AllocateVolume: missing volume_id",
    () =>
      unary((cb) =>
        ctx.primary.control.AllocateVolume(
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
        ctx.primary.control.AllocateVolume(
          { volume_id: "x", size_bytes: "4097", durability_mode: "DURABILITY_MODE_BEST_EFFORT" },
          cb,
        ),
      ),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "AllocateVolume: durability mode missing",
    () => unary((cb) => ctx.primary.control.AllocateVolume({ volume_id: "x", size_bytes: String(MiB) }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "AllocateVolume: existing volume with other parameters",
    () =>
      unary((cb) =>
        ctx.primary.control.AllocateVolume(
          {
            volume_id: ctx.volume,
            size_bytes: String(2 * ctx.blocks * 4096),
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
        ctx.primary.control.ApplyAssignments(
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
        ctx.primary.control.RenewLeases(
          {
            grants: Array.from({ length: 1025 }, () => ({
              volume_id: ctx.volume,
              epoch: "1",
              lease_ttl_ms: 1,
            })),
          },
          cb,
        ),
      ),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "WatchStatus: interval out of range",
    () => firstMessage(ctx.primary.control.WatchStatus({ interval_ms: 5 })),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "GetProtocolState: missing volume_id",
    () => unary((cb) => ctx.primary.control.GetProtocolState({}, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "GetProtocolState: unknown volume",
    () => unary((cb) => ctx.primary.control.GetProtocolState({ volume_id: "nope" }, cb)),
    NOT_FOUND,
    "volume_not_found",
  ],
  [
    "StartRecovery: unknown volume",
    () =>
      unary((cb) =>
        ctx.primary.control.StartRecovery(
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
        ctx.primary.control.StartRecovery(
          { volume_id: ctx.volume, replica_id: `${ctx.volume}/bad-r`, epoch: String(ctx.epoch) },
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
        ctx.primary.control.StartRecovery(
          {
            volume_id: ctx.volume,
            replica_id: `${ctx.volume}/other`,
            epoch: String(ctx.epoch),
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
        ctx.primary.control.StartRecovery(
          {
            volume_id: ctx.volume,
            replica_id: `${ctx.volume}/bad-r`,
            epoch: "1",
            kind: "RECOVERY_KIND_CATCHUP",
          },
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
        ctx.replica.control.StartRecovery(
          {
            volume_id: ctx.volume,
            replica_id: `${ctx.volume}/bad-r`,
            epoch: String(ctx.epoch),
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
        ctx.primary.control.CancelRecovery({ volume_id: "nope", replica_id: "nope/bad-r", epoch: "1" }, cb),
      ),
    NOT_FOUND,
    "volume_not_found",
  ],
  [
    "CancelRecovery: missing replica_id",
    () =>
      unary((cb) =>
        ctx.primary.control.CancelRecovery({ volume_id: ctx.volume, epoch: String(ctx.epoch) }, cb),
      ),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "DeleteVolume: missing volume_id",
    () => unary((cb) => ctx.primary.control.DeleteVolume({}, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "DeleteVolume: malformed volume_id",
    () => unary((cb) => ctx.primary.control.DeleteVolume({ volume_id: "../etc" }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
];

export const volumeCases = (ctx: BadInputContext): Case[] => [
  [
    "Write: missing volume_id",
    () => unary((cb) => ctx.primary.volume.Write({ lba: "0", data: block }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "Write: unknown volume",
    () => unary((cb) => ctx.primary.volume.Write({ volume_id: "nope", lba: "0", data: block }, cb)),
    NOT_FOUND,
    "volume_not_found",
  ],
  [
    "Write: LBA out of range",
    () =>
      unary((cb) =>
        ctx.primary.volume.Write({ volume_id: ctx.volume, lba: String(ctx.blocks), data: block }, cb),
      ),
    OUT_OF_RANGE,
    "out_of_range",
  ],
  [
    "Write: runs past the end",
    () =>
      unary((cb) =>
        ctx.primary.volume.Write(
          { volume_id: ctx.volume, lba: String(ctx.blocks - 1), data: Buffer.alloc(8192) },
          cb,
        ),
      ),
    OUT_OF_RANGE,
    "out_of_range",
  ],
  [
    "Write: LBA beyond 2^53",
    () =>
      unary((cb) =>
        ctx.primary.volume.Write({ volume_id: ctx.volume, lba: "18446744073709551615", data: block }, cb),
      ),
    OUT_OF_RANGE,
    "out_of_range",
  ],
  [
    "Write: unaligned length",
    () =>
      unary((cb) =>
        ctx.primary.volume.Write({ volume_id: ctx.volume, lba: "0", data: Buffer.alloc(4095) }, cb),
      ),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "Write: empty data",
    () =>
      unary((cb) => ctx.primary.volume.Write({ volume_id: ctx.volume, lba: "0", data: Buffer.alloc(0) }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "Write: on the replica",
    () => unary((cb) => ctx.replica.volume.Write({ volume_id: ctx.volume, lba: "0", data: block }, cb)),
    FAILED_PRECONDITION,
    "not_primary",
  ],
  [
    "Write: expected epoch differs",
    () =>
      unary((cb) =>
        ctx.primary.volume.Write({ volume_id: ctx.volume, lba: "0", data: block, expected_epoch: "1" }, cb),
      ),
    FAILED_PRECONDITION,
    "epoch_stale",
  ],
  [
    "Read: unaligned length",
    () => unary((cb) => ctx.primary.volume.Read({ volume_id: ctx.volume, lba: "0", length_bytes: 100 }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "Read: zero length",
    () => unary((cb) => ctx.primary.volume.Read({ volume_id: ctx.volume, lba: "0", length_bytes: 0 }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "Read: out of range",
    () =>
      unary((cb) =>
        ctx.primary.volume.Read({ volume_id: ctx.volume, lba: String(ctx.blocks), length_bytes: 4096 }, cb),
      ),
    OUT_OF_RANGE,
    "out_of_range",
  ],
  [
    "Read: unknown volume",
    () => unary((cb) => ctx.primary.volume.Read({ volume_id: "nope", lba: "0", length_bytes: 4096 }, cb)),
    NOT_FOUND,
    "volume_not_found",
  ],
  [
    "Trim: unaligned length",
    () =>
      unary((cb) => ctx.primary.volume.Trim({ volume_id: ctx.volume, lba: "0", length_bytes: "100" }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "Trim: out of range",
    () =>
      unary((cb) =>
        ctx.primary.volume.Trim({ volume_id: ctx.volume, lba: String(ctx.blocks), length_bytes: "4096" }, cb),
      ),
    OUT_OF_RANGE,
    "out_of_range",
  ],
  [
    "Flush: unknown volume",
    () => unary((cb) => ctx.primary.volume.Flush({ volume_id: "nope" }, cb)),
    NOT_FOUND,
    "volume_not_found",
  ],
  [
    "Flush: missing volume_id",
    () => unary((cb) => ctx.primary.volume.Flush({}, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "GetInfo: missing volume_id",
    () => unary((cb) => ctx.primary.volume.GetInfo({}, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "GetInfo: unknown volume",
    () => unary((cb) => ctx.primary.volume.GetInfo({ volume_id: "nope" }, cb)),
    NOT_FOUND,
    "volume_not_found",
  ],
  [
    "WriteStream: first message without volume_id",
    () => writeStream(ctx, [{ seq: "1", writes: [{ lba: "0", data: block }] }]),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "WriteStream: volume changes mid-stream",
    () =>
      writeStream(ctx, [
        { volume_id: ctx.volume, seq: "1", writes: [] },
        { volume_id: "other", seq: "2", writes: [] },
      ]),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "WriteStream: write out of range",
    () =>
      writeStream(ctx, [
        { volume_id: ctx.volume, seq: "1", writes: [{ lba: String(ctx.blocks), data: block }] },
      ]),
    OUT_OF_RANGE,
    "out_of_range",
  ],
];

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
async function writeStream(
  ctx: BadInputContext,
  requests: readonly Record<string, unknown>[],
): Promise<void> {
  const stream = ctx.primary.volume.WriteStream(deadlineIn(10_000));
  const done = new Promise<void>((resolve, reject) => {
    stream.on("data", () => undefined);
    stream.once("error", reject);
    stream.once("end", resolve);
  });
  for (const r of requests) stream.write(r);
  stream.end();
  await done;
}
