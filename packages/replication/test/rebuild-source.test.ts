import { RpcError, reasonOf, type StreamBaseRequest, type StreamBaseResponse__Output } from "@blockship/rpc";
import type { Volume } from "@blockship/storage";
import { status } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rebuildPinOwner } from "../src/rebuild-source";
import { BS, block, makeVolume, tmpDir, VOLUME_ID } from "./helpers";
import { REBUILDER_ID, SourceNode } from "./rebuild-helpers";

const SIZE = 256 * BS;

interface Outcome {
  readonly code: number;
  readonly reason: string | undefined;
  readonly messages: StreamBaseResponse__Output[];
}

/** Runs one StreamBase call to its end; `onData` may change the world mid-stream. */
function call(
  src: SourceNode,
  req: StreamBaseRequest,
  onData?: (m: StreamBaseResponse__Output) => void,
): Promise<Outcome> {
  const client = src.client();
  const messages: StreamBaseResponse__Output[] = [];
  return new Promise<Outcome>((resolve) => {
    const c = client.StreamBase(req);
    c.on("data", (m: StreamBaseResponse__Output) => {
      messages.push(m);
      onData?.(m);
    });
    c.on("error", (err: { code: number }) => resolve({ code: err.code, reason: reasonOf(err), messages }));
    c.on("end", () => resolve({ code: status.OK, reason: undefined, messages }));
  }).finally(() => client.close());
}

const good = (over: Partial<StreamBaseRequest> = {}): StreamBaseRequest => ({
  volume_id: VOLUME_ID,
  epoch: "1",
  replica_server_id: REBUILDER_ID,
  chunk_size_bytes: 16 * BS,
  ...over,
});

/** A primary with 32 checkpointed writes and its Rebuild service (TLS check refuses one caller). */
async function setup(): Promise<{ tmp: ReturnType<typeof tmpDir>; primary: Volume; src: SourceNode }> {
  const tmp = tmpDir();
  const primary = await makeVolume(tmp.dir, "p", { volumeSizeBytes: SIZE });
  for (let lba = 0; lba < 32; lba++) await primary.write(lba, block(lba, 1));
  await primary.checkpoint();
  const src = new SourceNode(primary, {
    authorizeCaller: (_call, id) => {
      if (id === "srv-hook-refused") throw new RpcError("unauthenticated_peer", "refused by the hook");
    },
    peerIdentity: () => REBUILDER_ID, // as if every caller presented srv-r's certificate
  });
  for (const id of ["srv-tls-mismatch", "srv-hook-refused"]) src.auth.replicaServerIds.add(id);
  await src.start();
  return { tmp, primary, src };
}

async function teardown(tmp: ReturnType<typeof tmpDir>, primary: Volume, src: SourceNode): Promise<void> {
  await src.stop();
  await primary.close();
  tmp.cleanup();
}

