// write / read / flush / verify: block I/O for smoke tests. Large transfers are split into
// chunks below the 8 MiB per-message limit (writes: and below the agent's largest write, which a
// small WAL lowers); a file that is not whole blocks is zero-padded.
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import {
  detailOf,
  type FlushResponse__Output,
  type GetInfoResponse__Output,
  type ReadResponse__Output,
  reasonOf,
  u64ToWire,
  unary,
  type WriteResponse__Output,
} from "@blockship/rpc";
import { type Command, Option } from "commander";
import type { Context } from "../context";
import { CliError, usageError } from "../errors";
import { ExitCode } from "../exit-codes";
import { arg, type VerbRunner } from "../program";
import { parseIntInRange, parseSmallSize, parseU64 } from "../sizes";

/** Bytes per Write/Read RPC: below the agent's 8 MiB limit and a multiple of every block size. */
export const IO_CHUNK_BYTES = 4 * 1024 * 1024;
/** Largest transfer of one read/write/verify (it is held in memory). */
const MAX_TRANSFER_BYTES = 1024 * 1024 * 1024;

export async function volumeInfo(ctx: Context, volume: string): Promise<GetInfoResponse__Output> {
  return unary<GetInfoResponse__Output>((cb) =>
    ctx.volume().GetInfo({ volume_id: volume }, ctx.deadline(), cb),
  );
}

/** `data` zero-padded to whole blocks. */
export function padToBlocks(data: Buffer, blockSize: number): Buffer {
  const remainder = data.length % blockSize;
  if (remainder === 0 && data.length > 0) return data;
  const padded = Buffer.alloc(data.length + (data.length === 0 ? blockSize : blockSize - remainder));
  data.copy(padded);
  return padded;
}

/** `count` blocks filled by repeating `pattern`. */
export function patternBlocks(pattern: string, count: number, blockSize: number): Buffer {
  const unit = Buffer.from(pattern, "utf8");
  if (unit.length === 0) throw usageError("--pattern must not be empty");
  const out = Buffer.alloc(count * blockSize);
  for (let offset = 0; offset < out.length; offset += unit.length) unit.copy(out, offset);
  return out;
}

/**
 * The agent's largest single write when it refused a chunk as too long ("length N exceeds the
 * maximum M": a small WAL lowers it below our chunk size), rounded down to whole blocks.
 */
export function agentWriteLimit(err: unknown, blockSize: number): number | undefined {
  if (reasonOf(err) !== "invalid_argument") return undefined;
  const match = /exceeds the maximum (\d{1,10})\b/.exec(detailOf(err));
  if (match === null) return undefined;
  const maxBytes = Math.floor(Number(match[1]) / blockSize) * blockSize;
  return maxBytes >= blockSize ? maxBytes : undefined;
}

async function writeBlocks(
  ctx: Context,
  volume: string,
  lba: bigint,
  data: Buffer,
  blockSize: number,
  expectedEpoch: bigint,
) {
  let firstLsn = "";
  let lastLsn = "";
  let chunkBytes = IO_CHUNK_BYTES;
  for (let offset = 0; offset < data.length; ) {
    const chunk = data.subarray(offset, offset + chunkBytes);
    const chunkLba = lba + BigInt(offset / blockSize);
    let response: WriteResponse__Output;
    try {
      response = await unary<WriteResponse__Output>((cb) =>
        ctx.volume().Write(
          {
            volume_id: volume,
            lba: u64ToWire(chunkLba),
            data: chunk,
            expected_epoch: u64ToWire(expectedEpoch),
          },
          ctx.deadline(),
          cb,
        ),
      );
    } catch (err) {
      // A refused length wrote nothing: retry the same offset in the agent's chunk size.
      const limit = agentWriteLimit(err, blockSize);
      if (limit === undefined || limit >= chunk.length) throw err;
      chunkBytes = limit;
      continue;
    }
    if (firstLsn === "") firstLsn = response.lsn;
    lastLsn = response.lsn;
    offset += chunk.length;
  }
  return { firstLsn, lastLsn };
}

export async function readBlocks(
  ctx: Context,
  volume: string,
  lba: bigint,
  lengthBytes: number,
  blockSize: number,
  allowCopyRead = false,
) {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < lengthBytes; offset += IO_CHUNK_BYTES) {
    const length = Math.min(IO_CHUNK_BYTES, lengthBytes - offset);
    const response = await unary<ReadResponse__Output>((cb) =>
      ctx.volume().Read(
        {
          volume_id: volume,
          lba: u64ToWire(lba + BigInt(offset / blockSize)),
          length_bytes: length,
          allow_copy_read: allowCopyRead,
        },
        ctx.deadline(),
        cb,
      ),
    );
    parts.push(response.data);
  }
  return Buffer.concat(parts);
}

