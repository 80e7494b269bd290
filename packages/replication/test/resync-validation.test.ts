import {
  createReplicationClient,
  grpcCodeOf,
  type ReplicationClient,
  type ResyncRequest,
  RpcError,
  reasonOf,
  type StartedRpcServer,
  startServer,
} from "@blockship/rpc";
import { crc32, type Generation, type RecordRef } from "@blockship/storage";
import { status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { replicationServiceHandlers } from "../src/service";
import { BS, block, makeVolume, ReplicaNode, SMALL_VOLUME, tmpDir, VOLUME_ID } from "./helpers";
import { RawResync } from "./resync-helpers";

// Bad input to Replication.Resync: each gets its gRPC code and stable reason, and the copy is left
// as it was (no marker before begin; after begin, no block written by a refused message).

describe("Replication.Resync validation", () => {
  let tmp: ReturnType<typeof tmpDir>;
  let node: ReplicaNode;
  let server: StartedRpcServer;
  let client: ReplicationClient;
  const streams: RawResync[] = [];
  const original = block(0, 1, 5);
  let ownRecord: RecordRef | undefined;
  let ownHistory: Generation[] = [];

  const stream = (id: Partial<ResyncRequest> = {}): RawResync => {
    const s = new RawResync(client, id);
    streams.push(s);
    return s;
  };

  const expectEnd = async (s: RawResync, code: status, reason: string): Promise<void> => {
    const err = await s.ended;
    expect({ code: grpcCodeOf(err), reason: reasonOf(err) }).toEqual({ code, reason });
  };

  const begun = async (): Promise<RawResync> => {
    const s = stream().send({ begin: { fork_lsn: "0" } });
    await s.next((m) => m.body === "ranges_done");
    return s;
  };

  const blocks = (offset: number, data: Buffer, crc = crc32(data)): Partial<ResyncRequest> => ({
    blocks: { offset_bytes: String(offset), data, data_crc32: crc },
  });

  /**
   * Reads are refused during a transfer, so a new session commits the copy at its own head with its
   * own record (what it had before begin): then the first five blocks must read as before.
   */
  const commitAsIsAndRead = async (lba = 0, blocks = 5): Promise<Buffer> => {
    const rec = ownRecord as RecordRef;
    const s = stream().send({ begin: { fork_lsn: "5" } });
    await s.next((m) => m.body === "ranges_done");
    s.send({
      commit: {
        base_lsn: "5",
        consistent_lsn: "5",
        base_record: { lsn: "5", epoch: String(rec.epoch), crc: rec.crc },
        generations: ownHistory.map((g) => ({
          epoch: String(g.epoch),
          first_lsn: String(g.firstLsn),
          prev_crc: g.prevCrc,
        })),
      },
    });
    await s.next((m) => m.body === "committed");
    expect(await s.ended).toBeNull();
    return node.volume.read(lba, blocks * BS);
  };
  const expectExtentUnchanged = async (): Promise<void> => {
    expect((await commitAsIsAndRead()).equals(original)).toBe(true);
  };

  beforeEach(async () => {
    tmp = tmpDir();
    node = new ReplicaNode("srv-b", await makeVolume(tmp.dir, "b"));
    for (let i = 0; i < 5; i++) await node.volume.write(i, block(i, 1));
    await node.volume.flush();
    ownRecord = node.volume.recordAt(5);
    ownHistory = node.volume.history();
    server = await startServer({
      address: "127.0.0.1:0",
      handlers: {
        replication: replicationServiceHandlers((volumeId) => {
          if (volumeId !== VOLUME_ID) throw new RpcError("volume_not_found", `no volume ${volumeId}`);
          return node.receiver;
        }),
      },
    });
    client = createReplicationClient(server.address);
  });

  afterEach(async () => {
    for (const s of streams.splice(0)) s.call.cancel();
    client.close();
    node.receiver.close();
    await server.shutdown(50);
    await node.volume.close();
    tmp.cleanup();
  });

  const refusedBeforeBegin: Array<[string, Partial<ResyncRequest>, Partial<ResyncRequest>, status, string]> =
    [
      ["blocks without begin", {}, blocks(0, block(0, 9)), status.INVALID_ARGUMENT, "invalid_argument"],
      [
        "commit without begin",
        {},
        { commit: { base_lsn: "5" } },
        status.INVALID_ARGUMENT,
        "invalid_argument",
      ],
      ["no body", {}, {}, status.INVALID_ARGUMENT, "invalid_argument"],
      ["wrong epoch", { epoch: "2" }, { begin: { fork_lsn: "0" } }, status.ABORTED, "epoch_mismatch"],
      ["epoch 0", { epoch: "0" }, { begin: { fork_lsn: "0" } }, status.INVALID_ARGUMENT, "invalid_argument"],
      [
        "not the assigned primary",
        { primary_server_id: "srv-x" },
        { begin: { fork_lsn: "0" } },
        status.PERMISSION_DENIED,
        "unauthenticated_peer",
      ],
      [
        "meant for another replica",
        { replica_server_id: "srv-z" },
        { begin: { fork_lsn: "0" } },
        status.PERMISSION_DENIED,
        "unauthenticated_peer",
      ],
      [
        "unknown volume",
        { volume_id: "vol-x" },
        { begin: { fork_lsn: "0" } },
        status.NOT_FOUND,
        "volume_not_found",
      ],
      ["fork above the head", {}, { begin: { fork_lsn: "99" } }, status.INVALID_ARGUMENT, "invalid_argument"],
    ];

  for (const [name, id, body, code, reason] of refusedBeforeBegin) {
    it(`refuses ${name} (${reason}) and sets no marker`, async () => {
      const s = stream(id).send(body);
      await expectEnd(s, code, reason);
      expect(node.volume.resyncState()).toEqual({ pending: false });
      expect((await node.volume.read(0, 5 * BS)).equals(original)).toBe(true);
    });
  }

  it("refuses a copy whose role does not accept entries (not_replica)", async () => {
    node.auth.accepting = false;
    const s = stream().send({ begin: { fork_lsn: "0" } });
    await expectEnd(s, status.FAILED_PRECONDITION, "not_replica");
    expect(node.volume.resyncState()).toEqual({ pending: false });
  });

  it("begin answers the copy's own changed ranges since the fork, then ranges_done", async () => {
    const s = await begun();
    const ranges = s.responses.filter((m) => m.body === "ranges").flatMap((m) => m.ranges?.ranges ?? []);
    expect(ranges.length).toBeGreaterThan(0);
    expect(ranges[0]?.first_block).toBe("0");
    const done = s.responses.find((m) => m.body === "ranges_done");
    expect(Number(done?.ranges_done?.block_count)).toBeGreaterThanOrEqual(5);
    expect(done?.ranges_done?.block_size_bytes).toBe(SMALL_VOLUME.blockSize);
    expect(node.volume.resyncState()).toEqual({ pending: true, phase: "transfer", forkLsn: 0 });
  });

  const refusedAfterBegin: Array<[string, Partial<ResyncRequest>, status, string]> = [
    ["a bad CRC", blocks(0, block(0, 9), 12345), status.DATA_LOSS, "checksum_mismatch"],
    ["a misaligned offset", blocks(100, block(0, 9)), status.INVALID_ARGUMENT, "invalid_argument"],
    ["a partial block", blocks(0, Buffer.alloc(100, 7)), status.INVALID_ARGUMENT, "invalid_argument"],
    ["empty data", blocks(0, Buffer.alloc(0)), status.INVALID_ARGUMENT, "invalid_argument"],
    [
      "blocks past the end",
      blocks(SMALL_VOLUME.volumeSizeBytes - BS, block(0, 9, 2)),
      status.OUT_OF_RANGE,
      "out_of_range",
    ],
    ["a second begin", { begin: { fork_lsn: "0" } }, status.INVALID_ARGUMENT, "invalid_argument"],
    [
      "a commit without base_record",
      { commit: { base_lsn: "5", consistent_lsn: "5" } },
      status.INVALID_ARGUMENT,
      "invalid_argument",
    ],
    [
      "a commit whose base_record names another LSN",
      { commit: { base_lsn: "5", consistent_lsn: "5", base_record: { lsn: "4", epoch: "1", crc: 1 } } },
      status.INVALID_ARGUMENT,
      "invalid_argument",
    ],
    [
      "an epoch changed mid-stream",
      { epoch: "3", ...blocks(0, block(0, 9)) },
      status.ABORTED,
      "epoch_mismatch",
    ],
  ];

  for (const [name, body, code, reason] of refusedAfterBegin) {
    it(`after begin refuses ${name} (${reason}) and writes nothing`, async () => {
      const s = await begun();
      s.send(body);
      await expectEnd(s, code, reason);
      expect(node.volume.resyncState()).toMatchObject({ pending: true, phase: "transfer" });
      await expectExtentUnchanged();
    });
  }

  it("acks good blocks with the bytes applied so far", async () => {
    const s = await begun();
    s.send(blocks(8 * BS, block(8, 9, 2)));
    s.send(blocks(20 * BS, block(20, 9)));
    const ack = await s.next((m) => m.body === "ack" && m.ack?.bytes_applied === String(3 * BS));
    expect(ack.ack?.bytes_applied).toBe(String(3 * BS));
    s.call.cancel();
    const after = await commitAsIsAndRead(0, 21);
    expect(after.subarray(0, 5 * BS).equals(original)).toBe(true);
    expect(after.subarray(8 * BS, 10 * BS).equals(block(8, 9, 2))).toBe(true);
    expect(after.subarray(20 * BS).equals(block(20, 9))).toBe(true);
  });
});
