import {
  createReplicationClient,
  grpcCodeOf,
  type HandshakeResponse__Output,
  type ReplicationClient,
  reasonOf,
  type ShipRequest,
  type ShipResponse__Output,
  unary,
} from "@blockship/rpc";
import type { Volume } from "@blockship/storage";
import type { ClientDuplexStream } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { replicaFactsFromWire } from "../src/ship-stream";
import { block, makeVolume, PRIMARY_ID, ReplicaNode, tmpDir, VOLUME_ID } from "./helpers";

type Call = ClientDuplexStream<ShipRequest, ShipResponse__Output>;

/** A hand-driven Ship stream: collects responses and the final status. */
class RawStream {
  readonly responses: ShipResponse__Output[] = [];
  readonly ended: Promise<unknown>;
  private waiters: Array<() => void> = [];

  constructor(readonly call: Call) {
    call.on("data", (m: ShipResponse__Output) => {
      this.responses.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
    this.ended = new Promise((resolve) => {
      call.on("error", (err) => resolve(err));
      call.on("end", () => resolve(null));
    });
  }

  open(over: Partial<ShipRequest> = {}): this {
    this.call.write({
      volume_id: VOLUME_ID,
      epoch: "1",
      primary_server_id: PRIMARY_ID,
      replica_server_id: "srv-b",
      ...over,
    });
    return this;
  }

  batch(bytes: Buffer, first: number, last: number): void {
    this.call.write({
      batch: {
        first_lsn: String(first),
        last_lsn: String(last),
        record_count: last - first + 1,
        records: bytes,
      },
    });
  }

  barrier(id: number, lsn: number): void {
    this.call.write({ barrier: { barrier_id: String(id), lsn: String(lsn) } });
  }

  /** Resolves with the first response matching `pred` (waiting for it to arrive). */
  async next(pred: (m: ShipResponse__Output) => boolean): Promise<ShipResponse__Output> {
    for (;;) {
      const m = this.responses.find(pred);
      if (m) return m;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  ackAtLeast(lsn: number): Promise<ShipResponse__Output> {
    return this.next((m) => m.body === "ack" && Number(m.ack?.received_lsn) >= lsn);
  }

  barrierAnswer(id: number): Promise<ShipResponse__Output> {
    return this.next((m) => m.body === "barrier" && m.barrier?.barrier_id === String(id));
  }
}

describe("ReplicaReceiver over gRPC", () => {
  let tmp: ReturnType<typeof tmpDir>;
  let source: Volume; // makes genuine record bytes (a primary's WAL)
  let node: ReplicaNode;
  let client: ReplicationClient;
  const streams: RawStream[] = [];

  const stream = (): RawStream => {
    const s = new RawStream(client.Ship());
    streams.push(s);
    return s;
  };

  beforeEach(async () => {
    tmp = tmpDir();
    source = await makeVolume(tmp.dir, "src");
    source.pinWal("test", 1);
    for (let i = 0; i < 10; i++) await source.write(i, block(i, 100 + i));
    node = new ReplicaNode("srv-b", await makeVolume(tmp.dir, "b"));
    await node.start();
    client = createReplicationClient(node.address);
  });

  afterEach(async () => {
    for (const s of streams.splice(0)) s.call.cancel();
    client.close();
    await node.stop();
    await source.close();
    await node.volume.close();
    tmp.cleanup();
  });

  /** Genuine record bytes for LSNs from..to (the source keeps them pinned). */
  const records = async (from: number, to: number): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for (let lsn = from; lsn <= to; lsn++) parts.push((await source.readRecords(lsn, 1)).bytes);
    return Buffer.concat(parts);
  };

  it("appends in order, skips duplicates, acks with the received LSN", async () => {
    const s = stream().open();
    s.batch(await records(1, 5), 1, 5);
    await s.ackAtLeast(5);
    s.batch(await records(3, 8), 3, 8); // overlap 3..5
    await s.ackAtLeast(8);
    s.batch(await records(1, 8), 1, 8); // all duplicates
    s.barrier(1, 8);
    const answer = await s.barrierAnswer(1);
    expect(answer.barrier?.status?.code).toBe(0);
    expect(node.volume.headLsn).toBe(8);
    expect(node.receiver.stats.recordsAppended).toBe(8);
    expect(node.receiver.stats.recordsSkipped).toBe(3 + 8);
    const data = await node.volume.read(0, 8 * 4096);
    expect(data.equals(await source.read(0, 8 * 4096))).toBe(true);
  });

  it("rejects a gap with needs_rebuild and accepts the right LSN afterwards", async () => {
    const s = stream().open();
    s.batch(await records(1, 2), 1, 2);
    await s.ackAtLeast(2);
    s.batch(await records(4, 5), 4, 5);
    const err = await s.ended;
    expect(reasonOf(err)).toBe("needs_rebuild");
    expect(grpcCodeOf(err)).toBe(9);
    expect(node.volume.headLsn).toBe(2);
    const s2 = stream().open();
    s2.batch(await records(3, 5), 3, 5);
    await s2.ackAtLeast(5);
    expect(node.volume.headLsn).toBe(5);
  });

  it("refuses a stream of another epoch (ABORTED epoch_mismatch)", async () => {
    const s = stream().open({ epoch: "2" });
    const err = await s.ended;
    expect(reasonOf(err)).toBe("epoch_mismatch");
    expect(grpcCodeOf(err)).toBe(10);
    expect(node.receiver.stats.rejectedStreams).toBe(1);
  });

  it("refuses a primary that is not the assigned one, and a misrouted stream (PERMISSION_DENIED)", async () => {
    const wrongPrimary = await stream().open({ primary_server_id: "srv-evil" }).ended;
    expect(reasonOf(wrongPrimary)).toBe("unauthenticated_peer");
    expect(grpcCodeOf(wrongPrimary)).toBe(7);
    const misrouted = await stream().open({ replica_server_id: "srv-c" }).ended;
    expect(reasonOf(misrouted)).toBe("unauthenticated_peer");
    node.auth.primaryServerId = null;
    const unassigned = await stream().open().ended;
    expect(reasonOf(unassigned)).toBe("unauthenticated_peer");
    node.auth.primaryServerId = PRIMARY_ID;
    node.auth.accepting = false;
    const notReplica = await stream().open().ended;
    expect(reasonOf(notReplica)).toBe("not_replica");
    expect(grpcCodeOf(notReplica)).toBe(9);
    expect(node.volume.headLsn).toBe(0);
  });

  it("ends a stream whose epoch moves under it", async () => {
    const s = stream().open();
    s.batch(await records(1, 2), 1, 2);
    await s.ackAtLeast(2);
    node.auth.epoch = 2;
    s.batch(await records(3, 3), 3, 3);
    expect(reasonOf(await s.ended)).toBe("epoch_mismatch");
    expect(node.volume.headLsn).toBe(2);
  });

  it("rejects a garbage batch with INVALID_ARGUMENT, leaves the volume intact and keeps serving", async () => {
    const s = stream().open();
    s.batch(await records(1, 3), 1, 3);
    await s.ackAtLeast(3);
    const good = await records(4, 6);
    const bad = Buffer.from(good);
    bad[bad.length - 100] = (bad[bad.length - 100] ?? 0) ^ 0xff; // corrupt the last record's payload
    s.batch(bad, 4, 6);
    const err = await s.ended;
    expect(reasonOf(err)).toBe("invalid_argument");
    expect(grpcCodeOf(err)).toBe(3);
    const junk = await stream().open();
    junk.batch(Buffer.from("definitely not WAL records"), 4, 4);
    expect(reasonOf(await junk.ended)).toBe("invalid_argument");
    const lying = stream().open();
    lying.batch(good, 4, 9); // header disagrees with the records
    expect(reasonOf(await lying.ended)).toBe("invalid_argument");
    expect(node.volume.headLsn).toBeLessThanOrEqual(6);
    // The same receiver serves the next stream.
    const s2 = stream().open();
    s2.batch(await records(1, 10), 1, 10);
    s2.barrier(7, 10);
    expect((await s2.barrierAnswer(7)).barrier?.status?.code).toBe(0);
    const data = await node.volume.read(0, 10 * 4096);
    expect(data.equals(await source.read(0, 10 * 4096))).toBe(true);
  });

  it("answers a barrier after the entries before it, fsynced, with the durable LSN", async () => {
    // A reopened-free way to see the fsync: durableLsn only moves with a sync in storage.
    const s = stream().open();
    s.batch(await records(1, 4), 1, 4);
    s.barrier(1, 4);
    s.batch(await records(5, 6), 5, 6);
    s.barrier(2, 6);
    const a1 = await s.barrierAnswer(1);
    const a2 = await s.barrierAnswer(2);
    expect(a1.barrier?.status?.code).toBe(0);
    expect(Number(a1.barrier?.durable_lsn)).toBeGreaterThanOrEqual(4);
    expect(Number(a2.barrier?.durable_lsn)).toBeGreaterThanOrEqual(6);
    expect(node.volume.durableLsn).toBeGreaterThanOrEqual(6);
    // Answers come in order.
    const order = s.responses.filter((m) => m.body === "barrier").map((m) => m.barrier?.barrier_id);
    expect(order).toEqual(["1", "2"]);
  });

  it("never answers OK for entries it did not receive (fresh replica)", async () => {
    const s = stream().open();
    s.barrier(1, 5);
    const a = await s.barrierAnswer(1);
    expect(a.barrier?.status?.code).not.toBe(0);
    expect(a.barrier?.durable_lsn).toBe("0");
    s.barrier(2, 0);
    expect((await s.barrierAnswer(2)).barrier?.status?.code).toBe(0);
  });

  it("handshake reports the replica's facts and checks the caller", async () => {
    const s = stream().open();
    s.batch(await records(1, 3), 1, 3);
    s.barrier(1, 3);
    await s.barrierAnswer(1);
    const hs = await unary<HandshakeResponse__Output>((cb) =>
      client.Handshake(
        { volume_id: VOLUME_ID, epoch: "7", primary_server_id: PRIMARY_ID, replica_server_id: "srv-b" },
        cb,
      ),
    );
    expect(hs).toMatchObject({ epoch: "1", head_lsn: "3", durable_lsn: "3", role: "ROLE_REPLICA" });
    // The history, tracking base and resync marker travel too, and read back as the volume's own.
    const facts = replicaFactsFromWire(hs);
    const v = node.volume;
    expect(facts.generations).toEqual(v.history());
    expect(facts.generations?.length).toBeGreaterThan(0);
    expect(facts.changeBaseLsn).toBe(v.changeTracking().baseLsn);
    expect(facts.changeTracking).toBe(v.changeTracking().persistent);
    expect(facts.resync).toEqual({ pending: false });
    const bad = await unary((cb) =>
      client.Handshake(
        { volume_id: VOLUME_ID, epoch: "1", primary_server_id: "x", replica_server_id: "srv-b" },
        cb,
      ),
    ).catch((e: unknown) => e);
    expect(reasonOf(bad)).toBe("unauthenticated_peer");
  });
});