async function flush(ctx: Context, volume: string, expectedEpoch: bigint): Promise<string> {
  const response = await unary<FlushResponse__Output>((cb) =>
    ctx.volume().Flush({ volume_id: volume, expected_epoch: u64ToWire(expectedEpoch) }, ctx.deadline(), cb),
  );
  return response.durable_lsn;
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const lbaArg = arg((t) => parseU64(t, "--lba"));
const epochArg = arg((t) => parseU64(t, "--expected-epoch"));

/** A bigint default needs its own description: commander's help would JSON.stringify it. */
const expectedEpochOption = () =>
  new Option("--expected-epoch <n>", "fail with epoch_stale unless the volume is at this epoch")
    .argParser(epochArg)
    .default(0n, "0 = any epoch");

const COPY_READ_FLAG = "--allow-copy-read";
const COPY_READ_HELP =
  "read this agent's copy whatever its role (a replica, a demoted primary); without it only a writable primary answers (else not_primary)";

async function readInput(file: string): Promise<Buffer> {
  const data = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw usageError(`cannot read ${file}: ${err.code ?? err.message}`, "check the path given to --file");
  });
  if (data.length > MAX_TRANSFER_BYTES)
    throw usageError(`${file} is larger than 1 GiB; write it in parts (--lba)`);
  return data;
}