describe("Rebuild.StreamBase refuses bad requests (code + reason, nothing sent, nothing pinned)", () => {
  let tmp: ReturnType<typeof tmpDir>;
  let primary: Volume;
  let src: SourceNode;

  beforeAll(async () => {
    ({ tmp, primary, src } = await setup());
  });

  afterAll(async () => {
    await teardown(tmp, primary, src);
  });

  it.each<[string, Partial<StreamBaseRequest>, number, string]>([
    ["no volume_id", { volume_id: "" }, status.INVALID_ARGUMENT, "invalid_argument"],
    ["bad volume_id", { volume_id: "a/b" }, status.INVALID_ARGUMENT, "invalid_argument"],
    ["epoch 0", { epoch: "0" }, status.INVALID_ARGUMENT, "invalid_argument"],
    ["no replica_server_id", { replica_server_id: "" }, status.INVALID_ARGUMENT, "invalid_argument"],
    [
      "chunk above 4 MiB",
      { chunk_size_bytes: 4 * 1024 * 1024 + BS },
      status.INVALID_ARGUMENT,
      "invalid_argument",
    ],
    ["chunk not a block multiple", { chunk_size_bytes: 1000 }, status.INVALID_ARGUMENT, "invalid_argument"],
    [
      "absurd rate",
      { rate_limit_bytes_per_second: String(2 ** 41) },
      status.INVALID_ARGUMENT,
      "invalid_argument",
    ],
    ["unaligned resume offset", { resume_offset_bytes: "100" }, status.INVALID_ARGUMENT, "invalid_argument"],
    [
      "resume offset beyond the volume",
      { resume_offset_bytes: String(SIZE + BS) },
      status.OUT_OF_RANGE,
      "out_of_range",
    ],
    [
      "resume base beyond the checkpoint",
      { resume_offset_bytes: String(BS), resume_base_lsn: "999" },
      status.INVALID_ARGUMENT,
      "invalid_argument",
    ],
    ["unknown volume", { volume_id: "vol-9" }, status.NOT_FOUND, "volume_not_found"],
    ["epoch differs", { epoch: "2" }, status.ABORTED, "epoch_mismatch"],
    [
      "caller not in the replica set",
      { replica_server_id: "srv-x" },
      status.PERMISSION_DENIED,
      "unauthenticated_peer",
    ],
    [
      "transport identity refused",
      { replica_server_id: "srv-tls-mismatch" },
      status.PERMISSION_DENIED,
      "unauthenticated_peer",
    ],
    [
      "refused by the authorizeCaller hook",
      { replica_server_id: "srv-hook-refused" },
      status.PERMISSION_DENIED,
      "unauthenticated_peer",
    ],
  ])("%s → %s", async (_what, over, code, reason) => {
    const r = await call(src, good(over));
    expect({ code: r.code, reason: r.reason }).toEqual({ code, reason });
    expect(r.messages).toHaveLength(0);
    expect(primary.pinnedLsn(rebuildPinOwner(REBUILDER_ID))).toBeUndefined();
  });
});

