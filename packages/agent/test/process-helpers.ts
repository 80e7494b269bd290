// Start the real agent process (`node --import tsx services/<kind>-agent/src/main.ts ...`) on a
// free loopback port and wait for its `{"msg":"listening"}` line.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface AgentProcess {
  readonly child: ChildProcess;
  readonly address: string;
  readonly lines: string[];
  readonly stderr: string[];
  /** SIGTERM and wait; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function spawnAgent(
  kind: "primary" | "replica",
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<AgentProcess> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(REPO_ROOT, `services/${kind}-agent/src/main.ts`),
      "--listen",
      "127.0.0.1:0",
      "--insecure",
      ...args,
    ],
    { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const lines: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (l) => stderr.push(l));
  const exited = once(child, "exit") as Promise<[number | null, string | null]>;
  const address = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      lines.push(line);
      try {
        const msg = JSON.parse(line) as { msg?: string; address?: string };
        if (msg.msg === "listening" && typeof msg.address === "string") resolve(msg.address);
      } catch {
        // not JSON: keep it for the failure message
      }
    });
    exited.then(([code]) =>
      reject(new Error(`agent exited (${code}) before listening: ${stderr.join("\n")}`)),
    );
  });
  return {
    child,
    address,
    lines,
    stderr,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await exited;
      return code;
    },
  };
}

/** Runs the agent to completion (config errors, --help). */
export async function runAgent(kind: "primary" | "replica", args: readonly string[]) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(REPO_ROOT, `services/${kind}-agent/src/main.ts`), ...args],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}
