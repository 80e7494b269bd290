// The process entry shared by services/primary-agent and services/replica-agent.
import { Agent } from "./agent";
import { type ConfigDefaults, ConfigError, HELP_REQUESTED, parseConfig, USAGE } from "./config";
import { tuneGarbageCollector } from "./gc-tuning";
import { createLogger } from "./log";
import { type AgentSecurity, loadAgentSecurity } from "./security";

export interface MainOptions extends ConfigDefaults {
  /** Shown in usage and logs ("primary-agent", "replica-agent"). */
  readonly name: string;
}

/**
 * Parses config (exit 2 with every problem listed), starts the agent (exit 1 on failure), prints
 * one JSON line `{"msg":"listening","address":...}` once serving, and stops cleanly on
 * SIGTERM/SIGINT (exit 0).
 */
export async function runAgentMain(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  options: MainOptions,
): Promise<void> {
  let config: ReturnType<typeof parseConfig>;
  let security: AgentSecurity;
  try {
    config = parseConfig(argv, env, options);
    // The TLS files are read and checked here, so a bad certificate is a configuration error.
    security = loadAgentSecurity(config);
  } catch (err) {
    if (err === HELP_REQUESTED) {
      process.stdout.write(`${options.name}: ${USAGE}\n`);
      return;
    }
    const message = err instanceof ConfigError ? err.message : String(err);
    process.stderr.write(`${options.name}: ${message}\n(run with --help for the flags)\n`);
    process.exitCode = 2;
    return;
  }
  const log = createLogger(config.logLevel, config.serverId).child({ service: options.name });
  tuneGarbageCollector();
  let agent: Agent;
  try {
    agent = await Agent.start({ config, log, security });
  } catch (err) {
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, "agent failed to start");
    process.stderr.write(
      `${options.name}: failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  }
  // From here on nothing that escapes a request takes the process down (see process-guard.ts).
  agent.guardProcess();
  process.stdout.write(
    `${JSON.stringify({ msg: "listening", address: agent.address, advertise: agent.advertise, metricsAddress: agent.metricsAddress ?? null, nbdAddress: agent.nbdAddress ?? null, healthAddress: agent.healthAddress ?? null, serverId: config.serverId, pid: process.pid })}\n`,
  );
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    log.info({ signal }, "shutting down");
    agent.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: String(err) }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