describe("Rebuild.StreamBase on the primary", () => {
  let tmp: ReturnType<typeof tmpDir>;
  let primary: Volume;
  let src: SourceNode;

  beforeEach(async () => {
    ({ tmp, primary, src } = await setup());
  });

  afterEach(async () => {
    await teardown(tmp, primary, src);
  });

  it("streams chunks in offset order, then Done with the base (no tail when idle)", async () => {
    const r = await call(src, good());
    expect(r.code).toBe(status.OK);
    const chunks = r.messages.filter((m) => m.body === "chunk").map((m) => m.chunk);
    expect(chunks).toHaveLength(SIZE / (16 * BS));
    expect(chunks.map((c) => Number(c?.offset_bytes))).toEqual(chunks.map((_, i) => i * 16 * BS));
    expect(chunks.every((c) => c?.base_lsn === "32" && c?.total_size_bytes === String(SIZE))).toBe(true);
    expect(r.messages.at(-1)).toMatchObject({ body: "done", done: { base_lsn: "32", last_lsn: "32" } });
    expect(chunks[1]?.data.subarray(0, BS).equals(block(16, 1))).toBe(true);
  });

  it("not primary → FAILED_PRECONDITION not_primary", async () => {
    src.auth.role = "replica";
    const r = await call(src, good());
    expect({ code: r.code, reason: r.reason }).toEqual({
      code: status.FAILED_PRECONDITION,
      reason: "not_primary",
    });
  });

  it("a resume whose WAL is gone → FAILED_PRECONDITION wal_recycled; a retained one continues", async () => {
    const first = await call(src, good());
    expect(first.code).toBe(status.OK);
    // Retained (the pin is kept after Done): resume half-way with the same base.
    const resumed = await call(src, good({ resume_offset_bytes: String(SIZE / 2), resume_base_lsn: "32" }));
    expect(resumed.code).toBe(status.OK);
    expect(resumed.messages[0]?.chunk?.offset_bytes).toBe(String(SIZE / 2));
    primary.unpinWal(rebuildPinOwner(REBUILDER_ID));
    for (let lba = 0; lba < 8; lba++) await primary.write(lba, block(lba, 2));
    await primary.checkpoint(); // the WAL after LSN 32 is recycled
    const r = await call(src, good({ resume_offset_bytes: String(SIZE / 2), resume_base_lsn: "32" }));
    expect({ code: r.code, reason: r.reason }).toEqual({
      code: status.FAILED_PRECONDITION,
      reason: "wal_recycled",
    });
  });

  it("a demotion mid-stream ends it with not_primary and drops the pin", async () => {
    src.rates.defaultRateBytesPerSecond = 64 * BS; // ~4 s for the image: the change lands mid-stream
    const r = await call(src, good(), () => {
      src.auth.role = "draining";
    });
    expect({ code: r.code, reason: r.reason }).toEqual({
      code: status.FAILED_PRECONDITION,
      reason: "not_primary",
    });
    expect(r.messages.length).toBeGreaterThan(0);
    expect(r.messages.length).toBeLessThan(4);
    expect(src.reports.at(-1)).toMatchObject({ outcome: "failed", reason: "not_primary" });
    expect(primary.pinnedLsn(rebuildPinOwner(REBUILDER_ID))).toBeUndefined();
  });

  it("an epoch change mid-stream ends it with epoch_mismatch", async () => {
    src.rates.defaultRateBytesPerSecond = 64 * BS;
    const r = await call(src, good(), () => {
      src.auth.epoch = 2;
    });
    expect({ code: r.code, reason: r.reason }).toEqual({ code: status.ABORTED, reason: "epoch_mismatch" });
    expect(r.messages.length).toBeLessThan(4);
  });

  it("a newer stream for the same replica supersedes the old one; a cancelled stream keeps its pin for the grace period", async () => {
    src.rates.defaultRateBytesPerSecond = 64 * BS;
    let second: Promise<Outcome> | undefined;
    const old = await call(src, good(), () => {
      src.rates.defaultRateBytesPerSecond = 0;
      second ??= call(src, good());
    });
    expect({ code: old.code, reason: old.reason }).toEqual({
      code: status.UNAVAILABLE,
      reason: "shutting_down",
    });
    expect((await second)?.code).toBe(status.OK);
    // Cancelled by the caller: the pin stays (a resume may follow).
    const client = src.client();
    const ended = src.nextEnd();
    src.rates.defaultRateBytesPerSecond = 64 * BS;
    const c = client.StreamBase(good());
    c.on("error", () => {});
    c.once("data", () => c.cancel());
    expect(await ended).toMatchObject({ outcome: "cancelled" });
    client.close();
    expect(primary.pinnedLsn(rebuildPinOwner(REBUILDER_ID))).toBe(33);
  });
});

describe("a long rebuild stream and storage's pin age budget", () => {
  const run = async (pinRefreshMs: number): Promise<Outcome> => {
    const tmp = tmpDir();
    const primary = await makeVolume(tmp.dir, "p", {
      volumeSizeBytes: SIZE,
      retentionMaxAgeMs: 150,
      retentionCheckIntervalMs: 10,
    });
    const src = new SourceNode(primary, { pinRefreshMs });
    try {
      for (let lba = 0; lba < 16; lba++) await primary.write(lba, block(lba, 1));
      await primary.checkpoint();
      await src.start();
      src.rates.defaultRateBytesPerSecond = SIZE * 2; // ~0.5 s for the image, > the age budget
      let n = 0;
      // Writes during the copy: the pin holds WAL bytes, so its age counts.
      return await call(src, good(), () => {
        primary.write(n % 64, block(n % 64, 2 + n++)).catch(() => {}); // may still run at close
      });
    } finally {
      await src.stop();
      await primary.close();
      tmp.cleanup();
    }
  };

  it("a stream that makes progress renews its pin's age and completes", async () => {
    const r = await run(20);
    expect(r.code).toBe(status.OK);
    expect(r.messages.at(-1)?.body).toBe("done");
  });

  it("without renewal storage releases the pin and the stream ends with wal_recycled at once", async () => {
    const r = await run(60_000);
    expect({ code: r.code, reason: r.reason }).toEqual({
      code: status.FAILED_PRECONDITION,
      reason: "wal_recycled",
    });
  });
});
