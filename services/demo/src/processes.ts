// Child agent processes for the demo: spawned on loopback, logs to a file, ready when they print
// their `{"msg":"listening"}` line.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface AgentChild {
  readonly name: string;
  readonly serverId: string;
  readonly address: string;
  /** The NBD server's address (export name = volume ID; served by the primary). */
  readonly nbdAddress: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** SIGTERM, then wait for the exit code (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<number | null>;
}

export async function startAgentChild(opts: {
  kind: "primary" | "replica";
  serverId: string;
  dataDir: string;
  logFile: string;
  listen?: string;
}): Promise<AgentChild> {
  const entry = join(REPO_ROOT, `services/${opts.kind}-agent/src/main.ts`);
  const args = ["--import", "tsx", entry, "--listen", opts.listen ?? "127.0.0.1:0"];
  args.push("--server-id", opts.serverId, "--data-dir", opts.dataDir, "--log-level", "info");
  args.push("--nbd-listen", "127.0.0.1:0");
  // The demo stays on loopback and says so: plaintext only because it is asked for.
  args.push("--insecure");
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const log = createWriteStream(opts.logFile, { flags: "a" });
  child.stderr?.pipe(log, { end: false });
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  const { address, nbdAddress } = await new Promise<{ address: string; nbdAddress: string }>(
    (resolve, reject) => {
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
        log.write(`${line}\n`);
        try {
          const msg = JSON.parse(line) as { msg?: string; address?: string; nbdAddress?: string };
          if (msg.msg === "listening" && typeof msg.address === "string")
            resolve({ address: msg.address, nbdAddress: msg.nbdAddress ?? "" });
        } catch {
          // a non-JSON line: it is in the log file
        }
      });
      exited.then(([code, signal]) =>
        reject(
          new Error(`${opts.kind}-agent exited (${code ?? signal}) before listening; see ${opts.logFile}`),
        ),
      );
    },
  );
  const name = `${opts.kind}-agent`;
  return {
    name,
    serverId: opts.serverId,
    address,
    nbdAddress,
    dataDir: opts.dataDir,
    logFile: opts.logFile,
    child,
    stop: async (timeoutMs = 10_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        const [code, signal] = await exited;
        clearTimeout(timer);
        log.end();
        return code ?? (signal === null ? null : -1);
      }
      log.end();
      return child.exitCode;
    },
  };
}
