// Real agent processes for cross-package tests: `node --import tsx services/<kind>-agent/src/main.ts`
// on loopback with a temp data dir. A handle can be SIGKILLed or SIGTERMed and restarted on the
// same data dir and the same port (so replica-set addresses stay valid across restarts), and it
// keeps the process output so a failing test can show what the agent said.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import {
  type ControlClient,
  closeClient,
  createControlClient,
  createHealthClient,
  createRebuildClient,
  createReplicationClient,
  createVolumeClient,
  type HealthClient,
  type RebuildClient,
  type ReplicationClient,
  type VolumeClient,
} from "@blockship/rpc";
import type { ChannelCredentials } from "@grpc/grpc-js";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Output lines kept per agent (across restarts) for failure reports (BLOCKSHIP_TEST_LOG_LINES raises it). */
const LOG_LINES_KEPT = Number(process.env.BLOCKSHIP_TEST_LOG_LINES ?? "") || 400;
/** Bound on a start (tsx compiles the agent on first use; CI machines are slow). */
const START_TIMEOUT_MS = 30_000;

export type AgentKind = "primary" | "replica";

export interface AgentOptions {
  readonly kind: AgentKind;
  readonly serverId: string;
  /** Data directory; a fresh temp dir (removed by `cleanup()`) when absent. */
  readonly dataDir?: string;
  /** Extra flags, e.g. `["--barrier-timeout-ms", "1000"]`. */
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Extra node flags before the script, e.g. `["--cpu-prof", "--cpu-prof-dir=/tmp/p"]`. */
  readonly nodeArgs?: readonly string[];
  /** Credentials of the typed clients (TLS agents); default plaintext. */
  readonly clientCredentials?: ChannelCredentials;
}

/** One agent: a process that can be killed and restarted on the same data dir and port. */
export class AgentHandle {
  readonly kind: AgentKind;
  readonly serverId: string;
  readonly dataDir: string;
  private readonly ownsDataDir: boolean;
  private readonly args: readonly string[];
  private readonly env: Readonly<Record<string, string>>;
  private readonly nodeArgs: readonly string[];
  private readonly clientCredentials: ChannelCredentials | undefined;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private port = 0;
  private readonly output: string[] = [];
  private clients:
    | {
        control: ControlClient;
        volume: VolumeClient;
        health: HealthClient;
        replication: ReplicationClient;
        rebuild: RebuildClient;
      }
    | undefined;
  private starts = 0;

