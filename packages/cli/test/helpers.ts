// Real agent processes and the real blockctl binary for the CLI's end-to-end tests. The agent
// part follows packages/agent/test/process-helpers.ts (copied: tests do not import across packages).
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import {
  type AllocateVolumeResponse__Output,
  type ApplyAssignmentsResponse__Output,
  type Assignment,
  type FlushResponse__Output,
  type ReadResponse__Output,
  unary,
  type VolumeStatus__Output,
  type WriteResponse__Output,
} from "@blockship/rpc";
import { Context } from "../src/context";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const BLOCKCTL = join(REPO_ROOT, "packages/cli/bin/blockctl.js");

export interface AgentProcess {
  readonly serverId: string;
  readonly address: string;
  readonly dataDir: string;
  readonly output: string[];
  /** SIGKILL, wait, remove the data dir. */
  cleanup(): Promise<void>;
}

/** Starts `services/<kind>-agent` on 127.0.0.1:0 with a temp data dir; resolves once it listens. */
export async function startAgent(
  kind: "primary" | "replica",
  serverId: string,
  extraArgs: readonly string[] = [],
): Promise<AgentProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), `blockctl-${serverId}-`));
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(REPO_ROOT, `services/${kind}-agent/src/main.ts`),
      "--listen",
      "127.0.0.1:0",
      "--server-id",
      serverId,
      "--data-dir",
      dataDir,
      "--log-level",
      "warn",
      ...(extraArgs.some((a) => a.startsWith("--tls-")) ? [] : ["--insecure"]),
      ...extraArgs,
    ],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  const output: string[] = [];
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (l) => output.push(l));
  const exited = once(child, "exit");
  const address = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      output.push(line);
      try {
        const msg = JSON.parse(line) as { msg?: string; address?: string };
        if (msg.msg === "listening" && typeof msg.address === "string") resolve(msg.address);
      } catch {
        // not JSON: kept for the failure message
      }
    });
    exited.then(([code]) => reject(new Error(`agent ${serverId} exited (${code}): ${output.join("\n")}`)));
  });
  return {
    serverId,
    address,
    dataDir,
    output,
    cleanup: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly args: readonly string[];
}

/** blockctl runs plaintext against the plaintext test agents unless a test says otherwise. */
function startBlockctl(args: readonly string[], env: Record<string, string | undefined>): ChildProcess {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, BLOCKSHIP_INSECURE: "true", ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete childEnv[key];
  return spawn(process.execPath, [BLOCKCTL, ...args], {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Runs `blockctl args...` to completion (BLOCKSHIP_ADDR unset unless given). */
export async function blockctl(
  args: readonly string[],
  env: Record<string, string | undefined> = { BLOCKSHIP_ADDR: undefined },
): Promise<CliRun> {
  const child = startBlockctl(args, env);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr, args };
}

/** The single JSON document a `--json` run printed on stdout. */
export function jsonOf<T = Record<string, unknown>>(run: CliRun): T {
  const lines = run.stdout.trim().split("\n");
  if (lines.length !== 1)
    throw new Error(`expected one JSON line from ${run.args.join(" ")}, got:\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(lines[0] as string) as T;
}

/** A long-running blockctl (watch): resolves `waitFor` when stdout contains the text. */
export function spawnBlockctl(args: readonly string[]) {
  const child = startBlockctl(args, { BLOCKSHIP_ADDR: undefined });
  let stdout = "";
  let stderr = "";
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
    for (const w of waiters.filter((x) => stdout.includes(x.text))) w.resolve();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor: (text: string) =>
      new Promise<void>((resolve, reject) => {
        if (stdout.includes(text)) resolve();
        else waiters.push({ text, resolve });
        exited.then(([code]) =>
          reject(new Error(`blockctl exited (${code}) before printing ${text}: ${stdout}\n${stderr}`)),
        );
      }),
  };
}

/** In-process Control/Volume calls to a plaintext test agent, for a test's setup and checks. */
export class AgentApi {
  private readonly ctx: Context;

  constructor(readonly address: string) {
    this.ctx = new Context({
      addr: address,
      json: true,
      timeoutMs: 10_000,
      security: () => ({ mode: "insecure" }),
    });
  }

  async allocate(volumeId: string, sizeBytes: number, walSizeBytes: number): Promise<void> {
    await unary<AllocateVolumeResponse__Output>((cb) =>
      this.ctx.control().AllocateVolume(
        {
          volume_id: volumeId,
          size_bytes: String(sizeBytes),
          block_size: 4096,
          wal_size_bytes: String(walSizeBytes),
          durability_mode: "DURABILITY_MODE_BEST_EFFORT",
        },
        this.ctx.deadline(),
        cb,
      ),
    );
  }

  async assign(assignment: Assignment): Promise<void> {
    const response = await unary<ApplyAssignmentsResponse__Output>((cb) =>
      this.ctx.control().ApplyAssignments({ assignments: [assignment] }, this.ctx.deadline(), cb),
    );
    const status = response.results[0]?.status;
    if (status !== null && status !== undefined && status.code !== 0)
      throw new Error(`assign ${assignment.volume_id}: ${status.reason}: ${status.message}`);
  }

  /** Writes and flushes; resolves with the write's LSN. */
  async writeFlushed(volumeId: string, lba: number, data: Buffer): Promise<bigint> {
    const written = await unary<WriteResponse__Output>((cb) =>
      this.ctx.volume().Write({ volume_id: volumeId, lba: String(lba), data }, this.ctx.deadline(), cb),
    );
    await unary<FlushResponse__Output>((cb) =>
      this.ctx.volume().Flush({ volume_id: volumeId }, this.ctx.deadline(), cb),
    );
    return BigInt(written.lsn);
  }

  /** Reads this agent's copy whatever its role (allow_copy_read): tests compare copies. */
  async read(volumeId: string, lba: number, lengthBytes: number): Promise<Buffer> {
    const response = await unary<ReadResponse__Output>((cb) =>
      this.ctx
        .volume()
        .Read(
          { volume_id: volumeId, lba: String(lba), length_bytes: lengthBytes, allow_copy_read: true },
          this.ctx.deadline(),
          cb,
        ),
    );
    return response.data;
  }

  status(volumeId: string): Promise<VolumeStatus__Output> {
    return this.ctx.volumeStatus(volumeId);
  }

  close(): void {
    this.ctx.close();
  }
}

/** The repo's one polling helper (no fixed sleeps: checked until true or its timeout). */
export { waitFor } from "../../../test/support/agents";
