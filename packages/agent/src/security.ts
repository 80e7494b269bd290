// The agent's transport security, built once from its configuration: server credentials for the
// gRPC port, client credentials for every client the agent dials, the peer-identity reader and the
// Control allow-list. Per agent (no process-global state), so several agents share a test process.
import { readFileSync } from "node:fs";
import {
  type ClientCredentialsFactory,
  clientCredentialsFactory,
  INSECURE,
  peerIdentity,
  pemCertificateIdentity,
  requirePeerIdentity,
  type ServerCallLike,
  type TransportSecurity,
  tlsMaterialProblem,
} from "@blockship/rpc";
import { type AgentConfig, ConfigError } from "./config";

export interface AgentSecurity {
  /** What the gRPC port serves with. */
  readonly server: TransportSecurity;
  /** Credentials for clients this agent makes (handshake, ship, rebuild). */
  readonly clientCredentials: ClientCredentialsFactory;
  /** With mutual TLS: the verified identity of a server call's peer; undefined otherwise. */
  readonly peerIdentity: ((call: ServerCallLike) => string | undefined) | undefined;
  /** Throws `unauthenticated_peer` for a Control caller outside the allow-list; undefined = open. */
  readonly authorizeControl: ((call: ServerCallLike) => void) | undefined;
  /** For logs: "insecure", "tls" or "mtls". */
  readonly mode: "insecure" | "tls" | "mtls";
}

/**
 * Reads and checks the TLS files named by the configuration: each readable PEM, the key belongs
 * to the certificate, and the certificate's identity (Subject CN) is the agent's --server-id (the
 * identity other agents check). Throws ConfigError listing every problem.
 */
export function loadAgentSecurity(config: AgentConfig): AgentSecurity {
  const tls = config.tls;
  if (tls === undefined) {
    return {
      server: INSECURE,
      clientCredentials: clientCredentialsFactory(INSECURE),
      peerIdentity: undefined,
      authorizeControl: undefined,
      mode: "insecure",
    };
  }
  const problems: string[] = [];
  const read = (flag: string, path: string): Buffer | undefined => {
    try {
      return readFileSync(path);
    } catch (err) {
      problems.push(`${flag}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      return undefined;
    }
  };
  const certPem = read("--tls-cert", tls.certFile);
  const keyPem = read("--tls-key", tls.keyFile);
  const caPem = read("--tls-ca", tls.caFile);
  if (certPem === undefined || keyPem === undefined || caPem === undefined) throw new ConfigError(problems);
  const problem = tlsMaterialProblem({ certPem, keyPem, caPem });
  if (problem !== undefined) {
    throw new ConfigError([
      `--tls-cert/--tls-key/--tls-ca: ${problem} (${tls.certFile}, ${tls.keyFile}, ${tls.caFile})`,
    ]);
  }
  const identity = pemCertificateIdentity(certPem);
  if (identity !== config.serverId) {
    throw new ConfigError([
      `--tls-cert: the certificate's identity (Subject CN) is ${JSON.stringify(identity ?? null)}, but --server-id is ${JSON.stringify(config.serverId)}; peers check this identity, so they must be equal`,
    ]);
  }
  const server: TransportSecurity = {
    mode: "tls",
    certPem,
    keyPem,
    caPem,
    requireClientCert: tls.clientAuth,
  };
  const allowed = new Set(config.controlAllowedIdentities);
  return {
    server,
    clientCredentials: clientCredentialsFactory(server),
    peerIdentity: tls.clientAuth ? peerIdentity : undefined,
    authorizeControl:
      allowed.size === 0
        ? undefined
        : (call) => {
            requirePeerIdentity(call, allowed, "Control");
          },
    mode: tls.clientAuth ? "mtls" : "tls",
  };
}
