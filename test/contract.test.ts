// Contract tests with a real gRPC CLI client: `buf curl` (npm @bufbuild/buf) against real agent
// processes, schema from server reflection only (no .proto files), exactly as an operator with
// grpcurl would use them.
import { randomBytes } from "node:crypto";
import { type BufCurlOptions, type BufCurlResult, bufCurl } from "@blockship/rpc/testing";
import descriptor from "protobufjs/ext/descriptor/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpcurlCommands } from "../services/demo/src/commands";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { MiB } from "./support/master";

const fleet = new AgentFleet();
let primary: AgentHandle;
let replica: AgentHandle;
const VOLUME = "vol-1";
/**
 * 2^53 - 1, the largest epoch the agent accepts (the engine bounds u64s to safe integers and
 * refuses larger ones with invalid_argument rather than rounding them).
 */
const BIG_EPOCH = "9007199254740991";

beforeAll(async () => {
  [primary, replica] = await Promise.all([
    fleet.start({ kind: "primary", serverId: "demo-primary" }),
    fleet.start({ kind: "replica", serverId: "demo-replica" }),
  ]);
});

afterAll(async () => {
  await fleet.cleanup();
});

async function curl(options: Omit<BufCurlOptions, "address"> & { address?: string }): Promise<BufCurlResult> {
  return bufCurl({ address: primary.address, ...options });
}

/** A successful call's JSON document (fails with buf's output otherwise). */
async function call(address: string, method: string, data: unknown): Promise<Record<string, unknown>> {
  const res = await bufCurl({ address, method, data });
  expect(res.exitCode, `${method}: ${res.stderr}`).toBe(0);
  return res.json as Record<string, unknown>;
}

/** The reflection schema of the file that defines `symbol` (what `grpcurl describe` reads). */
async function describeSymbol(symbol: string): Promise<descriptor.IFileDescriptorProto[]> {
  const res = await curl({
    method: "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    data: { file_containing_symbol: symbol },
  });
  expect(res.exitCode, res.stderr).toBe(0);
  const doc = res.json as { fileDescriptorResponse?: { fileDescriptorProto?: string[] } };
  const files = doc.fileDescriptorResponse?.fileDescriptorProto ?? [];
  expect(files.length).toBeGreaterThan(0);
  return files.map(
    (b64) =>
      descriptor.FileDescriptorProto.decode(Buffer.from(b64, "base64")) as descriptor.IFileDescriptorProto,
  );
}

