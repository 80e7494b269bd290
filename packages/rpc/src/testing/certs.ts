// Test PKI made with the openssl CLI at test time: a CA and leaf certificates whose Subject CN is
// the identity (the rule of ../tls.ts), valid for localhost/127.0.0.1, usable as server and client
// certificates. EC P-256 keys: generating one takes milliseconds.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CertFiles {
  readonly identity: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly certPem: Buffer;
  readonly keyPem: Buffer;
}

export interface TestCa {
  readonly dir: string;
  readonly caFile: string;
  readonly caPem: Buffer;
  /** Issues a certificate with Subject CN = `identity` (SANs: `altNames`, default localhost + 127.0.0.1). */
  issue(identity: string, options?: { altNames?: readonly string[] }): CertFiles;
  /** Removes the directory (keys included). */
  remove(): void;
}

const KEY_ARGS = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

function openssl(args: readonly string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** A fresh CA named `name` in a temp directory (or under `dir`). */
export function createTestCa(name: string, dir?: string): TestCa {
  const root = dir ?? mkdtempSync(join(tmpdir(), "blockship-pki-"));
  const slug = name.replace(/[^A-Za-z0-9._-]/g, "_");
  const caFile = join(root, `${slug}.ca.crt`);
  const caKey = join(root, `${slug}.ca.key`);
  openssl([
    "req",
    "-x509",
    ...KEY_ARGS,
    "-keyout",
    caKey,
    "-out",
    caFile,
    "-subj",
    `/CN=${name}`,
    "-days",
    "2",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  let serial = 1;
  return {
    dir: root,
    caFile,
    caPem: readFileSync(caFile),
    issue(identity, options = {}) {
      const base = join(root, `${slug}.${identity.replace(/[^A-Za-z0-9._-]/g, "_")}`);
      const ext = `${base}.ext`;
      const altNames = options.altNames ?? ["DNS:localhost", "IP:127.0.0.1"];
      writeFileSync(
        ext,
        [
          "basicConstraints=critical,CA:FALSE",
          "keyUsage=critical,digitalSignature",
          "extendedKeyUsage=serverAuth,clientAuth",
          ...(altNames.length > 0 ? [`subjectAltName=${altNames.join(",")}`] : []),
        ].join("\n"),
      );
      openssl([
        "req",
        ...KEY_ARGS,
        "-keyout",
        `${base}.key`,
        "-out",
        `${base}.csr`,
        "-subj",
        `/CN=${identity}`,
      ]);
      serial += 1;
      openssl([
        "x509",
        "-req",
        "-in",
        `${base}.csr`,
        "-CA",
        caFile,
        "-CAkey",
        caKey,
        "-set_serial",
        String(serial),
        "-days",
        "2",
        "-extfile",
        ext,
        "-out",
        `${base}.crt`,
      ]);
      return {
        identity,
        certFile: `${base}.crt`,
        keyFile: `${base}.key`,
        certPem: readFileSync(`${base}.crt`),
        keyPem: readFileSync(`${base}.key`),
      };
    },
    remove() {
      if (dir === undefined) rmSync(root, { recursive: true, force: true });
    },
  };
}
