// The Control cases of the bad-input table (test/bad-input.test.ts): malformed, unknown or
// misdirected Control requests and the documented gRPC code and reason each must get back.
import { unary } from "@blockship/rpc";
import {
  ALREADY_EXISTS,
  type BadInputContext,
  type Case,
  FAILED_PRECONDITION,
  INVALID_ARGUMENT,
  NOT_FOUND,
} from "./bad-input-common";
import { MiB, primaryAssignment } from "./master";

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
