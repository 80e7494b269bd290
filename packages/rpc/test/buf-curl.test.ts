import { createRequire } from "node:module";
import type { IFileDescriptorProto } from "protobufjs/ext/descriptor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StartedRpcServer, startServer } from "../src/index";
import { bufCurl, parseJsonDocuments } from "../src/testing/index";
import { startTestServer } from "./fixtures";

// The real CLI client (buf curl, Go, from npm), schema from server reflection only.

const require = createRequire(import.meta.url);
const descriptor: typeof import("protobufjs/ext/descriptor") = require("protobufjs/ext/descriptor");

const ALL_SERVICES = [
  "blockship.v1.Control",
  "blockship.v1.Volume",
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];

describe("buf curl against the in-process server", () => {
  let server: StartedRpcServer;
  beforeAll(async () => {
    ({ server } = await startTestServer());
  });
  afterAll(async () => {
    await server.shutdown(1_000);
  });

  it.each(["grpc-v1", "grpc-v1alpha"] as const)(
    "lists every served service over reflection %s",
    async (protocol) => {
      const result = await bufCurl({
        address: server.address,
        listServices: true,
        reflectProtocol: protocol,
      });
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      expect(result.lines).toEqual(ALL_SERVICES);
    },
  );

  it("lists every method", async () => {
    const all = await bufCurl({ address: server.address, listMethods: true });
    expect(all.exitCode).toBe(0);
    expect(all.lines.filter((l) => l.startsWith("blockship.v1.Control/"))).toEqual(
      [
        "AllocateVolume",
        "ApplyAssignments",
        "CancelRecovery",
        "DeleteVolume",
        "GetProtocolState",
        "GetStatus",
        "RenewLeases",
        "StartRecovery",
        "WatchStatus",
      ].map((m) => `blockship.v1.Control/${m}`),
    );
    expect(all.lines).toContain("grpc.health.v1.Health/Check");
    expect(all.lines).toContain("blockship.v1.Volume/WriteStream");
  });

  it("describes messages with their proto field names (reflection file descriptors)", async () => {
    const result = await bufCurl({
      address: server.address,
      method: "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      data: { fileContainingSymbol: "blockship.v1.Control" },
    });
    expect(result.exitCode).toBe(0);
    const response = result.json as { fileDescriptorResponse: { fileDescriptorProto: string[] } };
    const files = response.fileDescriptorResponse.fileDescriptorProto.map(
      (b64) =>
        descriptor.FileDescriptorProto.toObject(
          descriptor.FileDescriptorProto.decode(Buffer.from(b64, "base64")),
        ) as IFileDescriptorProto,
    );
    const file = files.find((f) => f.package === "blockship.v1");
    const assignment = file?.messageType?.find((m) => m.name === "Assignment");
    expect(assignment?.field?.map((f) => f.name)).toEqual([
      "volume_id",
      "epoch",
      "role",
      "lease_ttl_ms",
      "replicas",
      "durability_mode",
      "recovery_target",
      "primary_server_id",
      "primary_address",
      "rebuild_rate_limit_bytes_per_second",
    ]);
    // Comments travel as source_code_info, so describe tools (grpcurl describe) show them.
    const locations = (file?.sourceCodeInfo as { location?: { path: number[]; leadingComments?: string }[] })
      ?.location;
    const commentAt = (at: number[]) =>
      locations?.find((l) => JSON.stringify(l.path) === JSON.stringify(at))?.leadingComments;
    const controlIndex = file?.service?.findIndex((s) => s.name === "Control") ?? -1;
    expect(commentAt([6, controlIndex])).toMatch(/^ Control is served by every agent/);
    const applyIndex =
      file?.service?.[controlIndex]?.method?.findIndex((m) => m.name === "ApplyAssignments") ?? -1;
    expect(commentAt([6, controlIndex, 2, applyIndex])).toMatch(/Idempotent/);
    const assignmentIndex = file?.messageType?.indexOf(assignment!) ?? -1;
    expect(commentAt([4, assignmentIndex, 2, 3])).toMatch(/lease in milliseconds/);
    const role = file?.enumType?.find((e) => e.name === "Role");
    expect(role?.value?.map((v) => `${v.name}=${v.number}`)).toEqual([
      "ROLE_NONE=0",
      "ROLE_PRIMARY=1",
      "ROLE_REPLICA=2",
      "ROLE_STALE=3",
      "ROLE_REBUILDING=4",
      "ROLE_DRAINING=5",
    ]);
  });

  it("checks health overall and per service", async () => {
    const overall = await bufCurl({
      address: server.address,
      method: "grpc.health.v1.Health/Check",
      data: {},
    });
    expect(overall.exitCode).toBe(0);
    expect(overall.json).toEqual({ status: "SERVING" });
    server.health.set("blockship.v1.Volume", "NOT_SERVING");
    const volume = await bufCurl({
      address: server.address,
      method: "grpc.health.v1.Health/Check",
      data: { service: "blockship.v1.Volume" },
    });
    server.health.set("blockship.v1.Volume", "SERVING");
    expect(volume.json).toEqual({ status: "NOT_SERVING" });
  });

  it("lists health statuses (a map field: needs protoc-style map entry names in reflection)", async () => {
    const result = await bufCurl({ address: server.address, method: "grpc.health.v1.Health/List", data: {} });
    expect(result.stderr).toBe("");
    expect(result.json).toEqual({
      statuses: {
        "": { status: "SERVING" },
        "blockship.v1.Control": { status: "SERVING" },
        "blockship.v1.Volume": { status: "SERVING" },
      },
    });
  });

  it("round-trips uint64 strings above 2^53 exactly in JSON", async () => {
    for (const [lba, lsn] of [
      ["9007199254740993", "9007199254740994"],
      ["18446744073709551614", "18446744073709551615"],
    ]) {
      const result = await bufCurl({
        address: server.address,
        method: "blockship.v1.Volume/Write",
        data: { volume_id: "v1", lba, data: Buffer.alloc(4096).toString("base64") },
      });
      expect(result.stderr).toBe("");
      expect(result.json).toEqual({ lsn });
    }
  });

  it("accepts proto and JSON (camelCase) field names", async () => {
    const snake = await bufCurl({
      address: server.address,
      method: "blockship.v1.Control/GetProtocolState",
      data: { volume_id: "vol-a" },
    });
    const camel = await bufCurl({
      address: server.address,
      method: "blockship.v1.Control/GetProtocolState",
      data: { volumeId: "vol-a" },
    });
    expect(snake.json).toEqual({ volumeId: "vol-a", epoch: "18446744073709551615", role: "ROLE_PRIMARY" });
    expect(camel.json).toEqual(snake.json);
  });

  it("shows the error code, the reason-prefixed message and the reason trailer", async () => {
    const result = await bufCurl({
      address: server.address,
      method: "blockship.v1.Control/DeleteVolume",
      data: { volume_id: "gone" },
      extraArgs: ["-v"],
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.error).toEqual({ code: "not_found", message: 'volume_not_found: no volume "gone"' });
    expect(result.stderr).toMatch(/^buf: < \(#\d+\) Reason: volume_not_found$/m);
  });
});

describe("buf curl against a server of every service", () => {
  it("lists all four blockship services, health and reflection", async () => {
    const server = await startServer({
      address: "127.0.0.1:0",
      handlers: { control: {}, volume: {}, replication: {}, rebuild: {} },
    });
    try {
      const result = await bufCurl({ address: server.address, listServices: true });
      expect(result.lines).toEqual([
        "blockship.v1.Control",
        "blockship.v1.Rebuild",
        "blockship.v1.Replication",
        "blockship.v1.Volume",
        ...ALL_SERVICES.slice(2),
      ]);
      const methods = await bufCurl({ address: server.address, listMethods: true });
      expect(methods.lines).toEqual(
        expect.arrayContaining([
          "blockship.v1.Replication/Handshake",
          "blockship.v1.Replication/Ship",
          "blockship.v1.Replication/Resync",
          "blockship.v1.Rebuild/StreamBase",
        ]),
      );
    } finally {
      await server.shutdown(1_000);
    }
  });
});

describe("parseJsonDocuments", () => {
  it("splits concatenated documents and ignores brackets inside strings", () => {
    expect(parseJsonDocuments('{"a":"}{"}\n{\n "b": [1, 2]\n}\nnoise')).toEqual([{ a: "}{" }, { b: [1, 2] }]);
    expect(parseJsonDocuments("")).toEqual([]);
  });
});
