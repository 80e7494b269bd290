// Transport security options of the agent: TLS files, client auth, --insecure and the Control
// allow-list. Parsed apart from the rest because their rules are about each other (TLS is
// all-or-nothing, --insecure excludes it, the allow-list needs mutual TLS), not about one value.
import { isAbsolute, resolve } from "node:path";
import type { BooleanFlag } from "./config-flags";

export interface TlsConfig {
  /** PEM certificate chain; its Subject CN must be the agent's server ID. Absolute paths. */
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM CA bundle that peers' certificates (servers and clients) must chain to. */
  readonly caFile: string;
  /** Require and verify client certificates on the gRPC port (mutual TLS). */
  readonly clientAuth: boolean;
}

/** The security part of AgentConfig. */
export interface SecurityConfig {
  /** TLS on the gRPC port and for every client the agent makes; undefined = plaintext (--insecure). */
  readonly tls: TlsConfig | undefined;
  /** Certificate identities (Subject CN) allowed to call Control; empty = any peer that can connect. */
  readonly controlAllowedIdentities: readonly string[];
}

/** A certificate identity in --control-allowed-identities (a Subject CN). */
const IDENTITY = /^[^\s,]{1,256}$/;

const absolute = (path: string): string => (isAbsolute(path) ? path : resolve(path));

/** TLS files, client auth, --insecure and the Control allow-list, with one rule set (README). */
export function parseSecurity(
  problems: string[],
  pick: (name: "tls-cert" | "tls-key" | "tls-ca" | "control-allowed-identities") => string | undefined,
  flagOrEnv: (name: BooleanFlag) => boolean,
): SecurityConfig {
  const certFile = pick("tls-cert");
  const keyFile = pick("tls-key");
  const caFile = pick("tls-ca");
  const insecure = flagOrEnv("insecure");
  const clientAuth = flagOrEnv("tls-client-auth");
  const identitiesText = pick("control-allowed-identities");
  const controlAllowedIdentities = (identitiesText ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");
  for (const id of controlAllowedIdentities) {
    if (!IDENTITY.test(id))
      problems.push(`--control-allowed-identities: ${JSON.stringify(id)} is not a certificate identity`);
  }
  const anyTls = certFile !== undefined || keyFile !== undefined || caFile !== undefined;
  if (insecure && anyTls) {
    problems.push(
      "--insecure: cannot be combined with --tls-cert/--tls-key/--tls-ca; choose plaintext or TLS",
    );
  } else if (!insecure && !anyTls) {
    problems.push(
      "transport security: give --tls-cert, --tls-key and --tls-ca (PEM files, or BLOCKSHIP_TLS_CERT/_KEY/_CA) to serve TLS, or --insecure (BLOCKSHIP_INSECURE=true) to serve plaintext",
    );
  } else if (anyTls) {
    if (certFile === undefined)
      problems.push("--tls-cert: required with --tls-key/--tls-ca (the agent's certificate)");
    if (keyFile === undefined)
      problems.push("--tls-key: required with --tls-cert/--tls-ca (the certificate's private key)");
    if (caFile === undefined)
      problems.push(
        "--tls-ca: required with --tls-cert/--tls-key (the CA peers' certificates must chain to)",
      );
  }
  if (clientAuth && !anyTls) problems.push("--tls-client-auth: needs TLS (--tls-cert, --tls-key, --tls-ca)");
  if (controlAllowedIdentities.length > 0 && !clientAuth)
    problems.push(
      "--control-allowed-identities: needs --tls-client-auth (identities come from verified client certificates)",
    );
  if (identitiesText !== undefined && controlAllowedIdentities.length === 0)
    problems.push("--control-allowed-identities: empty list (leave it unset to allow any client)");
  const tls =
    certFile !== undefined && keyFile !== undefined && caFile !== undefined && !insecure
      ? { certFile: absolute(certFile), keyFile: absolute(keyFile), caFile: absolute(caFile), clientAuth }
      : undefined;
  return { tls, controlAllowedIdentities };
}
