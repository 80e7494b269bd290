// status / protocol-state: snapshots of one agent.
import type { GetProtocolStateResponse__Output, GetStatusResponse__Output } from "@blockship/rpc";
import { unary } from "@blockship/rpc";
import type { Command } from "commander";
import { RpcFailure } from "../errors";
import { executionStateJson, protocolStateTable, shortEnum, statusReportJson, statusTable } from "../format";
import type { VerbRunner } from "../program";

export function registerStatusVerbs(program: Command, run: VerbRunner): void {
  program
    .command("status")
    .description(
      "status of the listed volumes (all when none is listed); a listed volume that is missing → exit 4",
    )
    .argument("[volumes...]", "volume ids")
    .addHelpText("after", "\nExamples:\n  blockctl status\n  blockctl --json status vol-1")
    .action((volumes: string[], _opts: unknown, cmd: Command) =>
      run(cmd, volumes.length === 1 ? volumes[0] : undefined, async (ctx) => {
        const response = await unary<GetStatusResponse__Output>((cb) =>
          ctx.control().GetStatus({ volume_ids: volumes }, ctx.deadline(), cb),
        );
        const doc = statusReportJson(response.report);
        const missing = volumes.filter((id) => !doc.volumes.some((v) => v.volume_id === id));
        if (missing.length > 0) {
          throw new RpcFailure(
            5,
            "volume_not_found",
            `no volume ${missing.map((m) => `"${m}"`).join(", ")} on ${ctx.addr}`,
          );
        }
        ctx.out.result(doc, () => statusTable(doc));
      }),
    );

  program
    .command("protocol-state")
    .description("per-replica execution state of a primary volume (the phase gate)")
    .argument("<volume>", "volume id")
    .addHelpText("after", "\nExample: blockctl protocol-state vol-1")
    .action((volume: string, _opts: unknown, cmd: Command) =>
      run(cmd, volume, async (ctx) => {
        const response = await unary<GetProtocolStateResponse__Output>((cb) =>
          ctx.control().GetProtocolState({ volume_id: volume }, ctx.deadline(), cb),
        );
        const doc = {
          volume_id: response.volume_id,
          epoch: response.epoch,
          role: shortEnum(response.role, "ROLE_"),
          replicas: response.replicas.map(executionStateJson),
        };
        ctx.out.result(doc, () => protocolStateTable(doc));
      }),
    );
}