  private constructor(options: AgentOptions) {
    this.kind = options.kind;
    this.serverId = options.serverId;
    this.ownsDataDir = options.dataDir === undefined;
    this.dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), `blockship-${options.serverId}-`));
    this.args = options.args ?? [];
    this.env = options.env ?? {};
    this.nodeArgs = options.nodeArgs ?? [];
    this.clientCredentials = options.clientCredentials;
  }

  static async start(options: AgentOptions): Promise<AgentHandle> {
    const handle = new AgentHandle(options);
    await handle.spawnProcess();
    return handle;
  }

  private metricsAddr: string | undefined;

  /** The Prometheus endpoint (`--metrics-listen`) of the current process, if enabled. */
  get metricsAddress(): string | undefined {
    return this.metricsAddr;
  }

  /** `127.0.0.1:<port>`: the same across restarts. */
  get address(): string {
    if (this.port === 0) throw new Error(`${this.serverId}: not started`);
    return `127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Typed clients for the current process (re-created after a restart). */
  get control(): ControlClient {
    return this.clientSet().control;
  }
  get volume(): VolumeClient {
    return this.clientSet().volume;
  }
  get health(): HealthClient {
    return this.clientSet().health;
  }
  get replication(): ReplicationClient {
    return this.clientSet().replication;
  }
  get rebuild(): RebuildClient {
    return this.clientSet().rebuild;
  }

  /** The last lines the agent printed (stdout and stderr, all its lives), for failure reports. */
  logs(): string {
    return `--- ${this.kind} agent ${this.serverId} (${this.dataDir}) ---\n${this.output.join("\n")}`;
  }

  /** Sends `signal` and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    this.closeClients();
    if (!this.running) return;
    this.child?.kill(signal);
    await this.exited;
  }

  /** Starts a new process on the same data dir and port (the previous one must have exited). */
  async restart(): Promise<void> {
    if (this.running) throw new Error(`${this.serverId}: restart while running (kill it first)`);
    await this.spawnProcess();
  }

  /** Kills the process (SIGKILL) and removes a data dir this handle created. */
  async cleanup(): Promise<void> {
    await this.kill("SIGKILL");
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  private clientSet() {
    if (this.clients === undefined) {
      const address = this.address;
      const o = this.clientCredentials === undefined ? {} : { credentials: this.clientCredentials };
      this.clients = {
        control: createControlClient(address, o),
        volume: createVolumeClient(address, o),
        health: createHealthClient(address, o),
        replication: createReplicationClient(address, o),
        rebuild: createRebuildClient(address, o),
      };
    }
    return this.clients;
  }

  private closeClients(): void {
    if (this.clients === undefined) return;
    closeClient(this.clients.control);
    closeClient(this.clients.volume);
    closeClient(this.clients.health);
    closeClient(this.clients.replication);
    closeClient(this.clients.rebuild);
    this.clients = undefined;
  }

  private remember(line: string): void {
    this.output.push(line);
    if (this.output.length > LOG_LINES_KEPT) this.output.splice(0, this.output.length - LOG_LINES_KEPT);
  }

  private async spawnProcess(): Promise<void> {
    this.closeClients();
    this.starts += 1;
    this.remember(`=== start #${this.starts} ===`);
    const child = spawn(
      process.execPath,
      [
        ...this.nodeArgs,
        "--import",
        "tsx",
        join(REPO_ROOT, `services/${this.kind}-agent/src/main.ts`),
        "--listen",
        `127.0.0.1:${this.port}`,
        "--server-id",
        this.serverId,
        "--data-dir",
        this.dataDir,
        // Plaintext unless the test configures TLS (the agent requires one or the other).
        ...(this.args.some((a) => a.startsWith("--tls-")) ? [] : ["--insecure"]),
        ...this.args,
      ],
      { cwd: REPO_ROOT, env: { ...process.env, ...this.env }, stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child = child;
    const exit = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    this.exited = exit.then(() => undefined);
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (l) =>
      this.remember(`[stderr] ${l}`),
    );
    const listening = new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
        this.remember(line);
        if (!line.includes('"listening"')) return;
        try {
          const msg = JSON.parse(line) as { msg?: string; address?: string; metricsAddress?: string | null };
          if (msg.msg === "listening" && typeof msg.address === "string") {
            this.metricsAddr = typeof msg.metricsAddress === "string" ? msg.metricsAddress : undefined;
            resolve(msg.address);
          }
        } catch {
          // not JSON: kept in the output for the failure report
        }
      });
      exit.then(([code, signal]) =>
        reject(new Error(`${this.serverId} exited (${code ?? signal}) before listening\n${this.logs()}`)),
      );
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`${this.serverId}: no "listening" line in ${START_TIMEOUT_MS} ms\n${this.logs()}`),
          ),
        START_TIMEOUT_MS,
      );
    });
    try {
      const address = await Promise.race([listening, timeout]);
      const port = Number(address.slice(address.lastIndexOf(":") + 1));
      if (!Number.isInteger(port) || port <= 0) throw new Error(`${this.serverId}: bad address ${address}`);
      if (this.port !== 0 && port !== this.port) throw new Error(`${this.serverId}: port changed to ${port}`);
      this.port = port;
    } catch (err) {
      child.kill("SIGKILL");
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A set of agents started by one test file, cleaned up together, with logs for failures. */
export class AgentFleet {
  private readonly agents: AgentHandle[] = [];

  async start(options: AgentOptions): Promise<AgentHandle> {
    const agent = await AgentHandle.start(options);
    this.agents.push(agent);
    return agent;
  }

  logs(): string {
    return this.agents.map((a) => a.logs()).join("\n");
  }

  /** Stops every agent with `signal` (SIGTERM: graceful) and waits for the exits. */
  async stopAll(signal: NodeJS.Signals): Promise<void> {
    await Promise.all(this.agents.map((a) => a.kill(signal)));
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.cleanup()));
    this.agents.length = 0;
  }
}

/** Waits for a condition by polling (no fixed sleeps); fails with `what` after timeoutMs. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}
