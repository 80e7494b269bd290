import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

// A thin wrapper around the real `buf curl` CLI (from the @bufbuild/buf npm package), used
// by tests the way an operator uses grpcurl: plaintext gRPC or TLS, schema from server
// reflection, no .proto files at hand.

const require = createRequire(import.meta.url);

const PLATFORM_PACKAGES: Record<string, string> = {
  "linux x64": "@bufbuild/buf-linux-x64",
  "linux arm64": "@bufbuild/buf-linux-aarch64",
  "darwin x64": "@bufbuild/buf-darwin-x64",
  "darwin arm64": "@bufbuild/buf-darwin-arm64",
};

let cachedBinary: string | undefined;

/**
 * Path of the buf executable: $BUF_BIN, else the native binary of the platform package
 * (spawning it directly saves the ~100 ms Node wrapper), else the npm wrapper script.
 */
export function bufBinary(): string {
  if (process.env.BUF_BIN) return process.env.BUF_BIN;
  if (cachedBinary !== undefined) return cachedBinary;
  const pkg = PLATFORM_PACKAGES[`${process.platform} ${process.arch}`];
  try {
    if (pkg === undefined) throw new Error("no native package");
    cachedBinary = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), "bin", "buf");
  } catch {
    cachedBinary = path.join(path.dirname(require.resolve("@bufbuild/buf/package.json")), "bin", "buf");
  }
  return cachedBinary;
}

export interface BufCurlOptions {
  /** `host:port` of a plaintext gRPC server. */
  address: string;
  /** `package.Service/Method`; ignored when listing (buf needs the base URL then). */
  method?: string;
  /** Request body: a JSON string, or a value serialised with JSON.stringify (bigint → string). */
  data?: unknown;
  /** `--list-services`: print the services the server's reflection knows. */
  listServices?: boolean;
  /** `--list-methods`: print `package.Service/Method` for every method of every service. */
  listMethods?: boolean;
  /** Reflection protocol; default: buf tries v1 then v1alpha. */
  reflectProtocol?: "grpc-v1" | "grpc-v1alpha";
  /** `--emit-defaults`: print zero values too. */
  emitDefaults?: boolean;
  /** Request headers `name: value`. */
  headers?: Record<string, string>;
  /** Kill buf after this long (default 20 s). */
  timeoutMs?: number;
  /** Extra CLI arguments. */
  extraArgs?: readonly string[];
  /** TLS (https, `--cacert`), mutual TLS with `certFile`/`keyFile` (`--cert`/`--key`). Default plaintext. */
  tls?: { caFile: string; certFile?: string; keyFile?: string };
}

export interface BufCurlResult {
  args: string[];
  stdout: string;
  stderr: string;
  exitCode: number;
  /** Every JSON document printed on stdout (a stream prints one per response). */
  documents: unknown[];
  /** The first JSON document on stdout, if any. */
  json: unknown;
  /** The error buf prints on stderr for a failed RPC: `{code: "not_found", message, details}`. */
  error: { code: string; message: string } | undefined;
  /** Non-empty lines of stdout (list output). */
  lines: string[];
}

export function bufCurlArgs(options: BufCurlOptions): string[] {
  const tls = options.tls;
  const args = ["curl", "--protocol", "grpc"];
  if (tls === undefined) args.push("--http2-prior-knowledge");
  else {
    args.push("--cacert", tls.caFile);
    if (tls.certFile !== undefined) args.push("--cert", tls.certFile);
    if (tls.keyFile !== undefined) args.push("--key", tls.keyFile);
  }
  if (options.reflectProtocol !== undefined) args.push("--reflect-protocol", options.reflectProtocol);
  if (options.listServices) args.push("--list-services");
  if (options.listMethods) args.push("--list-methods");
  if (options.emitDefaults) args.push("--emit-defaults");
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push("-H", `${name}: ${value}`);
  if (options.data !== undefined) {
    const body =
      typeof options.data === "string"
        ? options.data
        : JSON.stringify(options.data, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
    args.push("-d", body);
  }
  args.push(...(options.extraArgs ?? []));
  const base = `${tls === undefined ? "http" : "https"}://${options.address}`;
  const listing = options.listServices === true || options.listMethods === true;
  args.push(options.method === undefined || listing ? base : `${base}/${options.method}`);
  return args;
}

/** Runs `buf curl` and collects its output; never rejects for a non-zero exit code. */
export function bufCurl(options: BufCurlOptions): Promise<BufCurlResult> {
  const args = bufCurlArgs(options);
  return new Promise((resolve, reject) => {
    const child = spawn(bufBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 20_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      const documents = parseJsonDocuments(stdout);
      // `-v` interleaves "buf: ..." trace lines (with braces) with the error document.
      const errorDocs = parseJsonDocuments(
        stderr
          .split("\n")
          .filter((line) => !line.startsWith("buf: "))
          .join("\n"),
      );
      resolve({
        args,
        stdout,
        stderr,
        exitCode: code ?? (signal === null ? -1 : 128),
        documents,
        json: documents[0],
        error: errorDocs.map(asBufError).find((e) => e !== undefined),
        lines: stdout.split("\n").filter((l) => l.trim() !== ""),
      });
    });
  });
}

/** Splits concatenated JSON documents (`{...}\n{...}`); text outside objects is skipped. */
export function parseJsonDocuments(text: string): unknown[] {
  const documents: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"' && depth > 0) inString = true;
    else if (c === "{" || c === "[") {
      if (depth === 0) start = i;
      depth++;
    } else if ((c === "}" || c === "]") && depth > 0) {
      depth--;
      if (depth === 0) {
        try {
          documents.push(JSON.parse(text.slice(start, i + 1)));
        } catch {
          // not JSON after all (e.g. a bracket in a log line); skip it
        }
      }
    }
  }
  return documents;
}

function asBufError(doc: unknown): { code: string; message: string } | undefined {
  if (typeof doc !== "object" || doc === null) return undefined;
  const { code, message } = doc as { code?: unknown; message?: unknown };
  if (typeof code !== "string") return undefined;
  return { code, message: typeof message === "string" ? message : "" };
}
