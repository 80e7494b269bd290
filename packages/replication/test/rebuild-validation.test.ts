import {
  type StartedRpcServer,
  type StreamBaseRequest__Output,
  type StreamBaseResponse,
  serverStreamHandler,
  startServer,
} from "@blockship/rpc";
import { crc32, encodeRecord, RecordType, type Volume } from "@blockship/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isRebuildError } from "../src/rebuild-errors";
import { BS, block, makeVolume, tmpDir } from "./helpers";
import { pull } from "./rebuild-helpers";

const SIZE = 64 * BS;
const HALF = SIZE / 2;

const chunk = (offset: number, length: number, base = 10, total = SIZE): StreamBaseResponse => {
  const data = Buffer.alloc(length, 7);
  return {
    chunk: {
      offset_bytes: String(offset),
      data,
      total_size_bytes: String(total),
      base_lsn: String(base),
      data_crc32: crc32(data),
    },
  };
};
/** A chunk whose data was damaged after its CRC was taken (one flipped bit). */
const damagedChunk = (offset: number, length: number): StreamBaseResponse => {
  const c = chunk(offset, length).chunk!;
  const data = Buffer.from(c.data as Buffer);
  data[data.length - 1]! ^= 1;
  return { chunk: { ...c, data } };
};
const done = (base = 10, last = 10, total = SIZE): StreamBaseResponse => ({
  done: { base_lsn: String(base), last_lsn: String(last), total_size_bytes: String(total) },
});
const tail = (first: number, last: number, count: number, records: Buffer): StreamBaseResponse => ({
  tail: { first_lsn: String(first), last_lsn: String(last), record_count: count, records },
});

/** A fake primary that answers every StreamBase with the scripted messages of the current case. */
describe("pullRebuild refuses what a primary must never send (protocol_violation, no retry, old state intact)", () => {
  let tmp: ReturnType<typeof tmpDir>;
  let target: Volume;
  let server: StartedRpcServer;
  let script: StreamBaseResponse[] = [];
  let calls = 0;

  beforeAll(async () => {
    tmp = tmpDir();
    target = await makeVolume(tmp.dir, "t", { volumeSizeBytes: SIZE });
    for (let lba = 0; lba < 4; lba++) await target.write(lba, block(lba, 42));
    await target.flush();
    server = await startServer({
      address: "127.0.0.1:0",
      handlers: {
        rebuild: {
          StreamBase: serverStreamHandler<StreamBaseRequest__Output, StreamBaseResponse>(async (call) => {
            calls++;
            for (const m of script) call.write(m);
          }),
        },
      },
    });
  });

  afterAll(async () => {
    await server.shutdown(50);
    await target.close();
    tmp.cleanup();
  });

  const record = (lsn: number): Buffer =>
    encodeRecord({
      type: RecordType.WRITE,
      lsn,
      epoch: 1,
      lba: 0,
      blockCount: 1,
      blockSize: BS,
      data: block(0, lsn),
    });

  it.each<[string, () => StreamBaseResponse[]]>([
    ["a gap between chunks", () => [chunk(0, HALF), chunk(HALF + BS, HALF - BS), done()]],
    ["a chunk that is not whole blocks", () => [chunk(0, 100)]],
    ["a chunk past the end", () => [chunk(0, HALF), chunk(HALF, HALF + BS)]],
    ["an image of another size", () => [chunk(0, HALF, 10, SIZE * 2)]],
    ["a tail before the image is complete", () => [chunk(0, HALF), tail(11, 11, 1, record(11))]],
    ["a tail that does not start at base + 1", () => [chunk(0, SIZE), tail(12, 12, 1, record(12))]],
    ["a tail header that lies about its count", () => [chunk(0, SIZE), tail(11, 12, 1, record(11))]],
    ["Done before the image is complete", () => [chunk(0, HALF), done()]],
    ["Done with another base", () => [chunk(0, SIZE), done(11, 11)]],
    ["Done naming a tail that never came", () => [chunk(0, SIZE), done(10, 15)]],
    ["an empty message", () => [{}]],
  ])("%s", async (_what, make) => {
    script = make();
    calls = 0;
    const before = await target.read(0, SIZE);
    const err = await pull(target, `127.0.0.1:${server.port}`).catch((e: unknown) => e);
    expect(isRebuildError(err, "protocol_violation")).toBe(true);
    expect(calls).toBe(1); // fatal: no retry against a primary that lies
    expect((await target.read(0, SIZE)).equals(before)).toBe(true);
    expect(target.headLsn).toBe(4);
  });

  it("a chunk whose data does not match its CRC is never staged; the pull retries, then gives up", async () => {
    script = [damagedChunk(0, HALF), chunk(HALF, HALF), done()];
    calls = 0;
    const before = await target.read(0, SIZE);
    const err = await pull(target, `127.0.0.1:${server.port}`, {
      retry: { maxAttempts: 3, backoffMinMs: 5, backoffMaxMs: 10 },
    }).catch((e: unknown) => e);
    expect(isRebuildError(err)).toBe(true);
    expect(calls).toBe(3); // resumed from offset 0 each time (nothing staged), not fatal at once
    expect(String(err)).toContain("chunk_checksum_mismatch");
    expect((await target.read(0, SIZE)).equals(before)).toBe(true);
    expect(target.headLsn).toBe(4);
  });

  it("a stream that ends without Done is retried (resumed), then gives up with the retry budget", async () => {
    script = [chunk(0, HALF)];
    calls = 0;
    const err = await pull(target, `127.0.0.1:${server.port}`, {
      retry: { maxAttempts: 3, backoffMinMs: 5, backoffMaxMs: 10 },
    }).catch((e: unknown) => e);
    // The resumes ask for offset HALF, the fake sends offset 0 again: a gap → protocol_violation.
    expect(isRebuildError(err)).toBe(true);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(target.headLsn).toBe(4);
  });
});
