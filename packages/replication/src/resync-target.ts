import { once } from "node:events";
import {
  invalidArgument,
  type ResyncBlocks__Output,
  type ResyncCommit__Output,
  type ResyncRequest__Output,
  type ResyncResponse,
  RpcError,
} from "@blockship/rpc";
import { crc32 } from "@blockship/storage";
import type { ServerDuplexStream } from "@grpc/grpc-js";
import type { ResyncTargetVolume } from "./resync-volume";
import { generationsFromWire, numFromWire, numToWire, recordRefFromWire } from "./wire";

// The replica side of Replication.Resync. The primary drives: begin (the replica checkpoints,
// persists its RESYNC marker and reports its own changed ranges since the fork), blocks (written
// straight into the extent, idempotently), commit (the log ends at the primary's base record).
// Every message is fenced like a Ship message (assigned primary, epoch, role); a bad one ends the
// stream with a stable reason and changes nothing on the copy.

export type ResyncServerCall = ServerDuplexStream<ResyncRequest__Output, ResyncResponse>;

/** Largest `blocks.data` accepted (the primary sends at most 1 MiB per message). */
export const MAX_RESYNC_BLOCK_BYTES = 1024 * 1024;
/** Ranges per `ranges` message: 4096 × 2 uint64 ≈ 80 KiB at most. */
export const RANGES_PER_MESSAGE = 4096;

export interface ResyncTargetContext {
  readonly call: ResyncServerCall;
  readonly volume: ResyncTargetVolume;
  readonly volumeId: string;
  /** Fences one message (identity, assigned primary, epoch, role); returns the message's epoch. */
  readonly fence: (msg: ResyncRequest__Output) => number;
  /** Resolves once the stream should stop (cancelled, receiver closed): rejects with why. */
  readonly stopped: Promise<never>;
}

type Phase = "await_begin" | "transfer";

/** Serves one Resync stream whose first message was read already (`first`); `next` reads on. */
export async function serveResyncStream(
  ctx: ResyncTargetContext,
  first: ResyncRequest__Output,
  next: () => Promise<IteratorResult<ResyncRequest__Output>>,
): Promise<void> {
  const epoch = ctx.fence(first);
  let phase: Phase = "await_begin";
  let bytesApplied = 0;
  let msg: ResyncRequest__Output | undefined = first;
  while (msg !== undefined) {
    if (ctx.fence(msg) !== epoch) {
      throw new RpcError("invalid_argument", "epoch: changed mid-stream (identity changed mid-stream)");
    }
    switch (msg.body) {
      case "begin": {
        if (phase !== "await_begin") throw invalidArgument("begin", "only the first message may begin");
        const forkLsn = numFromWire(msg.begin?.fork_lsn, "begin.fork_lsn");
        await sendRanges(ctx, forkLsn);
        phase = "transfer";
        break;
      }
      case "blocks": {
        requireTransfer(phase, "blocks");
        bytesApplied += await applyBlocks(ctx.volume, msg.blocks);
        await send(ctx, { ack: { bytes_applied: numToWire(bytesApplied) } });
        break;
      }
      case "commit": {
        requireTransfer(phase, "commit");
        const baseLsn = await applyCommit(ctx.volume, epoch, msg.commit);
        await send(ctx, { committed: { base_lsn: numToWire(baseLsn) } });
        // The session is over: the replica ends the stream (OK) without reading on. (Reading the
        // primary's half-close to its end would let the request iterator destroy the call before
        // its status is sent.)
        return;
      }
      default:
        throw invalidArgument("body", "a Resync message must carry begin, blocks or commit");
    }
    const n = next();
    n.catch(() => {}); // when `stopped` wins the race, a later rejection of n is nobody's business
    const r = await Promise.race([n, ctx.stopped]);
    msg = r.done ? undefined : r.value;
  }
}

function requireTransfer(phase: Phase, what: string): void {
  if (phase === "await_begin") throw invalidArgument(what, "the stream must begin with begin");
}