describe("buf curl over reflection (no .proto files)", () => {
  it("lists every served service, over reflection v1 and v1alpha", async () => {
    showLogsOnFailure(fleet);
    const expected = [
      "blockship.v1.Control",
      "blockship.v1.Rebuild",
      "blockship.v1.Replication",
      "blockship.v1.Volume",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ];
    for (const reflectProtocol of ["grpc-v1", "grpc-v1alpha"] as const) {
      for (const address of [primary.address, replica.address]) {
        const res = await curl({ address, listServices: true, reflectProtocol });
        expect(res.exitCode, res.stderr).toBe(0);
        expect([...res.lines].sort()).toEqual(expected);
      }
    }
  });

  it("lists the methods of the contract (DESIGN §6)", async () => {
    showLogsOnFailure(fleet);
    const res = await curl({ listMethods: true });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.lines).toEqual(
      expect.arrayContaining([
        "blockship.v1.Control/ApplyAssignments",
        "blockship.v1.Control/RenewLeases",
        "blockship.v1.Control/GetStatus",
        "blockship.v1.Control/WatchStatus",
        "blockship.v1.Control/GetProtocolState",
        "blockship.v1.Control/StartRecovery",
        "blockship.v1.Control/CancelRecovery",
        "blockship.v1.Control/AllocateVolume",
        "blockship.v1.Control/DeleteVolume",
        "blockship.v1.Volume/Write",
        "blockship.v1.Volume/Read",
        "blockship.v1.Volume/Trim",
        "blockship.v1.Volume/Flush",
        "blockship.v1.Volume/GetInfo",
        "blockship.v1.Volume/WriteStream",
        "blockship.v1.Replication/Handshake",
        "blockship.v1.Replication/Ship",
        "blockship.v1.Rebuild/StreamBase",
        "grpc.health.v1.Health/Check",
        "grpc.health.v1.Health/Watch",
      ]),
    );
  });

  it("describe: reflection serves the schema with snake_case fields and the .proto comments", async () => {
    showLogsOnFailure(fleet);
    const files = await describeSymbol("blockship.v1.Control");
    const control = files.flatMap((f) => f.service ?? []).find((s) => s.name === "Control");
    expect(control?.method?.map((m) => m.name)).toEqual(
      expect.arrayContaining(["ApplyAssignments", "GetProtocolState", "AllocateVolume", "WatchStatus"]),
    );
    const watch = control?.method?.find((m) => m.name === "WatchStatus");
    expect(watch?.serverStreaming).toBe(true);
    const assignment = files.flatMap((f) => f.messageType ?? []).find((m) => m.name === "Assignment");
    expect(assignment?.field?.map((f) => f.name)).toEqual(
      expect.arrayContaining(["volume_id", "epoch", "role", "lease_ttl_ms", "replicas", "durability_mode"]),
    );
    const comments = files
      .flatMap((f) => f.sourceCodeInfo?.location ?? [])
      .map((l) => l.leadingComments ?? "")
      .join("\n");
    expect(comments).toContain("Applies a batch of assignments");
    // Imported files (common.proto: Role, DurabilityMode) come along, as grpcurl needs them.
    const enums = files.flatMap((f) => f.enumType ?? []).map((e) => e.name);
    expect(enums).toEqual(expect.arrayContaining(["Role", "DurabilityMode"]));
  });

  it("health: overall SERVING on both agents; per-service checks answer", async () => {
    showLogsOnFailure(fleet);
    for (const address of [primary.address, replica.address]) {
      expect(await call(address, "grpc.health.v1.Health/Check", {})).toEqual({ status: "SERVING" });
      expect(await call(address, "grpc.health.v1.Health/Check", { service: "blockship.v1.Control" })).toEqual(
        {
          status: "SERVING",
        },
      );
    }
    const unknown = await curl({
      method: "grpc.health.v1.Health/Check",
      data: { service: "no.such.Service" },
    });
    expect(unknown.exitCode).not.toBe(0);
    expect(unknown.error?.code).toBe("not_found");
  });

  it("AllocateVolume, ApplyAssignments, GetStatus and GetProtocolState in JSON; uint64 as exact strings", async () => {
    showLogsOnFailure(fleet);
    const alloc = await call(primary.address, "blockship.v1.Control/AllocateVolume", {
      volume_id: "big-epoch",
      size_bytes: String(64 * MiB),
      wal_size_bytes: String(16 * MiB),
      durability_mode: "DURABILITY_MODE_BEST_EFFORT",
    });
    expect(alloc).toMatchObject({
      created: true,
      volume: { volumeId: "big-epoch", sizeBytes: String(64 * MiB), walSizeBytes: String(16 * MiB) },
    });
    const applied = await call(primary.address, "blockship.v1.Control/ApplyAssignments", {
      assignments: [{ volume_id: "big-epoch", epoch: BIG_EPOCH, role: "ROLE_PRIMARY", lease_ttl_ms: 30_000 }],
    });
    expect(applied).toEqual({ results: [{ volumeId: "big-epoch", epoch: BIG_EPOCH, status: {} }] });
    // One above: refused loudly, never rounded (a lossy number would make it 9007199254740992).
    const tooBig = await call(primary.address, "blockship.v1.Control/ApplyAssignments", {
      assignments: [
        { volume_id: "big-epoch", epoch: "9007199254740993", role: "ROLE_PRIMARY", lease_ttl_ms: 1 },
      ],
    });
    expect(tooBig).toMatchObject({
      results: [{ epoch: "9007199254740993", status: { code: 3, reason: "invalid_argument" } }],
    });
    // Re-delivery through the CLI: unchanged.
    const again = await call(primary.address, "blockship.v1.Control/ApplyAssignments", {
      assignments: [{ volume_id: "big-epoch", epoch: BIG_EPOCH, role: "ROLE_PRIMARY", lease_ttl_ms: 30_000 }],
    });
    expect(again).toMatchObject({ results: [{ volumeId: "big-epoch", epoch: BIG_EPOCH, unchanged: true }] });
    const state = await call(primary.address, "blockship.v1.Control/GetProtocolState", {
      volume_id: "big-epoch",
    });
    expect(state).toMatchObject({ volumeId: "big-epoch", epoch: BIG_EPOCH, role: "ROLE_PRIMARY" });
    const status = await call(primary.address, "blockship.v1.Control/GetStatus", {
      volume_ids: ["big-epoch"],
    });
    const report = status.report as { serverId: string; seq: string; volumes: Record<string, unknown>[] };
    expect(report.serverId).toBe("demo-primary");
    expect(typeof report.seq).toBe("string");
    expect(report.volumes).toHaveLength(1);
    expect(report.volumes[0]).toMatchObject({
      volumeId: "big-epoch",
      epoch: BIG_EPOCH,
      role: "ROLE_PRIMARY",
    });
    // A write's LSN is a string too.
    const write = await call(primary.address, "blockship.v1.Volume/Write", {
      volume_id: "big-epoch",
      lba: "1",
      data: randomBytes(4096).toString("base64"),
    });
    expect(write).toEqual({ lsn: "1" });
  });

  it("a failed call prints the canonical code and the stable reason", async () => {
    showLogsOnFailure(fleet);
    const res = await curl({ method: "blockship.v1.Control/GetProtocolState", data: { volume_id: "nope" } });
    expect(res.exitCode).not.toBe(0);
    expect(res.error?.code).toBe("not_found");
    expect(res.error?.message).toMatch(/^volume_not_found: /);
    const regress = await call(primary.address, "blockship.v1.Control/ApplyAssignments", {
      assignments: [{ volume_id: "big-epoch", epoch: "1", role: "ROLE_PRIMARY", lease_ttl_ms: 30_000 }],
    });
    expect(regress).toMatchObject({
      results: [{ volumeId: "big-epoch", status: { code: 9, reason: "epoch_regression" } }],
    });
  });
});

