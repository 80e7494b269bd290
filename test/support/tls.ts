// A test PKI for agent processes with mutual TLS: one CA (certificates made with the openssl CLI at
// test time, Subject CN = identity, SANs localhost/127.0.0.1), the flags an agent needs to use
// them, client credentials per identity, and blockctl runs.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { channelCredentials } from "@blockship/rpc";
import { type CertFiles, createTestCa, type TestCa } from "@blockship/rpc/testing";
import type { ChannelCredentials } from "@grpc/grpc-js";
import { type AgentHandle, REPO_ROOT } from "./agents";

export class TestPki {
  readonly ca: TestCa;
  private readonly certs = new Map<string, CertFiles>();

  constructor(name = "blockship-test-ca") {
    this.ca = createTestCa(name);
  }

  /** The certificate of `identity` (issued on first use). */
  cert(identity: string): CertFiles {
    let cert = this.certs.get(identity);
    if (cert === undefined) {
      cert = this.ca.issue(identity);
      this.certs.set(identity, cert);
    }
    return cert;
  }

  /** Agent flags: its own certificate (CN = serverId), this CA, mutual TLS, the given Control allow-list. */
  agentArgs(serverId: string, controlAllowed: readonly string[] = []): string[] {
    const cert = this.cert(serverId);
    return [
      "--tls-cert",
      cert.certFile,
      "--tls-key",
      cert.keyFile,
      "--tls-ca",
      this.ca.caFile,
      "--tls-client-auth",
      ...(controlAllowed.length === 0 ? [] : ["--control-allowed-identities", controlAllowed.join(",")]),
      "--health-listen",
      "127.0.0.1:0",
    ];
  }

  /** Client credentials presenting `identity`'s certificate (undefined: none) and trusting this CA. */
  credentials(
    identity: string | undefined,
    options: { expectServerIdentity?: string } = {},
  ): ChannelCredentials {
    const cert = identity === undefined ? undefined : this.cert(identity);
    return channelCredentials(
      {
        mode: "tls",
        caPem: this.ca.caPem,
        ...(cert === undefined ? {} : { certPem: cert.certPem, keyPem: cert.keyPem }),
      },
      options,
    );
  }

  /** blockctl's TLS flags as `identity`. */
  blockctlArgs(identity: string): string[] {
    const cert = this.cert(identity);
    return ["--tls-ca", this.ca.caFile, "--tls-cert", cert.certFile, "--tls-key", cert.keyFile];
  }

  remove(): void {
    this.ca.remove();
  }
}

/** The plaintext health-only address an agent printed in its "listening" line. */
export function healthAddressOf(agent: AgentHandle): string {
  const match = /"healthAddress":"([^"]+)"/.exec(agent.logs());
  if (match?.[1] === undefined) throw new Error(`${agent.serverId}: no healthAddress in its output`);
  return match[1];
}

export interface BlockctlRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs packages/cli's blockctl binary with `args` and exactly the BLOCKSHIP_* variables in `env`. */
export async function runBlockctl(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<BlockctlRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const key of Object.keys(childEnv)) {
    if (key.startsWith("BLOCKSHIP_") && !(key in env)) delete childEnv[key];
  }
  const child = spawn(process.execPath, [join(REPO_ROOT, "packages/cli/bin/blockctl.js"), ...args], {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
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
