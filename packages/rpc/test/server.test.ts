import { type ServiceError, status } from "@grpc/grpc-js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CallEvent,
  type ControlClient,
  closeClient,
  createControlClient,
  createHealthClient,
  createVolumeClient,
  deadlineIn,
  type GetProtocolStateResponse__Output,
  type HealthCheckResponse__Output,
  type HealthClient,
  MAX_MESSAGE_BYTES,
  observeCalls,
  type ReadResponse__Output,
  reasonOf,
  type StartedRpcServer,
  U64_MAX,
  u64ToWire,
  unary,
  type VolumeClient,
  type WatchStatusResponse__Output,
  type WriteResponse__Output,
} from "../src/index";
import { startTestServer } from "./fixtures";

function failure<T>(promise: Promise<T>): Promise<ServiceError> {
  return promise.then(
    (value) => {
      throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
    },
    (err: ServiceError) => err,
  );
}

describe("server + typed clients (in process, real protos)", () => {
  let server: StartedRpcServer;
  let control: ControlClient;
  let volume: VolumeClient;
  let health: HealthClient;

  beforeAll(async () => {
    ({ server } = await startTestServer());
    control = createControlClient(server.address);
    volume = createVolumeClient(server.address);
    health = createHealthClient(server.address);
  });

  afterAll(async () => {
    for (const c of [control, volume, health]) closeClient(c);
    await server.shutdown(1_000);
  });

  const write = (lba: string, data = Buffer.alloc(4096)) =>
    unary<WriteResponse__Output>((cb) =>
      volume.Write({ volume_id: "v1", lba, data }, deadlineIn(10_000), cb),
    );
  const read = (lba: string, length_bytes: number) =>
    unary<ReadResponse__Output>((cb) =>
      volume.Read({ volume_id: "v1", lba, length_bytes }, deadlineIn(10_000), cb),
    );
  const check = (service: string) =>
    unary<HealthCheckResponse__Output>((cb) => health.Check({ service }, deadlineIn(10_000), cb));

  it("serves uint64 values as exact decimal strings", async () => {
    const state = await unary<GetProtocolStateResponse__Output>((cb) =>
      control.GetProtocolState({ volume_id: "v1" }, cb),
    );
    expect(state).toMatchObject({ volume_id: "v1", epoch: "18446744073709551615", role: "ROLE_PRIMARY" });
    expect((await write("9007199254740993")).lsn).toBe("9007199254740994");
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 0n, max: U64_MAX - 1n }), async (lba) => {
        expect((await write(u64ToWire(lba))).lsn).toBe(u64ToWire(lba + 1n));
      }),
      { numRuns: 25 },
    );
  });

  it("maps errors to code + reason (details prefix and trailing metadata)", async () => {
    const notFound = await failure(unary((cb) => control.DeleteVolume({ volume_id: "nope" }, cb)));
    expect(notFound.code).toBe(status.NOT_FOUND);
    expect(notFound.details).toBe('volume_not_found: no volume "nope"');
    expect(notFound.metadata.get("reason")).toEqual(["volume_not_found"]);
    expect(reasonOf(notFound)).toBe("volume_not_found");

    const domain = await failure(read("1000", 4096));
    expect(domain.code).toBe(status.OUT_OF_RANGE);
    expect(reasonOf(domain)).toBe("out_of_range");

    const unexpected = await failure(read("999", 4096));
    expect(unexpected.code).toBe(status.INTERNAL);
    expect(unexpected.details).toBe("internal: disk on fire");

    const invalid = await failure(
      unary((cb) => volume.Write({ volume_id: "", lba: "1", data: Buffer.alloc(1) }, cb)),
    );
    expect(invalid.code).toBe(status.INVALID_ARGUMENT);
    expect(invalid.details).toBe("invalid_argument: volume_id: required");

    const unimplemented = await failure(unary((cb) => control.GetStatus({}, cb)));
    expect(unimplemented.code).toBe(status.UNIMPLEMENTED);
    expect(reasonOf(unimplemented)).toBe("unimplemented");
  });

  it("carries messages well above grpc-js's 4 MiB default in both directions", async () => {
    const size = 12 * 1024 * 1024;
    expect(size).toBeLessThan(MAX_MESSAGE_BYTES);
    const response = await read("7", size);
    expect(response.data.length).toBe(size);
    expect(response.data[size - 1]).toBe(7);
    expect((await write("1", Buffer.alloc(size, 1))).lsn).toBe("2");
  });

  it("answers health per served service and overall, settable", async () => {
    expect(server.servedServices).toEqual(["blockship.v1.Control", "blockship.v1.Volume"]);
    expect((await check("")).status).toBe("SERVING");
    expect((await check("blockship.v1.Control")).status).toBe("SERVING");
    const unknown = await failure(check("blockship.v1.Rebuild"));
    expect(unknown.code).toBe(status.NOT_FOUND);
    server.health.set("blockship.v1.Volume", "NOT_SERVING");
    expect((await check("blockship.v1.Volume")).status).toBe("NOT_SERVING");
    server.health.set("blockship.v1.Volume", "SERVING");
    expect(server.health.snapshot()).toEqual({
      "": "SERVING",
      "blockship.v1.Control": "SERVING",
      "blockship.v1.Volume": "SERVING",
    });
  });
});

