import {
  type ControlClient,
  closeClient,
  createControlClient,
  createVolumeClient,
  type FlushResponse__Output,
  type GetInfoResponse__Output,
  grpcCodeOf,
  type ReadResponse__Output,
  reasonOf,
  type TrimResponse__Output,
  unary,
  type VolumeClient,
  type WriteStreamRequest,
  type WriteStreamResponse__Output,
} from "@blockship/rpc";
import { StorageError } from "@blockship/storage";
import type { ClientDuplexStream } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent";
import { toAgentRpcError } from "../src/errors";
import { allocateRequest, MiB, primary, replica, startTestAgent, tempDir } from "./helpers";

let agent: Agent;
let control: ControlClient;
let volume: VolumeClient;
let cleanup: () => void;

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  agent = await startTestAgent({ dir: t.dir, serverId: "s1" });
  control = createControlClient(agent.address);
  volume = createVolumeClient(agent.address);
  for (const id of ["p", "r"]) await unary((cb) => control.AllocateVolume(allocateRequest(id), cb));
  await unary((cb) => control.ApplyAssignments({ assignments: [primary("p", 3), replica("r", 1)] }, cb));
});

afterAll(async () => {
  closeClient(control);
  closeClient(volume);
  await agent.stop();
  cleanup();
});

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return `${grpcCodeOf(err)} ${reasonOf(err)}`;
  }
}

const write = (req: object) => unary((cb) => volume.Write(req, cb));
const read = (volume_id: string, lba: number, length_bytes: number, allow_copy_read = false) =>
  unary<ReadResponse__Output>((cb) =>
    volume.Read({ volume_id, lba: String(lba), length_bytes, allow_copy_read }, cb),
  );

