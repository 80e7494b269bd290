// Agent configuration from flags and environment, validated once at start-up.
// Flags win over environment variables; every problem is collected so that one run shows them all.
import { isAbsolute, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type BooleanFlag, ENV_NAMES, OPTIONS } from "./config-flags";
import { parseSecurity, type TlsConfig } from "./config-security";

// Re-exported: the flag table and TLS options are part of this module's public surface.
export { ENV_NAMES, USAGE } from "./config-flags";
export type { TlsConfig } from "./config-security";

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
const LOG_LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

export interface AgentConfig {
  /** Where the gRPC server listens, `host:port` (port 0 = any free port). */
  readonly listen: string;
  /** This agent's stable identity (replica IDs are `<volumeId>/<serverId>`). */
  readonly serverId: string;
  /** Volume files live in `<dataDir>/volumes/<volumeId>.blk`. */
  readonly dataDir: string;
  /** The address other agents dial to reach this one (default: the bound listen address). */
  readonly advertise: string | undefined;
  /** WAL size for AllocateVolume when the request leaves it 0. */
  readonly defaultWalSizeBytes: number;
  /** Deadline of one replica barrier during a replicated flush. */
  readonly barrierTimeoutMs: number;
  /** Bound on the graceful stop after SIGTERM. */
  readonly shutdownTimeoutMs: number;
  /** Rebuild transfers this agent serves or pulls: bytes per second, 0 = unlimited. */
  readonly rebuildRateLimitBytesPerSecond: number;
  /**
   * Retention budgets of a lagging replica's WAL pin (storage defaults when undefined): how long
   * it may be held, and which fraction of the WAL it may hold, before the replica is released
   * (needs_rebuild) so the primary stays writable.
   */
  readonly retentionMaxAgeMs: number | undefined;
  readonly retentionMaxWalFraction: number | undefined;
  readonly logLevel: LogLevel;
  /** Volumes that live on a named block device instead of a file: volumeId → device path. */
  readonly devices: ReadonlyMap<string, string>;
  /** Where the Prometheus HTTP endpoint listens, `host:port` (port 0 = any); undefined = off. */
  readonly metricsListen: string | undefined;
  /** TLS on the gRPC port and for every client the agent makes; undefined = plaintext (--insecure). */
  readonly tls: TlsConfig | undefined;
  /**
   * Certificate identities (Subject CN) allowed to call Control; empty = any peer that can connect.
   * Non-empty only with client certificates required (mTLS).
   */
  readonly controlAllowedIdentities: readonly string[];
  /** A plaintext listener serving grpc.health.v1 only (kubelet probes); undefined = none. */
  readonly healthListen: string | undefined;
  /** Where the NBD server listens, `host:port` (port 0 = any); undefined = off. With TLS: STARTTLS only. */
  readonly nbdListen: string | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

export interface ConfigDefaults {
  readonly listen?: string;
  readonly serverId?: string;
  readonly dataDir?: string;
}

export const HELP_REQUESTED = Symbol("help");

const SERVER_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const VOLUME_ID = /^[A-Za-z0-9._-]{1,128}$/;
const MiB = 1024 * 1024;

/** `64MiB`, `1GiB`, `512KiB`, `1048576` → bytes; undefined when malformed. */
export function parseSizeBytes(text: string): number | undefined {
  const m = /^([0-9]+)\s*(B|KiB|MiB|GiB|K|M|G)?$/i.exec(text.trim());
  if (m === null) return undefined;
  const unit = (m[2] ?? "B").toLowerCase();
  const mult = unit.startsWith("k")
    ? 1024
    : unit.startsWith("m")
      ? MiB
      : unit.startsWith("g")
        ? 1024 * MiB
        : 1;
  const n = Number(m[1]) * mult;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** `host:port` with port 0..65535 (0 only when `allowZero`). */
export function isHostPort(text: string, allowZero: boolean): boolean {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(text);
  if (m === null) return false;
  const port = Number(m[2]);
  return port <= 65535 && (allowZero || port > 0);
}

function intInRange(
  problems: string[],
  name: string,
  text: string | undefined,
  def: number,
  min: number,
  max: number,
): number {
  if (text === undefined) return def;
  const n = /^[0-9]+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    problems.push(`--${name}: must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
    return def;
  }
  return n;
}

/**
 * Parses argv (without node and script) and env. Throws ConfigError listing every problem, or
 * HELP_REQUESTED for --help.
 */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  defaults: ConfigDefaults = {},
): AgentConfig {
  let parsed: ReturnType<
    typeof parseArgs<{ options: typeof OPTIONS; strict: true; allowPositionals: false }>
  >;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false });
  } catch (err) {
    throw new ConfigError([err instanceof Error ? err.message : String(err)]);
  }
  const v = parsed.values;
  if (v.help === true) throw HELP_REQUESTED;
  const problems: string[] = [];
  const pick = (name: Exclude<keyof typeof ENV_NAMES, "device" | BooleanFlag>): string | undefined => {
    const flag = v[name];
    if (typeof flag === "string") return flag;
    const fromEnv = env[ENV_NAMES[name]];
    return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv;
  };

  const listen = pick("listen") ?? defaults.listen ?? "0.0.0.0:7000";
  if (!isHostPort(listen, true)) problems.push(`--listen: must be host:port, got ${JSON.stringify(listen)}`);

  const serverId = pick("server-id") ?? defaults.serverId;
  if (serverId === undefined) problems.push("--server-id: required (or BLOCKSHIP_SERVER_ID)");
  else if (!SERVER_ID.test(serverId))
    problems.push(
      `--server-id: must be 1..128 characters of [A-Za-z0-9._:-], got ${JSON.stringify(serverId)}`,
    );

  const dataDirText = pick("data-dir") ?? defaults.dataDir;
  if (dataDirText === undefined) problems.push("--data-dir: required (or BLOCKSHIP_DATA_DIR)");
  const dataDir =
    dataDirText === undefined ? "" : isAbsolute(dataDirText) ? dataDirText : resolve(dataDirText);

  const advertise = pick("advertise");
  if (advertise !== undefined && !isHostPort(advertise, false))
    problems.push(`--advertise: must be host:port with a port in 1..65535, got ${JSON.stringify(advertise)}`);

  let defaultWalSizeBytes = 64 * MiB;
  const walText = pick("default-wal-size");
  if (walText !== undefined) {
    const n = parseSizeBytes(walText);
    if (n === undefined || n < MiB || n % 4096 !== 0 || n > 64 * 1024 * MiB)
      problems.push(
        `--default-wal-size: must be a multiple of 4096 in 1MiB..64GiB (e.g. 64MiB), got ${JSON.stringify(walText)}`,
      );
    else defaultWalSizeBytes = n;
  }

  const barrierTimeoutMs = intInRange(
    problems,
    "barrier-timeout-ms",
    pick("barrier-timeout-ms"),
    5000,
    10,
    600_000,
  );
  const shutdownTimeoutMs = intInRange(
    problems,
    "shutdown-timeout-ms",
    pick("shutdown-timeout-ms"),
    5000,
    0,
    600_000,
  );

  let rebuildRateLimitBytesPerSecond = 0;
  const rateText = pick("rebuild-rate-limit");
  if (rateText !== undefined) {
    const n = rateText.trim() === "0" ? 0 : parseSizeBytes(rateText);
    if (n === undefined || n > 2 ** 40)
      problems.push(
        `--rebuild-rate-limit: must be bytes per second (e.g. 50MiB, 0 = unlimited) up to 1TiB, got ${JSON.stringify(rateText)}`,
      );
    else rebuildRateLimitBytesPerSecond = n;
  }

  const ageText = pick("retention-max-age-ms");
  const retentionMaxAgeMs =
    ageText === undefined
      ? undefined
      : intInRange(problems, "retention-max-age-ms", ageText, 300_000, 1000, 7 * 24 * 3600 * 1000);
  const fractionText = pick("retention-max-wal-fraction");
  let retentionMaxWalFraction: number | undefined;
  if (fractionText !== undefined) {
    const f = Number(fractionText);
    // Below the default hard watermark (0.9): a dead replica must never block writers.
    if (!(Number.isFinite(f) && f >= 0.05 && f <= 0.85))
      problems.push(
        `--retention-max-wal-fraction: must be a number in 0.05..0.85, got ${JSON.stringify(fractionText)}`,
      );
    else retentionMaxWalFraction = f;
  }

  const levelText = pick("log-level") ?? "info";
  const logLevel = LOG_LEVELS.find((l) => l === levelText);
  if (logLevel === undefined)
    problems.push(`--log-level: must be one of ${LOG_LEVELS.join("|")}, got ${JSON.stringify(levelText)}`);

  const deviceSpecs = v.device ?? (env[ENV_NAMES.device] ?? "").split(",").filter((s) => s.trim() !== "");
  const devices = new Map<string, string>();
  for (const spec of deviceSpecs) {
    const eq = spec.indexOf("=");
    const id = spec.slice(0, eq).trim();
    const path = spec.slice(eq + 1).trim();
    if (eq < 0 || !VOLUME_ID.test(id) || !isAbsolute(path)) {
      problems.push(`--device: must be VOLUME_ID=/absolute/path, got ${JSON.stringify(spec)}`);
    } else if (devices.has(id)) {
      problems.push(`--device: volume ${id} is named twice`);
    } else {
      devices.set(id, path);
    }
  }

  const metricsListen = pick("metrics-listen");
  if (metricsListen !== undefined && !isHostPort(metricsListen, true))
    problems.push(`--metrics-listen: must be host:port, got ${JSON.stringify(metricsListen)}`);

  const flagOrEnv = (name: BooleanFlag): boolean => {
    if (v[name] === true) return true;
    const text = (env[ENV_NAMES[name]] ?? "").trim().toLowerCase();
    if (text === "" || text === "false" || text === "0" || text === "no") return false;
    if (text === "true" || text === "1" || text === "yes") return true;
    problems.push(`${ENV_NAMES[name]}: must be true or false, got ${JSON.stringify(env[ENV_NAMES[name]])}`);
    return false;
  };
  const security = parseSecurity(problems, pick, flagOrEnv);

  const healthListen = pick("health-listen");
  if (healthListen !== undefined && !isHostPort(healthListen, true))
    problems.push(`--health-listen: must be host:port, got ${JSON.stringify(healthListen)}`);
  else if (healthListen !== undefined && healthListen === listen && !listen.endsWith(":0"))
    problems.push("--health-listen: must differ from --listen (it is a second, plaintext port)");

  const nbdListen = pick("nbd-listen");
  if (nbdListen !== undefined && !isHostPort(nbdListen, true))
    problems.push(`--nbd-listen: must be host:port, got ${JSON.stringify(nbdListen)}`);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    listen,
    serverId: serverId as string,
    dataDir,
    advertise,
    defaultWalSizeBytes,
    barrierTimeoutMs,
    shutdownTimeoutMs,
    rebuildRateLimitBytesPerSecond,
    retentionMaxAgeMs,
    retentionMaxWalFraction,
    logLevel: logLevel as LogLevel,
    devices,
    metricsListen,
    ...security,
    healthListen,
    nbdListen,
  };
}