export function registerIoVerbs(program: Command, run: VerbRunner): void {
  program
    .command("write")
    .description("write whole blocks at an LBA on the primary (a file is zero-padded to whole blocks)")
    .argument("<volume>", "volume id")
    .requiredOption("--lba <n>", "first block", lbaArg)
    .option("--file <path>", "data to write")
    .option("--pattern <text>", "repeat this text (with --count)")
    .option(
      "--count <blocks>",
      "blocks to write with --pattern",
      arg((t) => parseIntInRange(t, "--count", 1, 262_144)),
    )
    .addOption(expectedEpochOption())
    .option("--flush", "flush after writing (durable under the volume's mode)")
    .addHelpText(
      "after",
      "\nExamples:\n  blockctl write vol-1 --lba 0 --file ./data.bin --flush\n  blockctl write vol-1 --lba 8 --pattern hello --count 4",
    )
    .action(
      (
        volume: string,
        opts: {
          lba: bigint;
          file?: string;
          pattern?: string;
          count?: number;
          expectedEpoch: bigint;
          flush?: boolean;
        },
        cmd: Command,
      ) =>
        run(cmd, volume, async (ctx) => {
          if ((opts.file === undefined) === (opts.pattern === undefined)) {
            throw usageError("write needs exactly one of --file F or --pattern TEXT --count BLOCKS");
          }
          if (opts.pattern !== undefined && opts.count === undefined)
            throw usageError("--pattern needs --count BLOCKS");
          const info = await volumeInfo(ctx, volume);
          const data =
            opts.file !== undefined
              ? padToBlocks(await readInput(opts.file), info.block_size)
              : patternBlocks(opts.pattern as string, opts.count as number, info.block_size);
          const { firstLsn, lastLsn } = await writeBlocks(
            ctx,
            volume,
            opts.lba,
            data,
            info.block_size,
            opts.expectedEpoch,
          );
          const durableLsn = opts.flush === true ? await flush(ctx, volume, opts.expectedEpoch) : null;
          const doc = {
            volume_id: volume,
            lba: opts.lba.toString(),
            bytes: data.length,
            blocks: data.length / info.block_size,
            first_lsn: firstLsn,
            last_lsn: lastLsn,
            durable_lsn: durableLsn,
            sha256: sha256(data),
          };
          ctx.out.result(doc, () => {
            const durable =
              durableLsn === null
                ? " (not flushed yet: blockctl flush)"
                : `, flushed: durable_lsn ${durableLsn}`;
            return `wrote ${doc.blocks} block(s) at lba ${doc.lba} of ${volume}: lsn ${firstLsn}..${lastLsn}${durable}`;
          });
        }),
    );

  program
    .command("read")
    .description(
      "read whole blocks at an LBA from the primary (or a copy: --allow-copy-read); raw bytes to --out or stdout",
    )
    .argument("<volume>", "volume id")
    .requiredOption("--lba <n>", "first block", lbaArg)
    .requiredOption(
      "--length <bytes>",
      "bytes to read, whole blocks (4096, 1MiB)",
      arg((t) => parseSmallSize(t, "--length", 1, MAX_TRANSFER_BYTES)),
    )
    .option("--out <path>", "write the data to this file (else stdout; --json: base64 in data_base64)")
    .option(COPY_READ_FLAG, COPY_READ_HELP)
    .addHelpText(
      "after",
      "\nExamples:\n  blockctl read vol-1 --lba 0 --length 64KiB --out ./back.bin\n  blockctl --addr 127.0.0.1:7200 read vol-1 --lba 0 --length 4KiB --out ./copy.bin --allow-copy-read",
    )
    .action(
      (
        volume: string,
        opts: { lba: bigint; length: number; out?: string; allowCopyRead?: boolean },
        cmd: Command,
      ) =>
        run(cmd, volume, async (ctx) => {
          if (opts.out === undefined && !ctx.out.json && process.stdout.isTTY === true) {
            throw usageError(
              "refusing to write raw blocks to a terminal",
              "use --out FILE, pipe stdout, or --json (base64)",
            );
          }
          const info = await volumeInfo(ctx, volume);
          if (opts.length % info.block_size !== 0) {
            throw usageError(
              `--length ${opts.length} is not a multiple of the block size ${info.block_size}`,
            );
          }
          const data = await readBlocks(
            ctx,
            volume,
            opts.lba,
            opts.length,
            info.block_size,
            opts.allowCopyRead === true,
          );
          if (opts.out !== undefined) await writeFile(opts.out, data);
          const doc = {
            volume_id: volume,
            lba: opts.lba.toString(),
            bytes: data.length,
            sha256: sha256(data),
            ...(opts.out === undefined ? { data_base64: data.toString("base64") } : { out: opts.out }),
          };
          if (ctx.out.json) ctx.out.jsonLine(doc);
          else if (opts.out === undefined) process.stdout.write(data);
          else
            ctx.out.result(
              doc,
              () => `read ${data.length} bytes at lba ${doc.lba} of ${volume} into ${opts.out}`,
            );
        }),
    );

  program
    .command("flush")
    .description("make every acknowledged write durable under the volume's durability mode")
    .argument("<volume>", "volume id")
    .addOption(expectedEpochOption())
    .addHelpText("after", "\nExample: blockctl flush vol-1")
    .action((volume: string, opts: { expectedEpoch: bigint }, cmd: Command) =>
      run(cmd, volume, async (ctx) => {
        const durableLsn = await flush(ctx, volume, opts.expectedEpoch);
        ctx.out.result(
          { volume_id: volume, durable_lsn: durableLsn },
          () => `flushed ${volume}: durable_lsn ${durableLsn}`,
        );
      }),
    );

  program
    .command("verify")
    .description("read the blocks at an LBA back and compare with a file (zero-padded); exit 5 on mismatch")
    .argument("<volume>", "volume id")
    .requiredOption("--lba <n>", "first block", lbaArg)
    .requiredOption("--file <path>", "expected data")
    .option(COPY_READ_FLAG, COPY_READ_HELP)
    .addHelpText(
      "after",
      "\nExamples:\n  blockctl verify vol-1 --lba 0 --file ./data.bin\n  blockctl --addr 127.0.0.1:7200 verify vol-1 --lba 0 --file ./data.bin --allow-copy-read",
    )
    .action((volume: string, opts: { lba: bigint; file: string; allowCopyRead?: boolean }, cmd: Command) =>
      run(cmd, volume, async (ctx) => {
        const info = await volumeInfo(ctx, volume);
        const expected = padToBlocks(await readInput(opts.file), info.block_size);
        const actual = await readBlocks(
          ctx,
          volume,
          opts.lba,
          expected.length,
          info.block_size,
          opts.allowCopyRead === true,
        );
        const index = firstDifference(expected, actual);
        if (index >= 0) {
          const block = opts.lba + BigInt(Math.floor(index / info.block_size));
          throw new CliError(
            ExitCode.MISMATCH,
            "MISMATCH",
            "data_mismatch",
            `${volume} on ${ctx.addr} differs from ${opts.file} at byte ${index} (block ${block}): expected 0x${hexByte(expected[index])}, read 0x${hexByte(actual[index])}`,
            "the copy does not hold that data: was it written to this volume and LBA, and flushed? (blockctl status)",
          );
        }
        ctx.out.result(
          {
            volume_id: volume,
            lba: opts.lba.toString(),
            bytes: expected.length,
            match: true,
            sha256: sha256(actual),
          },
          () => `verified ${expected.length} bytes at lba ${opts.lba} of ${volume} on ${ctx.addr}: match`,
        );
      }),
    );
}

function hexByte(value: number | undefined): string {
  return (value ?? 0).toString(16).padStart(2, "0");
}

/** Index of the first differing byte, or -1 when equal (lengths differing count as a difference). */
export function firstDifference(a: Buffer, b: Buffer): number {
  if (a.equals(b)) return -1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) if (a[i] !== b[i]) return i;
  return n;
}
