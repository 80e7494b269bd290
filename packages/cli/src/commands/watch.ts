// watch: follows Control.WatchStatus. On a TTY the table is redrawn in place; otherwise every
// report is printed as plain lines (--json: one JSON document per line). Ctrl-C exits 0.
import type { WatchStatusResponse__Output } from "@blockship/rpc";
import type { Command } from "commander";
import { shortEnum, statusReportJson, statusTable } from "../format";
import { arg, type VerbRunner } from "../program";
import { parseIntInRange } from "../sizes";

const CLEAR_SCREEN_HOME = "\x1b[H\x1b[2J";
const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";

export function registerWatchVerb(program: Command, run: VerbRunner): void {
  program
    .command("watch")
    .description(
      "live status: a table that redraws on every change (plain lines when not a TTY); Ctrl-C exits 0",
    )
    .argument("[volumes...]", "volume ids (all when none)")
    .option(
      "--interval-ms <ms>",
      "at least one report this often",
      arg((t) => parseIntInRange(t, "--interval-ms", 100, 3_600_000)),
      2000,
    )
    .addHelpText(
      "after",
      "\nExamples:\n  blockctl watch\n  blockctl --json watch vol-1 --interval-ms 500 | jq .volumes",
    )
    .action((volumes: string[], opts: { intervalMs: number }, cmd: Command) =>
      run(cmd, undefined, async (ctx) => {
        const redraw = process.stdout.isTTY === true && !ctx.out.json;
        const call = ctx.control().WatchStatus({ volume_ids: volumes, interval_ms: opts.intervalMs });
        let interrupted = false;
        const onSignal = () => {
          interrupted = true;
          call.cancel();
        };
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
        if (redraw) process.stdout.write(HIDE_CURSOR);
        try {
          await new Promise<void>((resolve, reject) => {
            call.on("data", (message: WatchStatusResponse__Output) => {
              const doc = {
                trigger: shortEnum(message.trigger, "STATUS_TRIGGER_"),
                ...statusReportJson(message.report),
              };
              if (ctx.out.json) ctx.out.jsonLine(doc);
              else if (redraw) {
                const when = new Date(Number(doc.at_unix_ms)).toISOString();
                process.stdout.write(
                  `${CLEAR_SCREEN_HOME}${statusTable(doc)}\n\n${when} · ${doc.trigger} · ${ctx.addr} · Ctrl-C to quit\n`,
                );
              } else process.stdout.write(`--- ${doc.trigger}\n${statusTable(doc)}\n`);
            });
            call.on("error", (err) => (interrupted ? resolve() : reject(err)));
            call.on("end", () => resolve());
          });
        } finally {
          process.off("SIGINT", onSignal);
          process.off("SIGTERM", onSignal);
          if (redraw) process.stdout.write(SHOW_CURSOR);
        }
      }),
    );
}
