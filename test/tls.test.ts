// Mutual TLS between real agent processes (certificates made with openssl at test time): the
// master's identity drives Control, other clients are refused (no certificate, another CA, an
// identity not allowed); a replica admits Handshake/Ship only from its assigned primary's
// identity — an intruder agent, or a client lying about its server_id, is refused and appends
// nothing — while the real primary replicates sync_all byte for byte. Plus buf curl, blockctl
// and the plaintext health-only port against the TLS agents.

import {
  closeClient,
  createControlClient,
  createHealthClient,
  createRebuildClient,
  createReplicationClient,
  deadlineIn,
  type GetStatusResponse__Output,
  type HandshakeResponse__Output,
  type HealthCheckResponse__Output,
  reasonOf,
  type ShipRequest,
  type ShipResponse__Output,
  unary,
} from "@blockship/rpc";
import { bufCurl } from "@blockship/rpc/testing";
import { type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { BLOCK_BYTES, firstDifference, flush, patternBytes, prng, readAll, write } from "./support/io";
import {
  allocate,
  assign,
  MiB,
  primaryAssignment,
  replicaAssignment,
  replicasInSync,
  volumeStatus,
} from "./support/master";
import { healthAddressOf, runBlockctl, TestPki } from "./support/tls";

const MASTER = "master";
const VOLUME = "tls-vol";
const SIZE_BYTES = 8 * MiB;
const CALL_MS = 10_000;

const fleet = new AgentFleet();
let pki: TestPki;
/** Certificates of the same name from a CA the agents do not trust. */
let roguePki: TestPki;
let primary: AgentHandle;
let replica: AgentHandle;
let intruder: AgentHandle;
/** What the real primary wrote and flushed (the replica must hold exactly this). */
const flushed = Buffer.alloc(SIZE_BYTES);

function failure<T>(promise: Promise<T>): Promise<ServiceError> {
  return promise.then(
    (value) => {
      throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
    },
    (err: ServiceError) => err,
  );
}

beforeAll(async () => {
  pki = new TestPki("blockship-test-ca");
  roguePki = new TestPki("rogue-ca");
  const start = (kind: "primary" | "replica", serverId: string) =>
    fleet.start({
      kind,
      serverId,
      args: [
        ...pki.agentArgs(serverId, [MASTER]),
        ...["--barrier-timeout-ms", "2000", "--log-level", "warn", "--metrics-listen", "127.0.0.1:0"],
      ],
      clientCredentials: pki.credentials(MASTER, { expectServerIdentity: serverId }),
    });
  [primary, replica, intruder] = await Promise.all([
    start("primary", "tls-p"),
    start("replica", "tls-r"),
    start("primary", "tls-x"),
  ]);
});

afterAll(async () => {
  await fleet.cleanup();
  pki?.remove();
  roguePki?.remove();
});

/** blockship_rpc_errors_total of refused Replication.Handshake calls on the replica. */
async function refusedHandshakes(): Promise<number> {
  const metrics = /"metricsAddress":"([^"]+)"/.exec(replica.logs())?.[1];
  if (metrics === undefined) throw new Error("the replica printed no metricsAddress");
  const text = await (await fetch(`http://${metrics}/metrics`)).text();
  const line = text
    .split("\n")
    .find(
      (l) =>
        l.startsWith("blockship_rpc_errors_total{") &&
        l.includes("Replication/Handshake") &&
        l.includes('reason="unauthenticated_peer"'),
    );
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

async function writeAndFlush(seed: number, blocks: number): Promise<void> {
  const rand = prng(seed);
  for (let i = 0; i < blocks; i++) {
    const lba = Math.floor(rand() * (SIZE_BYTES / BLOCK_BYTES));
    const data = patternBytes(BLOCK_BYTES, rand);
    await write(primary, VOLUME, lba, data);
    data.copy(flushed, lba * BLOCK_BYTES);
  }
  await flush(primary, VOLUME);
}

