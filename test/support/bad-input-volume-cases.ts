// The Volume cases of the bad-input table (test/bad-input.test.ts): malformed, out-of-range or
// misdirected Volume requests and the documented gRPC code and reason each must get back.
import { deadlineIn, unary } from "@blockship/rpc";
import {
  type BadInputContext,
  type Case,
  FAILED_PRECONDITION,
  INVALID_ARGUMENT,
  NOT_FOUND,
  OUT_OF_RANGE,
} from "./bad-input-common";

const block = Buffer.alloc(4096, 1);

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
    "Read: on the replica without allow_copy_read",
    () => unary((cb) => ctx.replica.volume.Read({ volume_id: ctx.volume, lba: "0", length_bytes: 4096 }, cb)),
    FAILED_PRECONDITION,
    "not_primary",
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