/** `grpcurl -plaintext [-d '<json>'] <addr> <method>` → the equivalent buf curl options. */
function translateGrpcurl(line: string): BufCurlOptions {
  const random = "$(head -c 4096 /dev/urandom | base64 -w0)";
  const text = line.replace(random, randomBytes(4096).toString("base64"));
  const list = /^grpcurl -plaintext (\S+) list$/.exec(text);
  if (list?.[1] !== undefined) return { address: list[1], listServices: true };
  const describeMatch = /^grpcurl -plaintext (\S+) describe (\S+)$/.exec(text);
  if (describeMatch?.[1] !== undefined) {
    return {
      address: describeMatch[1],
      method: "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      data: { file_containing_symbol: describeMatch[2] },
    };
  }
  const single = /^grpcurl -plaintext -d '(.*)' (\S+) (\S+)$/.exec(text);
  const double = /^grpcurl -plaintext -d "(.*)" (\S+) (\S+)$/.exec(text);
  const m = single ?? double;
  if (m?.[2] === undefined) throw new Error(`unrecognised grpcurl command: ${line}`);
  const body = double !== null ? (m[1] ?? "").replaceAll('\\"', '"') : (m[1] ?? "");
  return { address: m[2], method: m[3], data: body };
}

describe("the operator commands printed by `npm start` work (as buf curl)", () => {
  it("runs each grpcurl command against a live pair and gets an answer", async () => {
    showLogsOnFailure(fleet);
    // The pair as the demo leaves it: RF=2 sync_all, epoch 1.
    for (const agent of [primary, replica]) {
      await call(agent.address, "blockship.v1.Control/AllocateVolume", {
        volume_id: VOLUME,
        size_bytes: String(64 * MiB),
        wal_size_bytes: String(16 * MiB),
        durability_mode: "DURABILITY_MODE_SYNC_ALL",
      });
    }
    await call(replica.address, "blockship.v1.Control/ApplyAssignments", {
      assignments: [
        { volume_id: VOLUME, epoch: "1", role: "ROLE_REPLICA", primary_server_id: "demo-primary" },
      ],
    });
    await call(primary.address, "blockship.v1.Control/ApplyAssignments", {
      assignments: [
        {
          volume_id: VOLUME,
          epoch: "1",
          role: "ROLE_PRIMARY",
          lease_ttl_ms: 30_000,
          replicas: [{ server_id: "demo-replica", address: replica.address }],
        },
      ],
    });
    const commands = grpcurlCommands(primary.address, replica.address, VOLUME, 1).filter((l) =>
      l.startsWith("grpcurl "),
    );
    expect(commands.length).toBeGreaterThan(5);
    for (const line of commands) {
      const options = translateGrpcurl(line);
      // WatchStatus never ends by itself: take the initial snapshot and stop.
      const streaming = options.method === "blockship.v1.Control/WatchStatus";
      if (streaming) {
        const res = await bufCurl({ ...options, timeoutMs: 2_500 });
        expect(res.documents.length, `${line}\n${res.stderr}`).toBeGreaterThan(0);
        expect(res.json).toMatchObject({ trigger: "STATUS_TRIGGER_INITIAL" });
        continue;
      }
      const res = await bufCurl(options);
      expect(res.exitCode, `${line}\n${res.stderr}`).toBe(0);
      if (options.listServices !== true) expect(res.json, line).toBeDefined();
    }
    // The flushed write of the command list is readable on the replica copy.
    await waitFor(async () => {
      const info = await call(replica.address, "blockship.v1.Volume/GetInfo", { volume_id: VOLUME });
      return info.headLsn === "1";
    }, "replica head LSN 1");
  });
});