describe("mutual TLS between agents", () => {
  it("the master's Control calls succeed and the real primary replicates sync_all byte for byte", async () => {
    showLogsOnFailure(fleet);
    for (const agent of [replica, primary]) {
      await allocate(agent, {
        volumeId: VOLUME,
        sizeBytes: SIZE_BYTES,
        walSizeBytes: 4 * MiB,
        mode: "sync_all",
      });
    }
    await assign(replica, replicaAssignment(VOLUME, 1, primary));
    await assign(primary, primaryAssignment(VOLUME, 1, [replica]));
    await waitFor(() => replicasInSync(primary, VOLUME, 1), "replica in sync over mTLS");
    await writeAndFlush(1, 16);
    const p = await volumeStatus(primary, VOLUME);
    expect(p.replicas[0]?.durable_lsn).toBe(p.head_lsn);
    expect(firstDifference(await readAll(replica, VOLUME, SIZE_BYTES), flushed)).toBe(-1);
  });

  it("Control refuses a client without a certificate, with another CA's certificate, or with an identity not allowed", async () => {
    const getStatus = async (credentials: ReturnType<TestPki["credentials"]>) => {
      const client = createControlClient(primary.address, { credentials });
      try {
        return await unary<GetStatusResponse__Output>((cb) =>
          client.GetStatus({ volume_ids: [] }, deadlineIn(CALL_MS), cb),
        );
      } finally {
        closeClient(client);
      }
    };
    // The TLS handshake itself fails: no handler runs.
    expect((await failure(getStatus(pki.credentials(undefined)))).code).toBe(status.UNAVAILABLE);
    const rogue = await failure(
      getStatus(
        // Trusts our CA (so the server is verified) but presents the rogue CA's "master".
        roguePki.credentials(MASTER),
      ),
    );
    expect(rogue.code).toBe(status.UNAVAILABLE);
    // A certificate from our CA whose identity is not in --control-allowed-identities.
    const operator = await failure(getStatus(pki.credentials("operator")));
    expect(operator.code).toBe(status.PERMISSION_DENIED);
    expect(reasonOf(operator)).toBe("unauthenticated_peer");
    expect(operator.details).toMatch(/identity "operator" is not allowed/);
    // Another agent's identity is not the master either.
    expect(reasonOf(await failure(getStatus(pki.credentials("tls-x"))))).toBe("unauthenticated_peer");
  });

  it("a replica refuses Handshake and Ship from an intruder assigned as primary; nothing is appended", async () => {
    showLogsOnFailure(fleet);
    const before = await volumeStatus(replica, VOLUME);
    await allocate(intruder, {
      volumeId: VOLUME,
      sizeBytes: SIZE_BYTES,
      walSizeBytes: 4 * MiB,
      mode: "best_effort",
    });
    await assign(intruder, primaryAssignment(VOLUME, 1, [replica]));
    await write(intruder, VOLUME, 0, Buffer.alloc(BLOCK_BYTES, 0x66));
    await flush(intruder, VOLUME);
    // The replica counts the refused handshakes by reason (its /metrics), the intruder never syncs.
    await waitFor(
      async () => (await refusedHandshakes()) >= 2,
      "the replica's metrics show refused handshakes (unauthenticated_peer)",
    );
    const seen = await volumeStatus(intruder, VOLUME);
    expect(seen.replicas[0]?.sender_state).not.toBe("SENDER_STATE_IN_SYNC");
    expect(seen.replicas[0]?.durable_lsn).toBe("0");
    expect(intruder.logs()).toMatch(
      /unauthenticated_peer: tls-x is not the assigned primary of tls-vol \(tls-p\)/,
    );
    const after = await volumeStatus(replica, VOLUME);
    expect([after.head_lsn, after.durable_lsn]).toEqual([before.head_lsn, before.durable_lsn]);
    expect(firstDifference(await readAll(replica, VOLUME, SIZE_BYTES), flushed)).toBe(-1);
  });

  it("a client that claims to be the primary but presents another identity is refused by the certificate check", async () => {
    const before = await volumeStatus(replica, VOLUME);
    const client = createReplicationClient(replica.address, {
      credentials: pki.credentials("tls-x", { expectServerIdentity: "tls-r" }),
    });
    try {
      const claims = {
        volume_id: VOLUME,
        epoch: "1",
        primary_server_id: "tls-p",
        replica_server_id: "tls-r",
      };
      const handshake = await failure(
        unary<HandshakeResponse__Output>((cb) => client.Handshake(claims, deadlineIn(CALL_MS), cb)),
      );
      expect(handshake.code).toBe(status.PERMISSION_DENIED);
      expect(reasonOf(handshake)).toBe("unauthenticated_peer");
      expect(handshake.details).toMatch(/certificate identity "tls-x" is not the assigned primary/);

      const ship = client.Ship(deadlineIn(CALL_MS));
      const ended = new Promise<ServiceError>((resolve, reject) => {
        ship.on("data", (m: ShipResponse__Output) =>
          reject(new Error(`unexpected answer ${JSON.stringify(m)}`)),
        );
        ship.on("error", resolve);
        ship.on("end", () => reject(new Error("stream ended without an error")));
      });
      const first: ShipRequest = claims;
      ship.write(first);
      const shipErr = await ended;
      expect(reasonOf(shipErr)).toBe("unauthenticated_peer");
      expect(shipErr.details).toMatch(/certificate identity "tls-x"/);
    } finally {
      closeClient(client);
    }
    const after = await volumeStatus(replica, VOLUME);
    expect(after.head_lsn).toBe(before.head_lsn);
  });

  it("Rebuild.StreamBase serves a replica only its own image: another identity asking for it is refused", async () => {
    const pull = (identity: string) => {
      const client = createRebuildClient(primary.address, {
        credentials: pki.credentials(identity, { expectServerIdentity: "tls-p" }),
      });
      const stream = client.StreamBase(
        { volume_id: VOLUME, epoch: "1", replica_server_id: "tls-r" },
        deadlineIn(CALL_MS),
      );
      const first = new Promise<"data" | ServiceError>((resolve) => {
        stream.once("data", () => resolve("data"));
        stream.once("error", (err: ServiceError) => resolve(err));
      });
      return first.finally(() => {
        stream.cancel();
        closeClient(client);
      });
    };
    const refused = await pull("tls-x");
    expect(refused).not.toBe("data");
    expect(reasonOf(refused as ServiceError)).toBe("unauthenticated_peer");
    expect((refused as ServiceError).details).toMatch(/identity "tls-x" is not replica_server_id tls-r/);
    // The replica itself gets its image.
    expect(await pull("tls-r")).toBe("data");
  });

  it("a copy assigned ROLE_REBUILDING pulls its image over mTLS, becomes REPLICA and holds every flushed byte", async () => {
    showLogsOnFailure(fleet);
    const volumeId = "tls-rebuild";
    for (const agent of [primary, replica]) {
      await allocate(agent, { volumeId, sizeBytes: SIZE_BYTES, walSizeBytes: 4 * MiB, mode: "best_effort" });
    }
    await assign(primary, primaryAssignment(volumeId, 1, [replica]));
    const image = Buffer.alloc(SIZE_BYTES);
    const rand = prng(7);
    for (let i = 0; i < 12; i++) {
      const lba = Math.floor(rand() * (SIZE_BYTES / BLOCK_BYTES));
      const data = patternBytes(BLOCK_BYTES, rand);
      await write(primary, volumeId, lba, data);
      data.copy(image, lba * BLOCK_BYTES);
    }
    await flush(primary, volumeId);
    await assign(replica, {
      volume_id: volumeId,
      epoch: "1",
      role: "ROLE_REBUILDING",
      primary_server_id: primary.serverId,
      primary_address: primary.address,
    });
    await waitFor(
      async () => (await volumeStatus(replica, volumeId)).role === "ROLE_REPLICA",
      "the rebuilt copy becomes REPLICA",
    );
    expect((await volumeStatus(replica, volumeId)).last_rebuild?.total_bytes).toBe(String(SIZE_BYTES));
    await waitFor(() => replicasInSync(primary, volumeId, 1), "the rebuilt replica in sync");
    expect(firstDifference(await readAll(replica, volumeId, SIZE_BYTES), image)).toBe(-1);
  });

  it("the real primary still replicates after the refusals", async () => {
    showLogsOnFailure(fleet);
    await writeAndFlush(2, 8);
    const p = await volumeStatus(primary, VOLUME);
    expect(p.replicas[0]?.durable_lsn).toBe(p.head_lsn);
    expect(firstDifference(await readAll(replica, VOLUME, SIZE_BYTES), flushed)).toBe(-1);
  });
});

