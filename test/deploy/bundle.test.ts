// The agent bundle the container image runs (deploy/build-agent.mjs): built into a temp dir laid
// out like the image's /app (bundles + proto/ + package.json + node_modules), then the bundled
// replica agent is started from there with a plain `node` (no tsx, no repo on the path for protos)
// and driven over gRPC: health, AllocateVolume, SIGTERM → exit 0.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import {
  type AllocateVolumeResponse__Output,
  closeClient,
  createControlClient,
  createHealthClient,
  deadlineIn,
  type HealthCheckResponse__Output,
  unary,
} from "@blockship/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildResult, buildAgent, ENTRY_POINTS } from "../../deploy/build-agent.mjs";
import { REPO_ROOT, readYamlFile, type StatefulSetView } from "./k8s";

const START_TIMEOUT_MS = 20_000;
const CALL_TIMEOUT_MS = 10_000;

let appDir: string;
let dataDir: string;
let built: BuildResult;

beforeAll(async () => {
  appDir = mkdtempSync(join(tmpdir(), "blockship-bundle-"));
  dataDir = mkdtempSync(join(tmpdir(), "blockship-bundle-data-"));
  built = await buildAgent(appDir);
  // The image copies the production node_modules next to the bundles; the repo's has the same
  // packages (same lockfile), so link it.
  symlinkSync(join(REPO_ROOT, "node_modules"), join(appDir, "node_modules"), "dir");
});

afterAll(() => {
  rmSync(appDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe("deploy/build-agent.mjs", () => {
  it("writes one bundle per deployable, the protos and the runtime package.json", () => {
    for (const name of Object.keys(ENTRY_POINTS)) expect(built.files).toContain(`${name}.mjs`);
    for (const proto of ["common", "control", "volume", "replication", "rebuild"]) {
      expect(existsSync(join(appDir, "proto", "blockship", "v1", `${proto}.proto`)), proto).toBe(true);
    }
    const manifest = JSON.parse(readFileSync(join(appDir, "package.json"), "utf8")) as {
      type: string;
      dependencies: Record<string, string>;
    };
    expect(manifest.type).toBe("module");
    expect(manifest.dependencies).toEqual(built.dependencies);
    // No TypeScript at run time: the bundle is plain JS and nothing of ours stays external.
    const bundle = readFileSync(join(appDir, "primary-agent.mjs"), "utf8");
    expect(bundle).not.toMatch(/from ["']@blockship\//);
    expect(bundle).not.toMatch(/from ["']tsx/);
  });

  it("imports only node builtins and the pinned runtime dependencies, as installed by the lockfile", () => {
    const builtins = new Set(builtinModules);
    for (const imported of built.externalImports) {
      if (imported.startsWith("node:")) {
        expect(builtins, imported).toContain(imported.slice("node:".length));
        continue;
      }
      const pkg = imported.startsWith("@")
        ? imported.split("/").slice(0, 2).join("/")
        : imported.split("/")[0];
      expect(Object.keys(built.dependencies), imported).toContain(pkg);
    }
    // The image's `npm ci --omit=dev` (lockfile-pinned) puts these versions at the top of node_modules.
    for (const [name, version] of Object.entries(built.dependencies)) {
      const installed = JSON.parse(
        readFileSync(join(REPO_ROOT, "node_modules", name, "package.json"), "utf8"),
      ) as { version: string };
      expect(installed.version, name).toBe(version);
    }
    expect(Object.keys(built.dependencies)).not.toContain("tsx");
    expect(Object.keys(built.dependencies)).not.toContain("esbuild");
  });
});

describe("the bundled agents", () => {
  let child: ChildProcess;
  let exit: Promise<[number | null, NodeJS.Signals | null]>;
  const output: string[] = [];

  afterAll(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  it.each(Object.keys(ENTRY_POINTS))("%s prints its usage with --help", async (name) => {
    const help = spawn(process.execPath, ["--enable-source-maps", join(appDir, `${name}.mjs`), "--help"], {
      cwd: appDir,
      env: { PATH: process.env.PATH ?? "" },
    });
    let text = "";
    help.stdout.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    const [code] = (await once(help, "exit")) as [number | null];
    expect(code).toBe(0);
    expect(text.startsWith(`${name}: usage`)).toBe(true);
    for (const env of ["BLOCKSHIP_SERVER_ID", "BLOCKSHIP_DEVICES"]) expect(text).toContain(env);
  });

  it("the replica agent starts from the bundle dir alone, serves health and Control, stops on SIGTERM with exit 0", async () => {
    // Only the variables the manifests use; no BLOCKSHIP_PROTO_ROOT: the bundle finds ./proto.
    // Exactly the arguments the replica StatefulSet gives the image's node entrypoint, /app → appDir.
    const [sts] = readYamlFile("base/replica-statefulset.yaml") as unknown as StatefulSetView[];
    const manifestArgs = sts?.spec.template.spec.containers[0]?.args ?? [];
    expect(manifestArgs.at(-1)).toBe("/app/replica-agent.mjs");
    const args = manifestArgs.map((a) => (a.startsWith("/app/") ? join(appDir, a.slice("/app/".length)) : a));
    child = spawn(process.execPath, args, {
      cwd: appDir,
      env: {
        PATH: process.env.PATH ?? "",
        BLOCKSHIP_SERVER_ID: "blockship-replica-0",
        BLOCKSHIP_LISTEN: "127.0.0.1:0",
        BLOCKSHIP_DATA_DIR: dataDir,
        BLOCKSHIP_LOG_LEVEL: "warn",
        BLOCKSHIP_SHUTDOWN_TIMEOUT_MS: "5000",
        // The base's ConfigMap chooses plaintext explicitly (components/tls turns TLS on).
        BLOCKSHIP_INSECURE: "true",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    exit = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no listening line in ${START_TIMEOUT_MS} ms:\n${output.join("")}`)),
        START_TIMEOUT_MS,
      );
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`agent exited (${code}) before listening:\n${output.join("")}`));
      });
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
        output.push(`${line}\n`);
        const msg = JSON.parse(line) as { msg?: string; address?: string };
        if (msg.msg === "listening" && msg.address !== undefined) {
          clearTimeout(timer);
          resolve(msg.address);
        }
      });
    });

    const health = createHealthClient(address);
    const control = createControlClient(address);
    try {
      const overall = await unary<HealthCheckResponse__Output>((cb) =>
        health.Check({ service: "" }, deadlineIn(CALL_TIMEOUT_MS), cb),
      );
      expect(overall.status).toBe("SERVING");
      const allocated = await unary<AllocateVolumeResponse__Output>((cb) =>
        control.AllocateVolume(
          {
            volume_id: "vol-1",
            size_bytes: String(4 * 1024 * 1024),
            durability_mode: "DURABILITY_MODE_BEST_EFFORT",
          },
          deadlineIn(CALL_TIMEOUT_MS),
          cb,
        ),
      );
      expect(allocated.created).toBe(true);
      expect(existsSync(join(dataDir, "volumes", "vol-1.blk"))).toBe(true);
    } finally {
      closeClient(health);
      closeClient(control);
    }

    child.kill("SIGTERM");
    const [code, signal] = await exit;
    expect({ code, signal, output: code === 0 ? "" : output.join("") }).toEqual({
      code: 0,
      signal: null,
      output: "",
    });
  });
});
