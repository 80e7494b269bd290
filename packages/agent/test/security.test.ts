import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  channelCredentials,
  closeClient,
  createControlClient,
  createHealthClient,
  deadlineIn,
  type GetStatusResponse__Output,
  type HealthCheckResponse__Output,
  reasonOf,
  unary,
} from "@blockship/rpc";
import { type CertFiles, createTestCa, type TestCa } from "@blockship/rpc/testing";
import { type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent } from "../src/agent";
import { ConfigError, parseConfig } from "../src/config";
import { silentLogger } from "../src/log";
import { loadAgentSecurity } from "../src/security";

const base = ["--server-id", "s1", "--data-dir", "/tmp/x"];
const tlsFlags = ["--tls-cert", "/p/c.pem", "--tls-key", "/p/k.pem", "--tls-ca", "/p/ca.pem"];

function problems(argv: string[], env: Record<string, string> = {}): string[] {
  try {
    parseConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe("security configuration", () => {
  it("needs TLS files or an explicit --insecure, never both", () => {
    expect(problems(base)).toEqual([
      expect.stringMatching(/^transport security: give --tls-cert.*or --insecure/),
    ]);
    expect(problems([...base, "--insecure", ...tlsFlags])).toEqual([
      expect.stringMatching(/^--insecure: cannot be combined/),
    ]);
    expect(parseConfig([...base, "--insecure"], {}).tls).toBeUndefined();
    expect(parseConfig(base, { BLOCKSHIP_INSECURE: "true" }).tls).toBeUndefined();
    expect(problems(base, { BLOCKSHIP_INSECURE: "maybe" })).toContain(
      'BLOCKSHIP_INSECURE: must be true or false, got "maybe"',
    );
  });

  it("TLS needs all three files; flags and environment both work", () => {
    expect(problems([...base, "--tls-cert", "/p/c.pem"]).map((p) => p.split(":")[0])).toEqual([
      "--tls-key",
      "--tls-ca",
    ]);
    const fromEnv = parseConfig(base, {
      BLOCKSHIP_TLS_CERT: "/e/c.pem",
      BLOCKSHIP_TLS_KEY: "/e/k.pem",
      BLOCKSHIP_TLS_CA: "/e/ca.pem",
      BLOCKSHIP_TLS_CLIENT_AUTH: "true",
      BLOCKSHIP_CONTROL_ALLOWED_IDENTITIES: "master, ops",
      BLOCKSHIP_HEALTH_LISTEN: "0.0.0.0:7190",
    });
    expect(fromEnv.tls).toEqual({
      certFile: "/e/c.pem",
      keyFile: "/e/k.pem",
      caFile: "/e/ca.pem",
      clientAuth: true,
    });
    expect(fromEnv.controlAllowedIdentities).toEqual(["master", "ops"]);
    expect(fromEnv.healthListen).toBe("0.0.0.0:7190");
    expect(parseConfig([...base, ...tlsFlags], {}).tls?.clientAuth).toBe(false);
  });

  it("client auth needs TLS; the Control allow-list needs client auth", () => {
    expect(problems([...base, "--insecure", "--tls-client-auth"])).toEqual([
      "--tls-client-auth: needs TLS (--tls-cert, --tls-key, --tls-ca)",
    ]);
    expect(problems([...base, ...tlsFlags, "--control-allowed-identities", "master"])).toEqual([
      "--control-allowed-identities: needs --tls-client-auth (identities come from verified client certificates)",
    ]);
    expect(
      problems([...base, ...tlsFlags, "--tls-client-auth", "--control-allowed-identities", " , "]),
    ).toEqual(["--control-allowed-identities: empty list (leave it unset to allow any client)"]);
    expect(problems([...base, "--insecure", "--health-listen", "nope"])).toEqual([
      '--health-listen: must be host:port, got "nope"',
    ]);
  });
});

describe("loading the TLS files", () => {
  let ca: TestCa;
  let s1: CertFiles;
  let other: CertFiles;
  beforeAll(() => {
    ca = createTestCa("agent-config-ca");
    s1 = ca.issue("s1");
    other = ca.issue("other");
  });
  afterAll(() => ca?.remove());

  const configWith = (cert: CertFiles, key = cert.keyFile, caFile = ca.caFile) =>
    parseConfig([...base, "--tls-cert", cert.certFile, "--tls-key", key, "--tls-ca", caFile], {});
  const loadProblems = (config: ReturnType<typeof parseConfig>): string[] => {
    try {
      loadAgentSecurity(config);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return [...err.problems];
      throw err;
    }
  };

  it("accepts a certificate whose identity is the server ID", () => {
    expect(loadAgentSecurity(configWith(s1)).mode).toBe("tls");
  });

  it("refuses a certificate of another identity, a key of another certificate, a missing file", () => {
    expect(loadProblems(configWith(other))).toEqual([
      expect.stringMatching(/identity \(Subject CN\) is "other", but --server-id is "s1"/),
    ]);
    expect(loadProblems(configWith(s1, other.keyFile))).toEqual([expect.stringMatching(/mismatch/i)]);
    expect(loadProblems(configWith(s1, s1.keyFile, join(ca.dir, "missing.pem")))).toEqual([
      expect.stringMatching(/^--tls-ca: cannot read .*missing\.pem: ENOENT/),
    ]);
  });
});

describe("an in-process agent with mutual TLS and a Control allow-list", () => {
  let ca: TestCa;
  let dir: string;
  let agent: Agent;
  let master: CertFiles;
  let operator: CertFiles;

  beforeAll(async () => {
    ca = createTestCa("agent-mtls-ca");
    const server = ca.issue("srv-1");
    master = ca.issue("master");
    operator = ca.issue("operator");
    dir = mkdtempSync(join(tmpdir(), "agent-mtls-"));
    const config = parseConfig(
      [
        "--listen",
        "127.0.0.1:0",
        "--health-listen",
        "127.0.0.1:0",
        "--server-id",
        "srv-1",
        "--data-dir",
        dir,
        "--tls-cert",
        server.certFile,
        "--tls-key",
        server.keyFile,
        "--tls-ca",
        ca.caFile,
        "--tls-client-auth",
        "--control-allowed-identities",
        "master",
        "--shutdown-timeout-ms",
        "1000",
      ],
      {},
    );
    agent = await Agent.start({ config, log: silentLogger() });
  });

  afterAll(async () => {
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
    ca?.remove();
  });

  const getStatusAs = async (cert: CertFiles) => {
    const client = createControlClient(agent.address, {
      credentials: channelCredentials(
        { mode: "tls", caPem: ca.caPem, certPem: cert.certPem, keyPem: cert.keyPem },
        { expectServerIdentity: "srv-1" },
      ),
    });
    try {
      return await unary<GetStatusResponse__Output>((cb) =>
        client.GetStatus({ volume_ids: [] }, deadlineIn(5_000), cb),
      );
    } finally {
      closeClient(client);
    }
  };

  it("the master's identity may call Control", async () => {
    expect((await getStatusAs(master)).report?.server_id).toBe("srv-1");
  });

  it("another identity of the same CA is refused with unauthenticated_peer", async () => {
    const err = await getStatusAs(operator).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(err?.code).toBe(status.PERMISSION_DENIED);
    expect(err && reasonOf(err)).toBe("unauthenticated_peer");
  });

  it("the allow-list also guards server streams (WatchStatus)", async () => {
    const client = createControlClient(agent.address, {
      credentials: channelCredentials({
        mode: "tls",
        caPem: ca.caPem,
        certPem: operator.certPem,
        keyPem: operator.keyPem,
      }),
    });
    try {
      const stream = client.WatchStatus({ volume_ids: [], interval_ms: 0 }, deadlineIn(5_000));
      const err = await new Promise<ServiceError>((resolve, reject) => {
        stream.on("data", () => reject(new Error("a refused caller got a status report")));
        stream.on("error", resolve);
      });
      expect(reasonOf(err)).toBe("unauthenticated_peer");
    } finally {
      closeClient(client);
    }
  });

  it("kubelet-style plaintext probes get health on the health-only port", async () => {
    const health = createHealthClient(agent.healthAddress as string);
    try {
      const res = await unary<HealthCheckResponse__Output>((cb) =>
        health.Check({ service: "" }, deadlineIn(5_000), cb),
      );
      expect(res.status).toBe("SERVING");
    } finally {
      closeClient(health);
    }
  });
});