describe("observeCalls interceptor", () => {
  it("reports method, code, reason and duration of every call", async () => {
    const events: CallEvent[] = [];
    const { server } = await startTestServer({ interceptors: [observeCalls((e) => events.push(e))] });
    const control = createControlClient(server.address);
    await unary((cb) => control.DeleteVolume({ volume_id: "exists" }, cb));
    await failure(unary((cb) => control.DeleteVolume({ volume_id: "missing" }, cb)));
    await failure(unary((cb) => control.GetStatus({}, cb)));
    closeClient(control);
    await server.shutdown(1_000);
    expect(events.map(({ method, code, reason }) => ({ method, code, reason }))).toEqual([
      { method: "/blockship.v1.Control/DeleteVolume", code: status.OK, reason: undefined },
      { method: "/blockship.v1.Control/DeleteVolume", code: status.NOT_FOUND, reason: "volume_not_found" },
      { method: "/blockship.v1.Control/GetStatus", code: status.UNIMPLEMENTED, reason: "unimplemented" },
    ]);
    for (const e of events) expect(e.durationMs).toBeGreaterThanOrEqual(0);
  });
});

describe("graceful shutdown", () => {
  it("finishes at once without open calls", async () => {
    const { server } = await startTestServer();
    const control = createControlClient(server.address);
    await unary((cb) => control.DeleteVolume({ volume_id: "exists" }, cb));
    closeClient(control);
    expect(await server.shutdown(10_000)).toEqual({ forced: false });
    expect(await server.shutdown(10_000)).toEqual({ forced: false });
  });

  it("goes NOT_SERVING first and is bounded even with an open stream", async () => {
    const { server, streams } = await startTestServer();
    const control = createControlClient(server.address);
    const health = createHealthClient(server.address);

    const watch = control.WatchStatus({ interval_ms: 1000 });
    const firstReport = new Promise<WatchStatusResponse__Output>((resolve) => watch.once("data", resolve));
    const watchEnded = new Promise<ServiceError>((resolve) => watch.on("error", resolve));
    expect((await firstReport).trigger).toBe("STATUS_TRIGGER_INITIAL");
    await streams.waitFor(1);

    const healthWatch = health.Watch({ service: "" });
    const seen: string[] = [];
    const notServing = new Promise<void>((resolve) => {
      healthWatch.on("data", (m: HealthCheckResponse__Output) => {
        seen.push(m.status);
        if (m.status === "NOT_SERVING") resolve();
      });
    });
    healthWatch.on("error", () => {});
    await new Promise<void>((resolve) => healthWatch.once("data", () => resolve()));

    const result = await server.shutdown(1_000);
    await notServing;
    expect(seen).toEqual(["SERVING", "NOT_SERVING"]);
    expect(result).toEqual({ forced: true });
    const err = await watchEnded;
    expect([status.CANCELLED, status.UNAVAILABLE]).toContain(err.code);
    closeClient(control);
    closeClient(health);
  });
});
