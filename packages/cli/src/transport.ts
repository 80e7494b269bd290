// Transport security of blockctl, like the agent's: TLS when a CA or a client certificate is
// given (mutual TLS with --tls-cert/--tls-key), plaintext only with an explicit --insecure.
import { readFileSync } from "node:fs";
import { type TransportSecurity, tlsMaterialProblem } from "@blockship/rpc";
import { ArgumentError } from "./sizes";

export interface TransportFlags {
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly insecure?: boolean;
}

export const TRANSPORT_REQUIRED =
  "choose how to reach the agent: --tls-ca FILE (plus --tls-cert/--tls-key FILE for mutual TLS; env BLOCKSHIP_TLS_CA/_CERT/_KEY) for TLS, or --insecure (BLOCKSHIP_INSECURE=true) for plaintext";

/** The security the flags ask for; files are read here (ArgumentError names the flag). */
export function transportSecurity(flags: TransportFlags): TransportSecurity {
  const anyTls = flags.tlsCa !== undefined || flags.tlsCert !== undefined || flags.tlsKey !== undefined;
  if (flags.insecure === true) {
    if (anyTls) throw new ArgumentError("--insecure cannot be combined with --tls-ca/--tls-cert/--tls-key");
    return { mode: "insecure" };
  }
  if (!anyTls) throw new ArgumentError(TRANSPORT_REQUIRED);
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    throw new ArgumentError("--tls-cert and --tls-key go together (the client certificate and its key)");
  }
  const read = (flag: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ArgumentError(
        `${flag}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
  };
  const caPem = read("--tls-ca", flags.tlsCa);
  const certPem = read("--tls-cert", flags.tlsCert);
  const keyPem = read("--tls-key", flags.tlsKey);
  const material = {
    ...(caPem === undefined ? {} : { caPem }),
    ...(certPem === undefined ? {} : { certPem }),
    ...(keyPem === undefined ? {} : { keyPem }),
  };
  const problem = tlsMaterialProblem(material);
  if (problem !== undefined) throw new ArgumentError(`--tls-ca/--tls-cert/--tls-key: ${problem}`);
  return { mode: "tls", ...material };
}

/** True when a command line or environment says to use TLS or plaintext (for `--help`-free checks). */
export function envFlag(text: string | undefined): boolean | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const t = text.trim().toLowerCase();
  if (t === "true" || t === "1" || t === "yes") return true;
  if (t === "false" || t === "0" || t === "no") return false;
  throw new ArgumentError(`BLOCKSHIP_INSECURE: must be true or false, got ${JSON.stringify(text)}`);
}
