import { describe, expect, it } from "vitest";
import { ConfigError, HELP_REQUESTED, parseConfig, parseSizeBytes } from "../src/config";

const base = ["--server-id", "s1", "--data-dir", "/tmp/x", "--insecure"];

function problems(argv: string[], env: Record<string, string> = {}): string[] {
  try {
    parseConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe("config", () => {
  it("parses flags with defaults", () => {
    const c = parseConfig(base, {});
    expect(c).toMatchObject({
      listen: "0.0.0.0:7000",
      serverId: "s1",
      dataDir: "/tmp/x",
      defaultWalSizeBytes: 64 * 1024 * 1024,
      barrierTimeoutMs: 5000,
      logLevel: "info",
    });
    expect(c.advertise).toBeUndefined();
    expect(c.devices.size).toBe(0);
  });

  it("reads the environment, and flags win over it", () => {
    const env = {
      BLOCKSHIP_LISTEN: "127.0.0.1:9000",
      BLOCKSHIP_SERVER_ID: "from-env",
      BLOCKSHIP_DATA_DIR: "/data",
      BLOCKSHIP_DEFAULT_WAL_SIZE: "8MiB",
      BLOCKSHIP_LOG_LEVEL: "debug",
      BLOCKSHIP_DEVICES: "v1=/dev/sdb, v2=/dev/sdc",
      BLOCKSHIP_INSECURE: "true",
    };
    const c = parseConfig(["--server-id", "from-flag"], env);
    expect(c).toMatchObject({
      listen: "127.0.0.1:9000",
      serverId: "from-flag",
      dataDir: "/data",
      logLevel: "debug",
    });
    expect(c.defaultWalSizeBytes).toBe(8 * 1024 * 1024);
    expect([...c.devices]).toEqual([
      ["v1", "/dev/sdb"],
      ["v2", "/dev/sdc"],
    ]);
  });

  it("applies service defaults but not over explicit values", () => {
    const c = parseConfig(
      ["--data-dir", "/d", "--insecure"],
      {},
      { listen: "0.0.0.0:7100", serverId: "host-1" },
    );
    expect([c.listen, c.serverId]).toEqual(["0.0.0.0:7100", "host-1"]);
  });

  it("lists every problem at once", () => {
    const p = problems(
      [
        "--listen",
        "nope",
        "--server-id",
        "bad id!",
        "--default-wal-size",
        "12",
        "--barrier-timeout-ms=-5",
        "--log-level",
        "loud",
        "--device",
        "v1=relative/path",
        "--advertise",
        "h:0",
        "--insecure",
      ],
      {},
    );
    expect(p.map((x) => x.split(":")[0])).toEqual([
      "--listen",
      "--server-id",
      "--data-dir",
      "--advertise",
      "--default-wal-size",
      "--barrier-timeout-ms",
      "--log-level",
      "--device",
    ]);
  });

  it("recovery knobs: rebuild rate limit and retention budgets, validated", () => {
    const c = parseConfig([...base, "--rebuild-rate-limit", "50MiB", "--retention-max-age-ms", "60000"], {
      BLOCKSHIP_RETENTION_MAX_WAL_FRACTION: "0.5",
    });
    expect(c).toMatchObject({
      rebuildRateLimitBytesPerSecond: 50 * 1024 * 1024,
      retentionMaxAgeMs: 60_000,
      retentionMaxWalFraction: 0.5,
    });
    expect(parseConfig(base, {})).toMatchObject({
      rebuildRateLimitBytesPerSecond: 0,
      retentionMaxAgeMs: undefined,
      retentionMaxWalFraction: undefined,
    });
    const p = problems([
      ...base,
      "--rebuild-rate-limit",
      "fast",
      "--retention-max-age-ms",
      "5",
      "--retention-max-wal-fraction",
      "0.95",
    ]);
    expect(p.map((x) => x.split(":")[0])).toEqual([
      "--rebuild-rate-limit",
      "--retention-max-age-ms",
      "--retention-max-wal-fraction",
    ]);
  });

  it("requires server id and data dir", () => {
    expect(problems([], {})).toEqual([
      "--server-id: required (or BLOCKSHIP_SERVER_ID)",
      "--data-dir: required (or BLOCKSHIP_DATA_DIR)",
      "transport security: give --tls-cert, --tls-key and --tls-ca (PEM files, or BLOCKSHIP_TLS_CERT/_KEY/_CA) to serve TLS, or --insecure (BLOCKSHIP_INSECURE=true) to serve plaintext",
    ]);
  });

  it("rejects unknown flags and positionals, and a volume named twice", () => {
    expect(problems([...base, "--bogus"])[0]).toMatch(/bogus/);
    expect(problems([...base, "extra"])[0]).toMatch(/extra/);
    expect(problems([...base, "--device", "v=/a", "--device", "v=/b"])).toEqual([
      "--device: volume v is named twice",
    ]);
  });

  it("--help", () => {
    expect(() => parseConfig(["--help"], {})).toThrow(expect.anything());
    try {
      parseConfig(["-h"], {});
    } catch (err) {
      expect(err).toBe(HELP_REQUESTED);
    }
  });

  it("sizes", () => {
    expect(parseSizeBytes("1048576")).toBe(1048576);
    expect(parseSizeBytes("64MiB")).toBe(64 * 1024 * 1024);
    expect(parseSizeBytes("2G")).toBe(2 * 1024 ** 3);
    expect(parseSizeBytes("1.5M")).toBeUndefined();
    expect(parseSizeBytes("")).toBeUndefined();
  });
});