describe("tools against a TLS agent", () => {
  it("buf curl with --cacert/--cert/--key lists the services and checks health", async () => {
    const master = pki.cert(MASTER);
    const tls = { caFile: pki.ca.caFile, certFile: master.certFile, keyFile: master.keyFile };
    const list = await bufCurl({ address: primary.address, listServices: true, tls });
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.lines).toEqual(expect.arrayContaining(["blockship.v1.Control", "grpc.health.v1.Health"]));
    const health = await bufCurl({
      address: primary.address,
      method: "grpc.health.v1.Health/Check",
      data: { service: "blockship.v1.Control" },
      tls,
    });
    expect(health.exitCode, health.stderr).toBe(0);
    expect(health.json).toEqual({ status: "SERVING" });
    const status = await bufCurl({
      address: primary.address,
      method: "blockship.v1.Control/GetStatus",
      data: {},
      tls,
    });
    expect(status.exitCode, status.stderr).toBe(0);
    expect((status.json as { report?: { serverId?: string } }).report?.serverId).toBe("tls-p");
    const noCert = await bufCurl({
      address: primary.address,
      listServices: true,
      tls: { caFile: pki.ca.caFile },
    });
    expect(noCert.exitCode).not.toBe(0);
  });

  it("blockctl: TLS flags or env work, an identity not allowed exits 3, no transport choice is a usage error", async () => {
    const addr = ["--addr", primary.address];
    const master = pki.cert(MASTER);
    // Each run is a process start: all at once, checked afterwards.
    const [ok, viaEnv, operator, none, plaintext] = await Promise.all([
      runBlockctl(["--json", ...addr, ...pki.blockctlArgs(MASTER), "status"]),
      runBlockctl(["--json", ...addr, "status", VOLUME], {
        BLOCKSHIP_TLS_CA: pki.ca.caFile,
        BLOCKSHIP_TLS_CERT: master.certFile,
        BLOCKSHIP_TLS_KEY: master.keyFile,
      }),
      runBlockctl(["--json", ...addr, ...pki.blockctlArgs("operator"), "status"]),
      runBlockctl([...addr, "status"]),
      runBlockctl([...addr, "--insecure", "--timeout-ms", "2000", "status"]),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ server_id: "tls-p" });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(operator.code).toBe(3);
    expect(JSON.parse(operator.stdout).error).toMatchObject({ reason: "unauthenticated_peer" });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/choose how to reach the agent: --tls-ca FILE .* or --insecure/);
    expect(plaintext.code).toBe(2);
    expect(plaintext.stderr).toMatch(/cannot reach agent/);
  });

  it("kubelet-style probes: the health-only port answers plaintext while the main port needs mTLS", async () => {
    for (const agent of [primary, replica]) {
      const health = createHealthClient(healthAddressOf(agent));
      try {
        const res = await unary<HealthCheckResponse__Output>((cb) =>
          health.Check({ service: "" }, deadlineIn(CALL_MS), cb),
        );
        expect(res.status).toBe("SERVING");
      } finally {
        closeClient(health);
      }
    }
    const plaintextMain = createHealthClient(primary.address);
    try {
      const err = await failure(
        unary<HealthCheckResponse__Output>((cb) =>
          plaintextMain.Check({ service: "" }, deadlineIn(CALL_MS), cb),
        ),
      );
      expect(err.code).toBe(status.UNAVAILABLE);
    } finally {
      closeClient(plaintextMain);
    }
  });
});
