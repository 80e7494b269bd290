// NBD on an agent with mutual TLS: plaintext is refused (NBD_REP_ERR_TLS_REQD), nbdinfo over
// STARTTLS with a client certificate from the agent's CA is served, one without a certificate is not.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Opt, Rep } from "../packages/nbd/src/protocol";
import { RawClient } from "../packages/nbd/test/support";
import { AgentFleet, type AgentHandle } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { allocate, assign, MiB, primaryAssignment } from "./support/master";
import { nbdAddressOf, requireTools, run, runOk } from "./support/nbd";
import { TestPki } from "./support/tls";

const fleet = new AgentFleet();
const MASTER = "master";
let pki: TestPki;
let primary: AgentHandle;
let dir: string;

/** A GnuTLS certificate directory as libnbd reads it (`tls-certificates=DIR`). */
function certDir(name: string, identity: string | undefined): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  copyFileSync(pki.ca.caFile, join(d, "ca-cert.pem"));
  if (identity !== undefined) {
    const c = pki.cert(identity);
    copyFileSync(c.certFile, join(d, "client-cert.pem"));
    copyFileSync(c.keyFile, join(d, "client-key.pem"));
  }
  return d;
}

beforeAll(async () => {
  requireTools("nbdinfo");
  dir = mkdtempSync(join(tmpdir(), "blockship-nbdtls-"));
  pki = new TestPki("blockship-nbd-ca");
  primary = await fleet.start({
    kind: "primary",
    serverId: "nbdtls-p",
    args: [...pki.agentArgs("nbdtls-p", [MASTER]), "--nbd-listen", "127.0.0.1:0"],
    clientCredentials: pki.credentials(MASTER, { expectServerIdentity: "nbdtls-p" }),
  });
  await allocate(primary, { volumeId: "tls-vol", sizeBytes: 16 * MiB, mode: "best_effort" });
  await assign(primary, primaryAssignment("tls-vol", 1, []));
});

afterAll(async () => {
  await fleet.cleanup();
  pki?.remove();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("NBD with TLS", () => {
  it("refuses plaintext with ERR_TLS_REQD", async () => {
    showLogsOnFailure(fleet);
    const c = await RawClient.connect(nbdAddressOf(primary));
    try {
      await c.hello();
      c.option(Opt.LIST);
      expect((await c.optionReply()).type).toBe(Rep.ERR_TLS_REQD);
    } finally {
      c.close();
    }
    const r = await run("nbdinfo", [`nbd://${nbdAddressOf(primary)}/tls-vol`], { timeoutMs: 30_000 });
    expect(r.code).not.toBe(0);
  });

  it("serves nbdinfo over STARTTLS with a client certificate of the CA, not without one", async () => {
    showLogsOnFailure(fleet);
    const base = `nbds://${nbdAddressOf(primary)}/tls-vol`;
    const ok = await runOk(
      "nbdinfo",
      ["--size", `${base}?tls-certificates=${certDir("client", "nbd-client")}`],
      {
        timeoutMs: 30_000,
      },
    );
    expect(Number(ok.stdout.trim())).toBe(16 * MiB);
    const anon = await run("nbdinfo", ["--size", `${base}?tls-certificates=${certDir("anon", undefined)}`], {
      timeoutMs: 30_000,
    });
    expect(anon.code).not.toBe(0);
  });
});
