// NBD test helpers: the NBD address an agent reported in its "listening" line, bounded runs of the
// real client tools (nbdinfo, nbdcopy, qemu-img, qemu-io, fio, nbdfuse, mount, e2fsck), and a
// check that the tools exist (a missing tool fails the test that needs it, saying so).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import type { AgentHandle } from "./agents";

/** `host:port` of the agent's NBD server, from the last "listening" line it printed. */
export function nbdAddressOf(agent: AgentHandle): string {
  const lines = agent
    .logs()
    .split("\n")
    .filter((l) => l.includes('"listening"'));
  const last = lines.at(-1);
  if (last === undefined) throw new Error(`${agent.serverId}: no "listening" line`);
  const msg = JSON.parse(last) as { nbdAddress?: string | null };
  if (typeof msg.nbdAddress !== "string") throw new Error(`${agent.serverId}: NBD is off (${last})`);
  return msg.nbdAddress;
}

export function nbdUri(agent: AgentHandle, volumeId: string): string {
  return `nbd://${nbdAddressOf(agent)}/${volumeId}`;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion, killed after `timeoutMs`; never throws on a non-zero exit. */
export function run(
  cmd: string,
  args: readonly string[],
  options: { timeoutMs?: number; input?: Buffer; env?: Record<string, string> } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ...options.env },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.end(options.input);
  });
}

/** Like run(), but a non-zero exit throws with the command and its output. */
export async function runOk(
  cmd: string,
  args: readonly string[],
  options: { timeoutMs?: number; input?: Buffer; env?: Record<string, string> } = {},
): Promise<RunResult> {
  const r = await run(cmd, args, options);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r;
}

/** Throws (failing the test) when a tool is missing: `.ci/run` installs them. */
export function requireTools(...tools: string[]): void {
  const missing = tools.filter((t) => {
    try {
      execFileSync("sh", ["-c", `command -v ${t}`], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new Error(
      `missing tools: ${missing.join(", ")} (Debian: apt-get install libnbd-bin qemu-utils fio e2fsprogs fuse3; .ci/run installs them)`,
    );
  }
}

/** A long-running tool (nbdfuse) that is stopped at the end. */
export function spawnLong(
  cmd: string,
  args: readonly string[],
): { child: ChildProcess; output: () => string } {
  const child = spawn(cmd, [...args], { stdio: ["ignore", "pipe", "pipe"] });
  const chunks: string[] = [];
  child.stdout?.on("data", (b: Buffer) => chunks.push(b.toString()));
  child.stderr?.on("data", (b: Buffer) => chunks.push(b.toString()));
  return { child, output: () => chunks.join("") };
}
