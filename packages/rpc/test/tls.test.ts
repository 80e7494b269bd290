import { type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authorizeCalls,
  channelCredentials,
  closeClient,
  createControlClient,
  createHealthClient,
  deadlineIn,
  type GetStatusRequest__Output,
  type GetStatusResponse,
  type GetStatusResponse__Output,
  type HealthCheckResponse__Output,
  peerIdentity,
  pemCertificateIdentity,
  reasonOf,
  requirePeerIdentity,
  type StartedRpcServer,
  startServer,
  type TransportSecurity,
  tlsMaterialProblem,
  unary,
  unaryHandler,
} from "../src/index";
import { bufCurl, type CertFiles, createTestCa, type TestCa } from "../src/testing/index";

function failure<T>(promise: Promise<T>): Promise<ServiceError> {
  return promise.then(
    (value) => {
      throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
    },
    (err: ServiceError) => err,
  );
}

const CALL_MS = 5_000;

describe("TLS and mutual TLS on an in-process server", () => {
  let ca: TestCa;
  let otherCa: TestCa;
  let server: StartedRpcServer;
  let serverCert: CertFiles;
  let master: CertFiles;
  let operator: CertFiles;
  let forged: CertFiles;
  const seen: (string | undefined)[] = [];

  beforeAll(async () => {
    ca = createTestCa("rpc-test-ca");
    otherCa = createTestCa("rpc-other-ca");
    serverCert = ca.issue("srv-a");
    master = ca.issue("master");
    operator = ca.issue("operator");
    forged = otherCa.issue("master");
    server = await startServer({
      address: "127.0.0.1:0",
      healthAddress: "127.0.0.1:0",
      security: {
        mode: "tls",
        caPem: ca.caPem,
        certPem: serverCert.certPem,
        keyPem: serverCert.keyPem,
        requireClientCert: true,
      },
      handlers: {
        control: authorizeCalls(
          {
            GetStatus: unaryHandler<GetStatusRequest__Output, GetStatusResponse>((_req, call) => {
              seen.push(peerIdentity(call));
              return { report: { server_id: "srv-a", seq: "1", at_unix_ms: "0", volumes: [] } };
            }),
          },
          (call) => requirePeerIdentity(call, new Set(["master"]), "Control"),
        ),
      },
    });
  });

  afterAll(async () => {
    await server?.shutdown(1_000);
    ca?.remove();
    otherCa?.remove();
  });

  const tlsAs = (cert: CertFiles | undefined, caPem = ca.caPem): TransportSecurity => ({
    mode: "tls",
    caPem,
    ...(cert === undefined ? {} : { certPem: cert.certPem, keyPem: cert.keyPem }),
  });

  const getStatus = async (security: TransportSecurity, expectServerIdentity?: string) => {
    const client = createControlClient(server.address, {
      credentials: channelCredentials(
        security,
        expectServerIdentity === undefined ? {} : { expectServerIdentity },
      ),
    });
    try {
      return await unary<GetStatusResponse__Output>((cb) =>
        client.GetStatus({ volume_ids: [] }, deadlineIn(CALL_MS), cb),
      );
    } finally {
      closeClient(client);
    }
  };

  it("the allowed identity gets through, and the handler sees its verified identity", async () => {
    const res = await getStatus(tlsAs(master), "srv-a");
    expect(res.report?.server_id).toBe("srv-a");
    expect(seen.at(-1)).toBe("master");
  });

  it("a verified identity that is not allowed is refused with unauthenticated_peer", async () => {
    const err = await failure(getStatus(tlsAs(operator)));
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(reasonOf(err)).toBe("unauthenticated_peer");
    expect(err.details).toMatch(/"operator" is not allowed/);
  });

  it("a client without a certificate, or with one from another CA, never reaches a handler", async () => {
    const before = seen.length;
    for (const security of [tlsAs(undefined), tlsAs(forged)]) {
      const err = await failure(getStatus(security));
      expect(err.code).toBe(status.UNAVAILABLE);
    }
    expect(seen.length).toBe(before);
  });

  it("a plaintext client is refused", async () => {
    const err = await failure(getStatus({ mode: "insecure" }));
    expect(err.code).toBe(status.UNAVAILABLE);
  });

  it("a client that does not trust the server's CA refuses it; so does one expecting another identity", async () => {
    expect((await failure(getStatus(tlsAs(master, otherCa.caPem)))).code).toBe(status.UNAVAILABLE);
    const wrongPeer = await failure(getStatus(tlsAs(master), "srv-b"));
    expect(wrongPeer.code).toBe(status.UNAVAILABLE);
  });

  it("the health-only listener is plaintext, serves the same statuses and nothing else", async () => {
    const address = server.healthAddress;
    expect(address).toMatch(/^127\.0\.0\.1:[0-9]+$/);
    const health = createHealthClient(address as string);
    try {
      server.health.set("blockship.v1.Control", "NOT_SERVING");
      const res = await unary<HealthCheckResponse__Output>((cb) =>
        health.Check({ service: "blockship.v1.Control" }, deadlineIn(CALL_MS), cb),
      );
      expect(res.status).toBe("NOT_SERVING");
      server.health.set("blockship.v1.Control", "SERVING");
    } finally {
      closeClient(health);
    }
    const control = createControlClient(address as string);
    try {
      const err = await failure(
        unary<GetStatusResponse__Output>((cb) =>
          control.GetStatus({ volume_ids: [] }, deadlineIn(CALL_MS), cb),
        ),
      );
      expect(err.code).toBe(status.UNIMPLEMENTED);
    } finally {
      closeClient(control);
    }
  });

  it("buf curl with --cacert/--cert/--key lists the services and checks health over mTLS", async () => {
    const tls = { caFile: ca.caFile, certFile: operator.certFile, keyFile: operator.keyFile };
    const list = await bufCurl({ address: server.address, listServices: true, tls });
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.lines).toContain("blockship.v1.Control");
    const check = await bufCurl({
      address: server.address,
      method: "grpc.health.v1.Health/Check",
      data: { service: "" },
      tls,
    });
    expect(check.exitCode, check.stderr).toBe(0);
    expect(check.json).toEqual({ status: "SERVING" });
    const noCert = await bufCurl({ address: server.address, listServices: true, tls: { caFile: ca.caFile } });
    expect(noCert.exitCode).not.toBe(0);
  });

  it("certificate identity is the Subject CN; material problems are readable", () => {
    expect(pemCertificateIdentity(master.certPem)).toBe("master");
    expect(
      tlsMaterialProblem({ caPem: ca.caPem, certPem: master.certPem, keyPem: master.keyPem }),
    ).toBeUndefined();
    expect(tlsMaterialProblem({ certPem: master.certPem, keyPem: operator.keyPem })).toMatch(/mismatch/i);
    expect(tlsMaterialProblem({ certPem: Buffer.from("not a pem"), keyPem: master.keyPem })).toBeDefined();
  });
});
