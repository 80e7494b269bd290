// The command line: global flags, the verbs (each registered by its module), usage errors and the
// one place where failures become an exit code and a message.

import type { TransportSecurity } from "@blockship/rpc";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { registerAdminVerbs } from "./commands/admin";
import { registerAssignVerbs } from "./commands/assign";
import { registerBenchVerb } from "./commands/bench";
import { registerIoVerbs } from "./commands/io";
import { registerRebuildVerb } from "./commands/rebuild";
import { registerRecoveryVerbs } from "./commands/recovery";
import { registerStatusVerbs } from "./commands/status";
import { registerWatchVerb } from "./commands/watch";
import { Context, DEFAULT_ADDR, DEFAULT_TIMEOUT_MS, type GlobalOptions } from "./context";
import { type CliError, toCliError, usageError } from "./errors";
import { EXIT_CODE_HELP, ExitCode } from "./exit-codes";
import { Output } from "./output";
import { ArgumentError, parseIntInRange } from "./sizes";
import { envFlag, transportSecurity } from "./transport";

/** Reasons after which a GetStatus tells the operator what the volume's epoch/role is now. */
const REASONS_WORTH_A_STATUS = new Set(["epoch_stale", "epoch_regression", "not_primary", "lease_expired"]);
const STATUS_LOOKUP_TIMEOUT_MS = 2_000;

/** Runs one verb with a Context; records its failure as an exit code. */
export type VerbRunner = (
  cmd: Command,
  volumeId: string | undefined,
  body: (ctx: Context) => Promise<void>,
) => Promise<void>;

/** Adapts a value parser that throws ArgumentError to commander's InvalidArgumentError (→ usage error). */
export function arg<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (err) {
      if (err instanceof ArgumentError) throw new InvalidArgumentError(err.message);
      throw err;
    }
  };
}

export function parseAddr(text: string, what = "--addr"): string {
  if (!/^[^\s:]+:\d{1,5}$/.test(text) && !/^\[[0-9a-fA-F:.]+\]:\d{1,5}$/.test(text)) {
    throw new ArgumentError(`${what}: "${text}" is not host:port`);
  }
  return text;
}

/** Global options of a verb; the transport is checked when the verb first dials (usage error). */
function globalOptions(cmd: Command): GlobalOptions {
  const opts = cmd.optsWithGlobals<{
    addr: string;
    json?: boolean;
    timeoutMs: number;
    tlsCa?: string;
    tlsCert?: string;
    tlsKey?: string;
    insecure?: boolean;
  }>();
  let resolved: TransportSecurity | undefined;
  const security = (): TransportSecurity => {
    // Read by hand: commander would take any BLOCKSHIP_INSECURE value (even "false") as true.
    const insecure = opts.insecure === true || envFlag(process.env.BLOCKSHIP_INSECURE) === true;
    resolved ??= transportSecurity({
      ...(opts.tlsCa === undefined ? {} : { tlsCa: opts.tlsCa }),
      ...(opts.tlsCert === undefined ? {} : { tlsCert: opts.tlsCert }),
      ...(opts.tlsKey === undefined ? {} : { tlsKey: opts.tlsKey }),
      insecure,
    });
    return resolved;
  };
  return { addr: opts.addr, json: opts.json === true, timeoutMs: opts.timeoutMs, security };
}

export function buildProgram(run: VerbRunner): Command {
  const program = new Command("blockctl");
  program
    .description("blockctl: drive blockship agents over gRPC (the master's and the operator's verbs)")
    .addOption(
      new Option("--addr <host:port>", "agent address")
        .env("BLOCKSHIP_ADDR")
        .default(DEFAULT_ADDR)
        .argParser(arg((t) => parseAddr(t))),
    )
    .option("--json", 'machine output: one JSON document on stdout (errors too: {"error":{...}})')
    .addOption(
      new Option("--timeout-ms <ms>", "deadline of each RPC")
        .default(DEFAULT_TIMEOUT_MS)
        .argParser(arg((t) => parseIntInRange(t, "--timeout-ms", 1, 3_600_000))),
    )
    .addOption(
      new Option("--tls-ca <file>", "TLS: PEM CA bundle the agent's certificate must chain to").env(
        "BLOCKSHIP_TLS_CA",
      ),
    )
    .addOption(
      new Option("--tls-cert <file>", "mutual TLS: PEM client certificate (its CN is your identity)").env(
        "BLOCKSHIP_TLS_CERT",
      ),
    )
    .addOption(
      new Option("--tls-key <file>", "mutual TLS: PEM private key of --tls-cert").env("BLOCKSHIP_TLS_KEY"),
    )
    .option("--insecure", "plaintext gRPC (env BLOCKSHIP_INSECURE=true); otherwise TLS flags are required")
    .addHelpText(
      "after",
      `\n${EXIT_CODE_HELP}\n\nEnvironment: BLOCKSHIP_ADDR (default ${DEFAULT_ADDR}), BLOCKSHIP_TLS_CA, BLOCKSHIP_TLS_CERT, BLOCKSHIP_TLS_KEY, BLOCKSHIP_INSECURE.`,
    )
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  registerAdminVerbs(program, run);
  registerAssignVerbs(program, run);
  registerStatusVerbs(program, run);
  registerWatchVerb(program, run);
  registerRecoveryVerbs(program, run);
  registerRebuildVerb(program, run);
  registerIoVerbs(program, run);
  registerBenchVerb(program, run);
  return program;
}

/** What failed, enriched with the volume's current epoch/role when that helps the operator. */
async function describeFailure(err: unknown, ctx: Context, volumeId: string | undefined): Promise<CliError> {
  const base = { addr: ctx.addr, volumeId, timeoutMs: ctx.options.timeoutMs };
  const first = toCliError(err, base);
  if (volumeId === undefined || !REASONS_WORTH_A_STATUS.has(first.reason)) return first;
  const lookup = new Context({ ...ctx.options, timeoutMs: STATUS_LOOKUP_TIMEOUT_MS });
  try {
    const status = await lookup.volumeStatus(volumeId);
    return toCliError(err, {
      ...base,
      currentEpoch: status.epoch,
      currentRole: status.role.replace(/^ROLE_/, ""),
    });
  } catch {
    return first;
  } finally {
    lookup.close();
  }
}

/** Runs blockctl with `argv` (without node and script); resolves with the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  let exitCode: number = ExitCode.OK;
  const run: VerbRunner = async (cmd, volumeId, body) => {
    const ctx = new Context(globalOptions(cmd));
    try {
      await body(ctx);
    } catch (err) {
      const failure = await describeFailure(err, ctx, volumeId);
      ctx.out.error(failure);
      exitCode = failure.exitCode;
    } finally {
      ctx.close();
    }
  };
  const program = buildProgram(run);
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    // --help, --version, and "no verb" (help shown) are not failures of the command line.
    if (err.exitCode === 0 || err.code === "commander.help" || err.code === "commander.helpDisplayed") {
      return err.code === "commander.help" ? ExitCode.USAGE : ExitCode.OK;
    }
    new Output(argv.includes("--json")).error(usageError(err.message.replace(/^error: /, "")));
    return ExitCode.USAGE;
  }
  return exitCode;
}
