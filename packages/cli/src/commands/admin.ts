// allocate / delete: create and remove a volume on one agent.

import {
  type AllocateVolumeResponse__Output,
  type DeleteVolumeResponse__Output,
  u64ToWire,
  unary,
} from "@blockship/rpc";
import { type Command, Option } from "commander";
import { volumeStatusJson, wireEnum } from "../format";
import type { VerbRunner } from "../program";
import { arg } from "../program";
import { formatBytes, parseSize, parseSmallSize } from "../sizes";

export const DURABILITY_CHOICES = ["best_effort", "sync_all", "sync_quorum"] as const;

export function durabilityOption(defaultValue?: string): Option {
  const option = new Option("--durability <mode>", "durability mode").choices(DURABILITY_CHOICES);
  return defaultValue === undefined ? option : option.default(defaultValue);
}

export function registerAdminVerbs(program: Command, run: VerbRunner): void {
  program
    .command("allocate")
    .description("create a volume (device file) on the agent, in role none; idempotent")
    .argument("<volume>", "volume id")
    .requiredOption(
      "--size <size>",
      "volume size: 4096, 64KiB, 1GiB, 1G",
      arg((t) => parseSize(t, "--size")),
    )
    .option(
      "--block-size <size>",
      "block size, a power of two 512..64KiB",
      arg((t) => parseSmallSize(t, "--block-size", 512, 65536)),
      4096,
    )
    .option(
      "--wal-size <size>",
      "WAL size (default: the agent's --default-wal-size)",
      arg((t) => parseSize(t, "--wal-size")),
    )
    .addOption(durabilityOption("best_effort"))
    .addHelpText("after", "\nExample: blockctl allocate vol-1 --size 1GiB --durability sync_all")
    .action(
      (
        volume: string,
        opts: { size: bigint; blockSize: number; walSize?: bigint; durability: string },
        cmd: Command,
      ) =>
        run(cmd, volume, async (ctx) => {
          const response = await unary<AllocateVolumeResponse__Output>((cb) =>
            ctx.control().AllocateVolume(
              {
                volume_id: volume,
                size_bytes: u64ToWire(opts.size),
                block_size: opts.blockSize,
                wal_size_bytes: u64ToWire(opts.walSize ?? 0n),
                durability_mode: wireEnum(opts.durability, "DURABILITY_MODE_") as "DURABILITY_MODE_SYNC_ALL",
              },
              ctx.deadline(),
              cb,
            ),
          );
          const status = response.volume === null ? null : volumeStatusJson(response.volume);
          ctx.out.result({ created: response.created, volume: status }, () => {
            const verb = response.created ? "created" : "already exists (same parameters)";
            const geometry =
              status === null
                ? ""
                : `: ${formatBytes(status.size_bytes)}, block ${status.block_size}, WAL ${formatBytes(status.wal_size_bytes)}, ${status.durability_mode}`;
            return `volume ${volume} ${verb} on ${ctx.addr}${geometry}`;
          });
        }),
    );

  program
    .command("delete")
    .description("close and delete a volume and its device file; idempotent")
    .argument("<volume>", "volume id")
    .addHelpText("after", "\nExample: blockctl delete vol-1")
    .action((volume: string, _opts: unknown, cmd: Command) =>
      run(cmd, volume, async (ctx) => {
        const response = await unary<DeleteVolumeResponse__Output>((cb) =>
          ctx.control().DeleteVolume({ volume_id: volume }, ctx.deadline(), cb),
        );
        ctx.out.result({ volume_id: volume, existed: response.existed }, () =>
          response.existed
            ? `volume ${volume} deleted on ${ctx.addr}`
            : `volume ${volume} did not exist on ${ctx.addr}`,
        );
      }),
    );
}