/** begin → volume.beginResync → the replica's own ranges, a bounded batch per message, then done. */
async function sendRanges(ctx: ResyncTargetContext, forkLsn: number): Promise<void> {
  const { ranges } = await ctx.volume.beginResync({ forkLsn });
  let batch: { first_block: string; block_count: string }[] = [];
  let blockCount = 0;
  for (const r of ranges.ranges()) {
    if (r.blocks <= 0) continue;
    batch.push({ first_block: numToWire(r.lba), block_count: numToWire(r.blocks) });
    blockCount += r.blocks;
    if (batch.length >= RANGES_PER_MESSAGE) {
      await send(ctx, { ranges: { ranges: batch } });
      batch = [];
    }
  }
  if (batch.length > 0) await send(ctx, { ranges: { ranges: batch } });
  await send(ctx, {
    ranges_done: { block_count: numToWire(blockCount), block_size_bytes: ctx.volume.blockSize },
  });
}

/** Validates one `blocks` message completely before anything is written; returns its byte count. */
async function applyBlocks(
  v: ResyncTargetVolume,
  b: ResyncBlocks__Output | null | undefined,
): Promise<number> {
  if (b === null || b === undefined) throw invalidArgument("blocks", "required");
  const offset = numFromWire(b.offset_bytes, "blocks.offset_bytes");
  const data = b.data;
  const bs = v.blockSize;
  if (offset % bs !== 0) throw invalidArgument("blocks.offset_bytes", `${offset} is not a multiple of ${bs}`);
  if (data.length === 0 || data.length % bs !== 0 || data.length > MAX_RESYNC_BLOCK_BYTES) {
    throw invalidArgument(
      "blocks.data",
      `${data.length} bytes is not a whole number of ${bs}-byte blocks in 1..${MAX_RESYNC_BLOCK_BYTES}`,
    );
  }
  if (offset + data.length > v.volumeSizeBytes) {
    throw new RpcError(
      "out_of_range",
      `blocks at ${offset} + ${data.length} bytes lie beyond the volume (${v.volumeSizeBytes} bytes)`,
    );
  }
  const crc = crc32(data);
  if (crc !== b.data_crc32) {
    throw new RpcError(
      "checksum_mismatch",
      `blocks at ${offset} (${data.length} bytes) have CRC ${hex(crc)}, the primary sent ${hex(b.data_crc32)}`,
    );
  }
  await v.writeResyncBlocks(offset, data);
  return data.length;
}

async function applyCommit(
  v: ResyncTargetVolume,
  epoch: number,
  c: ResyncCommit__Output | null | undefined,
): Promise<number> {
  if (c === null || c === undefined) throw invalidArgument("commit", "required");
  const baseLsn = numFromWire(c.base_lsn, "commit.base_lsn");
  const consistentLsn = numFromWire(c.consistent_lsn, "commit.consistent_lsn");
  const baseRecord = recordRefFromWire(c.base_record, "commit.base_record");
  if (baseRecord === undefined) throw invalidArgument("commit.base_record", "required");
  if (baseRecord.lsn !== baseLsn) {
    throw invalidArgument("commit.base_record.lsn", `${baseRecord.lsn} is not base_lsn ${baseLsn}`);
  }
  if (consistentLsn < baseLsn) {
    throw invalidArgument("commit.consistent_lsn", `${consistentLsn} is below base_lsn ${baseLsn}`);
  }
  const history = generationsFromWire(c.generations, "commit.generations");
  const last = history[history.length - 1];
  if (last !== undefined && last.firstLsn > baseLsn) {
    throw invalidArgument("commit.generations", `a generation starts after base_lsn ${baseLsn}`);
  }
  await v.commitResync({
    baseLsn,
    epoch,
    baseRecord: { crc: baseRecord.crc, epoch: baseRecord.epoch ?? last?.epoch ?? 0 },
    history,
    consistentLsn,
  });
  return baseLsn;
}

/** One response, waiting for the stream to drain when grpc-js's buffer is full (back-pressure). */
async function send(ctx: ResyncTargetContext, msg: ResyncResponse): Promise<void> {
  if (ctx.call.write(msg)) return;
  const drained = once(ctx.call, "drain");
  drained.catch(() => {}); // the call failed: `stopped` (or the next read) reports it
  await Promise.race([drained, ctx.stopped]);
}

function hex(v: number): string {
  return v.toString(16).padStart(8, "0");
}
