#!/usr/bin/env node
// Bundles the two agent deployables into plain ESM files for the container image:
//
//   <out>/primary-agent.mjs, <out>/replica-agent.mjs   our workspace code (TypeScript) in one file each
//   <out>/proto/blockship/v1/*.proto                  the wire contract, loaded at start-up
//   <out>/package.json                                the third-party runtime dependencies, exact versions
//
// Third-party packages stay external (resolved from <out>/node_modules at run time): several of them
// locate their own files on disk (grpc-health-check's health.proto via __dirname, @grpc/reflection's
// protos via require.resolve, protobufjs through createRequire), which a bundle would break. Our own
// code is bundled, so the image carries no TypeScript, no tsx and no dev dependencies.
//
// packages/rpc finds the .proto files at BLOCKSHIP_PROTO_ROOT or <repo>/proto; the banner below sets
// BLOCKSHIP_PROTO_ROOT to the proto/ directory next to the bundle (unless already set) before any
// bundled module runs, so the bundle is self-locating wherever it is copied.
//
// usage: node deploy/build-agent.mjs [--out DIR]   (default DIR: dist/agent; run from anywhere)
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WORKSPACE_SCOPE = "@blockship/";

/** Entry points, by output name. Both deployables run the same agent with different defaults. */
export const ENTRY_POINTS = {
  "primary-agent": "services/primary-agent/src/main.ts",
  "replica-agent": "services/replica-agent/src/main.ts",
};

const BANNER = [
  "// blockship agent bundle (deploy/build-agent.mjs). Do not edit.",
  'import { fileURLToPath as __blockshipFileURLToPath } from "node:url";',
  'process.env.BLOCKSHIP_PROTO_ROOT ||= __blockshipFileURLToPath(new URL("./proto", import.meta.url));',
].join("\n");

async function readJson(file) {
  return JSON.parse(await readFile(file, "utf8"));
}

/**
 * The third-party runtime dependencies of the bundled workspace packages: the `dependencies` of every
 * @blockship/* package reachable from the services, exact versions as the workspaces pin them.
 */
export async function runtimeDependencies() {
  const seen = new Set();
  const deps = new Map();
  const visit = async (dir) => {
    const pkg = await readJson(path.join(dir, "package.json"));
    if (seen.has(pkg.name)) return;
    seen.add(pkg.name);
    for (const [name, version] of Object.entries(pkg.dependencies ?? {})) {
      if (name.startsWith(WORKSPACE_SCOPE)) {
        const short = name.slice(WORKSPACE_SCOPE.length);
        await visit(path.join(REPO_ROOT, "packages", short));
      } else {
        const known = deps.get(name);
        if (known !== undefined && known !== version)
          throw new Error(`${name}: workspaces disagree on the version (${known} vs ${version})`);
        deps.set(name, version);
      }
    }
  };
  for (const entry of Object.values(ENTRY_POINTS)) {
    await visit(path.join(REPO_ROOT, path.dirname(path.dirname(entry))));
  }
  return Object.fromEntries([...deps].sort(([a], [b]) => a.localeCompare(b)));
}

/** Bare imports outside our scope stay external; node: builtins too (platform node). */
const externalThirdParty = {
  name: "external-third-party",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith(WORKSPACE_SCOPE) || args.path.startsWith("node:")) return undefined;
      return { path: args.path, external: true };
    });
  },
};

/**
 * Builds the bundle into `outDir`. Returns the files written (relative to outDir), the runtime
 * dependencies written to package.json, and every module the bundles import at run time (node:
 * builtins and third-party packages), so a test can prove nothing else is needed.
 */
export async function buildAgent(outDir) {
  const out = path.resolve(outDir);
  await mkdir(out, { recursive: true });
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: Object.fromEntries(
      Object.entries(ENTRY_POINTS).map(([name, file]) => [name, path.join(REPO_ROOT, file)]),
    ),
    outdir: out,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    banner: { js: BANNER },
    plugins: [externalThirdParty],
    sourcemap: "linked",
    legalComments: "none",
    logLevel: "warning",
    metafile: true,
  });
  if (result.errors.length > 0) throw new Error(`esbuild failed: ${result.errors.length} errors`);
  await cp(path.join(REPO_ROOT, "proto", "blockship"), path.join(out, "proto", "blockship"), {
    recursive: true,
  });
  const root = await readJson(path.join(REPO_ROOT, "package.json"));
  const manifest = {
    name: "blockship-agent-bundle",
    version: root.version,
    private: true,
    type: "module",
    description: "Bundled blockship agents (generated by deploy/build-agent.mjs).",
    dependencies: await runtimeDependencies(),
  };
  await writeFile(path.join(out, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const externalImports = new Set();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imported of output.imports) if (imported.external) externalImports.add(imported.path);
  }
  return {
    files: [
      ...Object.keys(result.metafile.outputs).map((f) => path.relative(out, path.resolve(REPO_ROOT, f))),
      "proto/blockship/v1",
      "package.json",
    ],
    dependencies: manifest.dependencies,
    externalImports: [...externalImports].sort(),
  };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: "string" } } });
  const outDir = values.out ?? path.join(REPO_ROOT, "dist", "agent");
  const { files, dependencies } = await buildAgent(outDir);
  process.stdout.write(`${JSON.stringify({ msg: "bundle written", outDir, files, dependencies })}\n`);
}
