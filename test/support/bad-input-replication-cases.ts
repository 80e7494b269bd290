// The Replication cases of the bad-input table (one module per service, gathered by bad-input-cases.ts).
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import {
  closeClient,
  createReplicationClient,
  deadlineIn,
  type ShipRequest,
  type ShipResponse__Output,
  unary,
} from "@blockship/rpc";
import type { ClientDuplexStream } from "@grpc/grpc-js";
import {
  ABORTED,
  type BadInputContext,
  type Case,
  INVALID_ARGUMENT,
  NOT_FOUND,
  PERMISSION_DENIED,
} from "./bad-input-common";
import { volumeStatus } from "./master";

// Not here yet: Rebuild.StreamBase answers UNIMPLEMENTED (rebuild is not wired), so its cases
// wait for it.
export const replicationCases = (ctx: BadInputContext): Case[] => [
  [
    "Handshake: missing fields",
    () => unary((cb) => ctx.replica.replication.Handshake({ volume_id: ctx.volume }, cb)),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "Handshake: unknown volume",
    () =>
      unary((cb) =>
        ctx.replica.replication.Handshake(
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
        ctx.replica.replication.Handshake(
          {
            volume_id: ctx.volume,
            epoch: String(ctx.epoch),
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
    async () => ship(ctx, { batch: await garbageBatch(ctx, 64 * 1024) }),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "Ship: not the assigned primary",
    async () => ship(ctx, { batch: await garbageBatch(ctx, 4096) }, { primary_server_id: "intruder" }),
    PERMISSION_DENIED,
    "unauthenticated_peer",
  ],
  [
    "Ship: wrong epoch",
    async () => ship(ctx, { batch: await garbageBatch(ctx, 4096) }, { epoch: String(ctx.epoch + 1) }),
    ABORTED,
    "epoch_mismatch",
  ],
  [
    "Ship: epoch 0 on the first message",
    async () => ship(ctx, { batch: await garbageBatch(ctx, 4096) }, { epoch: "0" }),
    INVALID_ARGUMENT,
    "invalid_argument",
  ],
  [
    "Ship: unknown volume",
    async () => ship(ctx, { batch: await garbageBatch(ctx, 4096) }, { volume_id: "nope" }),
    NOT_FOUND,
    "volume_not_found",
  ],
];

/** A batch that claims to be the next LSN on the replica but carries random bytes. */
async function garbageBatch(ctx: BadInputContext, sizeBytes: number): Promise<ShipRequest["batch"]> {
  const next = BigInt((await volumeStatus(ctx.replica, ctx.volume)).head_lsn) + 1n;
  return {
    first_lsn: String(next),
    last_lsn: String(next),
    record_count: 1,
    records: randomBytes(sizeBytes),
  };
}

/**
 * Opens Replication.Ship on the replica as the assigned primary (unless `identity` overrides it),
 * sends one body, and resolves when the replica ends the stream (rejects with its error).
 */
async function ship(
  ctx: BadInputContext,
  body: Pick<ShipRequest, "batch" | "barrier">,
  identity: Partial<ShipRequest> = {},
): Promise<void> {
  const client = createReplicationClient(ctx.replica.address);
  try {
    const stream: ClientDuplexStream<ShipRequest, ShipResponse__Output> = client.Ship(deadlineIn(10_000));
    const done = new Promise<void>((resolve, reject) => {
      stream.on("data", () => undefined);
      stream.once("error", reject);
      stream.once("end", resolve);
    });
    stream.write({
      volume_id: ctx.volume,
      epoch: String(ctx.epoch),
      primary_server_id: ctx.primary.serverId,
      replica_server_id: ctx.replica.serverId,
      ...identity,
    });
    stream.write(body);
    stream.end();
    await Promise.race([done, once(stream, "close").then(() => done)]);
  } finally {
    closeClient(client);
  }
}
