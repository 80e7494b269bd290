// Transport security for every gRPC port and client: plaintext only when asked for, TLS, or mutual
// TLS, plus the identity rule. Values, not process-global state: several agents (each with its own
// certificate) can live in one process.
//
// Identity rule: the identity of a certificate is its Subject Common Name (exactly one CN). An
// agent's certificate CN must equal its --server-id; the master's CN is what Control allows.
import { X509Certificate } from "node:crypto";
import { checkServerIdentity, createSecureContext, type PeerCertificate } from "node:tls";
import {
  type ChannelCredentials,
  credentials,
  ServerCredentials,
  type ServerUnaryCall,
  status,
} from "@grpc/grpc-js";

/** What every grpc-js server call (unary or stream) offers; enough to read the peer. */
export type ServerCallLike = Pick<ServerUnaryCall<unknown, unknown>, "getAuthContext">;

import { RpcError } from "./errors";

/** PEM material of one end. */
export interface TlsMaterial {
  /** CA bundle that peers' certificates must chain to. Clients: undefined = the system roots. */
  readonly caPem?: Buffer;
  /** This end's certificate chain; with `keyPem`. Servers need it, clients present it for mTLS. */
  readonly certPem?: Buffer;
  readonly keyPem?: Buffer;
}

export type TransportSecurity =
  | { readonly mode: "insecure" }
  | (TlsMaterial & {
      readonly mode: "tls";
      /** Server side: require and verify client certificates (mutual TLS). */
      readonly requireClientCert?: boolean;
    });

export const INSECURE: TransportSecurity = Object.freeze({ mode: "insecure" });

/** grpc-js server credentials: plaintext, TLS, or mTLS (client certificates required and verified). */
export function serverCredentials(security: TransportSecurity): ServerCredentials {
  if (security.mode === "insecure") return ServerCredentials.createInsecure();
  const { certPem, keyPem, caPem } = security;
  if (certPem === undefined || keyPem === undefined) {
    throw new Error("a TLS server needs a certificate and its private key");
  }
  const requireClientCert = security.requireClientCert === true;
  if (requireClientCert && caPem === undefined) {
    throw new Error("client certificate verification (mTLS) needs a CA bundle");
  }
  return ServerCredentials.createSsl(
    caPem ?? null,
    [{ cert_chain: certPem, private_key: keyPem }],
    requireClientCert,
  );
}

export interface ChannelCredentialsOptions {
  /**
   * Besides the usual hostname check, the server's certificate identity (CN) must equal this
   * (a primary dialling a replica knows the replica's server_id).
   */
  readonly expectServerIdentity?: string;
}

/** grpc-js channel credentials for a client: plaintext, or TLS presenting a client certificate when given. */
export function channelCredentials(
  security: TransportSecurity,
  options: ChannelCredentialsOptions = {},
): ChannelCredentials {
  if (security.mode === "insecure") return credentials.createInsecure();
  const { caPem, certPem, keyPem } = security;
  if ((certPem === undefined) !== (keyPem === undefined)) {
    throw new Error("a client certificate needs its private key (and the other way round)");
  }
  const expected = options.expectServerIdentity;
  return credentials.createSsl(caPem ?? null, keyPem ?? null, certPem ?? null, {
    // Replaces node's check, so the hostname check runs here first.
    checkServerIdentity: (hostname, cert) => {
      const hostError = checkServerIdentity(hostname, cert);
      if (hostError !== undefined || expected === undefined) return hostError;
      const identity = peerCertificateIdentity(cert);
      return identity === expected
        ? undefined
        : new Error(
            `server certificate identity ${JSON.stringify(identity)} is not ${JSON.stringify(expected)}`,
          );
    },
  });
}

/**
 * Makes channel credentials for the clients an agent creates (replica handshake/ship, rebuild):
 * one per client, so each can expect its own server identity.
 */
export type ClientCredentialsFactory = (options?: ChannelCredentialsOptions) => ChannelCredentials;

export function clientCredentialsFactory(security: TransportSecurity): ClientCredentialsFactory {
  return (options) => channelCredentials(security, options);
}

/** The identity of a certificate the TLS layer handed us: its only Subject CN, else undefined. */
export function peerCertificateIdentity(cert: PeerCertificate | undefined): string | undefined {
  const cn: unknown = cert?.subject?.CN;
  return typeof cn === "string" && cn !== "" ? cn : undefined;
}

/** The identity of a PEM certificate (the first in a chain): its only Subject CN, else undefined. */
export function pemCertificateIdentity(certPem: Buffer | string): string | undefined {
  const subject = new X509Certificate(certPem).subject;
  const cns = subject
    .split("\n")
    .filter((line) => line.startsWith("CN="))
    .map((line) => line.slice(3));
  return cns.length === 1 && cns[0] !== "" ? cns[0] : undefined;
}

/**
 * The verified identity of the peer of a server call: the CN of the client certificate that the
 * TLS layer verified against the CA. Undefined on plaintext, without a client certificate, or when
 * the server does not request one (TLS without client auth).
 */
export function peerIdentity(call: ServerCallLike): string | undefined {
  const auth = call.getAuthContext();
  if (auth.transportSecurityType !== "ssl") return undefined;
  return peerCertificateIdentity(auth.sslPeerCertificate);
}

/**
 * Checks that PEM material parses and that the key belongs to the certificate (node's TLS layer
 * would otherwise fail only at the first handshake). Returns a readable problem, or undefined.
 */
export function tlsMaterialProblem(material: TlsMaterial): string | undefined {
  try {
    createSecureContext({
      ...(material.caPem === undefined ? {} : { ca: material.caPem }),
      ...(material.certPem === undefined ? {} : { cert: material.certPem }),
      ...(material.keyPem === undefined ? {} : { key: material.keyPem }),
    });
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  if (material.certPem !== undefined) {
    try {
      new X509Certificate(material.certPem);
    } catch (err) {
      return `certificate: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  return undefined;
}

/** Identity check of a server call against an allow-list; throws `unauthenticated_peer`. */
export function requirePeerIdentity(
  call: ServerCallLike,
  allowed: ReadonlySet<string>,
  what: string,
): string {
  const identity = peerIdentity(call);
  if (identity === undefined) {
    throw new RpcError("unauthenticated_peer", `${what} needs a verified client certificate`, {
      code: status.UNAUTHENTICATED,
    });
  }
  if (!allowed.has(identity)) {
    throw new RpcError(
      "unauthenticated_peer",
      `${what}: identity ${JSON.stringify(identity)} is not allowed`,
    );
  }
  return identity;
}