describe("Volume service", () => {
  it("write, flush, read back; trim reads as zeros; GetInfo", async () => {
    const data = Buffer.alloc(8192);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) % 251;
    await write({ volume_id: "p", lba: "10", data });
    const flushed = await unary<FlushResponse__Output>((cb) => volume.Flush({ volume_id: "p" }, cb));
    expect(Number(flushed.durable_lsn)).toBeGreaterThanOrEqual(1);
    expect((await read("p", 10, 8192)).data.equals(data)).toBe(true);
    const trim = await unary<TrimResponse__Output>((cb) =>
      volume.Trim({ volume_id: "p", lba: "11", length_bytes: "4096" }, cb),
    );
    expect(Number(trim.lsn)).toBeGreaterThan(0);
    const after = (await read("p", 10, 8192)).data;
    expect(after.subarray(0, 4096).equals(data.subarray(0, 4096))).toBe(true);
    expect(after.subarray(4096).equals(Buffer.alloc(4096))).toBe(true);
    const info = await unary<GetInfoResponse__Output>((cb) => volume.GetInfo({ volume_id: "p" }, cb));
    expect(info).toMatchObject({
      volume_id: "p",
      size_bytes: String(4 * MiB),
      block_size: 4096,
      epoch: "3",
      role: "ROLE_PRIMARY",
      durability_mode: "DURABILITY_MODE_BEST_EFFORT",
      writable: true,
      write_block_reason: "",
    });
  });

  it("maps bad input and fencing to canonical codes and reasons", async () => {
    const block = Buffer.alloc(4096, 1);
    const cases: [string, () => Promise<unknown>, string][] = [
      ["unknown volume", () => write({ volume_id: "zz", lba: "0", data: block }), "5 volume_not_found"],
      ["bad volume id", () => write({ volume_id: "a/b", lba: "0", data: block }), "3 invalid_argument"],
      ["lba past the end", () => write({ volume_id: "p", lba: "1024", data: block }), "11 out_of_range"],
      [
        "run past the end",
        () => write({ volume_id: "p", lba: "1023", data: Buffer.alloc(8192) }),
        "11 out_of_range",
      ],
      [
        "huge lba",
        () => write({ volume_id: "p", lba: "18446744073709551615", data: block }),
        "11 out_of_range",
      ],
      ["unaligned", () => write({ volume_id: "p", lba: "0", data: Buffer.alloc(100) }), "3 invalid_argument"],
      ["empty", () => write({ volume_id: "p", lba: "0", data: Buffer.alloc(0) }), "3 invalid_argument"],
      [
        "oversize",
        () => write({ volume_id: "p", lba: "0", data: Buffer.alloc(9 * MiB) }),
        "3 invalid_argument",
      ],
      ["not primary", () => write({ volume_id: "r", lba: "0", data: block }), "9 not_primary"],
      [
        "expected epoch",
        () => write({ volume_id: "p", lba: "0", data: block, expected_epoch: "2" }),
        "9 epoch_stale",
      ],
      ["flush not primary", () => unary((cb) => volume.Flush({ volume_id: "r" }, cb)), "9 not_primary"],
      [
        "flush expected epoch",
        () => unary((cb) => volume.Flush({ volume_id: "p", expected_epoch: "4" }, cb)),
        "9 epoch_stale",
      ],
      [
        "trim not primary",
        () => unary((cb) => volume.Trim({ volume_id: "r", lba: "0", length_bytes: "4096" }, cb)),
        "9 not_primary",
      ],
      [
        "trim unaligned",
        () => unary((cb) => volume.Trim({ volume_id: "p", lba: "0", length_bytes: "10" }, cb)),
        "3 invalid_argument",
      ],
      [
        "trim past end",
        () => unary((cb) => volume.Trim({ volume_id: "p", lba: "1000", length_bytes: String(MiB) }, cb)),
        "11 out_of_range",
      ],
      ["read zero", () => read("p", 0, 0), "3 invalid_argument"],
      ["read past end", () => read("p", 1024, 4096), "11 out_of_range"],
    ];
    for (const [what, call, expected] of cases) expect(await outcome(call()), what).toBe(expected);
  });

  it("a copy that is not a writable primary reads only with allow_copy_read (else not_primary)", async () => {
    expect(await outcome(read("r", 0, 4096))).toBe("9 not_primary");
    expect((await read("r", 0, 4096, true)).data.equals(Buffer.alloc(4096))).toBe(true);
  });

  it("a write larger than the volume's largest record (1 MiB WAL) is admitted in pieces and reads back", async () => {
    const data = Buffer.alloc(3 * MiB);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i / 4096 + 1, i);
    const res = (await write({ volume_id: "p", lba: "0", data })) as { lsn: string };
    expect(Number(res.lsn)).toBeGreaterThan(0);
    for (let off = 0; off < data.length; off += MiB) {
      const got = (await read("p", off / 4096, MiB)).data;
      expect(got.equals(data.subarray(off, off + MiB)), `MiB at ${off}`).toBe(true);
    }
  });

  it("a trim larger than a write record is one storage call", async () => {
    await write({ volume_id: "p", lba: "0", data: Buffer.alloc(4096, 9) });
    await unary((cb) => volume.Trim({ volume_id: "p", lba: "0", length_bytes: String(4 * MiB) }, cb));
    expect((await read("p", 0, 4096)).data.equals(Buffer.alloc(4096))).toBe(true);
  });

  it("WriteStream: in-order responses with LSN ranges, flush on request, fails on the first bad write", async () => {
    const call: ClientDuplexStream<WriteStreamRequest, WriteStreamResponse__Output> = volume.WriteStream();
    const responses: WriteStreamResponse__Output[] = [];
    const ended = new Promise<string>((resolve) => {
      call.on("data", (r: WriteStreamResponse__Output) => responses.push(r));
      call.on("error", (err) => resolve(`${grpcCodeOf(err)} ${reasonOf(err)}`));
      call.on("end", () => resolve("end"));
    });
    const block = (n: number) => Buffer.alloc(4096, n);
    call.write({
      volume_id: "p",
      seq: "1",
      writes: [
        { lba: "100", data: block(1) },
        { lba: "101", data: block(2) },
      ],
    });
    call.write({ seq: "2", writes: [{ lba: "102", data: block(3) }], flush: true });
    call.write({ seq: "3", writes: [] });
    call.write({ seq: "4", writes: [{ lba: "5000", data: block(4) }] });
    call.end();
    expect(await ended).toBe("11 out_of_range");
    expect(responses.map((r) => [r.seq, r.count])).toEqual([
      ["1", 2],
      ["2", 1],
      ["3", 0],
    ]);
    const [a, b] = responses;
    expect(Number(a?.last_lsn) - Number(a?.first_lsn)).toBe(1);
    expect(Number(b?.first_lsn)).toBe(Number(a?.last_lsn) + 1);
    expect(Number(b?.durable_lsn)).toBeGreaterThanOrEqual(Number(b?.last_lsn));
    expect((await read("p", 100, 3 * 4096)).data.equals(Buffer.concat([block(1), block(2), block(3)]))).toBe(
      true,
    );
  });
});

describe("error mapping", () => {
  it("storage reasons become canonical reasons", () => {
    const cases: [StorageError, string, number][] = [
      [new StorageError("wal_full", "x"), "wal_full", 8],
      [new StorageError("out_of_range", "x"), "out_of_range", 11],
      [new StorageError("invalid_argument", "x"), "invalid_argument", 3],
      [new StorageError("volume_closed", "x"), "shutting_down", 14],
      [new StorageError("io_error", "disk"), "internal", 13],
      [new StorageError("epoch_mismatch", "x"), "epoch_mismatch", 10],
    ];
    for (const [err, reason, code] of cases) {
      const e = toAgentRpcError(err);
      expect([e.reason, e.code]).toEqual([reason, code]);
    }
    expect(toAgentRpcError(new StorageError("io_error", "disk")).details).toBe("internal: io_error: disk");
    expect(toAgentRpcError(new Error("boom")).reason).toBe("internal");
  });
});
