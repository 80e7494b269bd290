import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import type { ShipRequest, ShipRequest__Output, ShipResponse } from "../src/index";
import {
  bidiStreamHandler,
  closeClient,
  createReplicationClient,
  loadProtos,
  SHIP_BATCH_HEADROOM_BYTES,
  type StartedRpcServer,
  shipBatchInPlace,
  shipRequestSerializer,
  startServer,
} from "../src/index";

// The in-place batch encoding must be byte-identical to protobufjs's, for any LSN up to 2^53-1.

interface Codec {
  requestSerialize(m: ShipRequest): Buffer;
  requestDeserialize(b: Buffer): ShipRequest__Output;
}
const ship = (loadProtos().packageDefinition["blockship.v1.Replication"] as unknown as { Ship: Codec }).Ship;
const serialize = shipRequestSerializer((m) => ship.requestSerialize(m));

/** Records with the headroom in their own allocation, as storage readRecords returns them. */
function roomyRecords(bytes: Uint8Array): Buffer {
  const whole = Buffer.allocUnsafe(SHIP_BATCH_HEADROOM_BYTES + bytes.length);
  whole.fill(0xa5, 0, SHIP_BATCH_HEADROOM_BYTES);
  const records = whole.subarray(SHIP_BATCH_HEADROOM_BYTES);
  records.set(bytes);
  return records;
}

describe("shipBatchInPlace", () => {
  it("builds exactly the bytes protobufjs encodes, without touching the records", () => {
    const lsn = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.maxSafeNat());
    fc.assert(
      fc.property(
        lsn,
        lsn,
        fc.nat({ max: 0xffff_ffff }),
        fc.uint8Array({ maxLength: 3000 }),
        (first, last, count, bytes) => {
          const records = roomyRecords(bytes);
          const wire = serialize(shipBatchInPlace(records, first, last, count));
          const plain: ShipRequest = {
            batch: {
              first_lsn: String(first),
              last_lsn: String(last),
              record_count: count,
              records: Buffer.from(bytes),
            },
          };
          expect(wire.equals(ship.requestSerialize(plain))).toBe(true);
          // No copy: the wire bytes end with the records' own memory.
          expect(wire.buffer).toBe(records.buffer);
          expect(records.equals(Buffer.from(bytes))).toBe(true);
          const decoded = ship.requestDeserialize(wire);
          expect(decoded.batch?.first_lsn).toBe(String(first));
          expect(decoded.batch?.last_lsn).toBe(String(last));
          expect(decoded.batch?.record_count).toBe(count);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuses records without headroom and values a varint cannot carry exactly", () => {
    const bare = Buffer.from(new ArrayBuffer(16));
    expect(() => shipBatchInPlace(bare, 1, 1, 1)).toThrow(/headroom/);
    const records = roomyRecords(new Uint8Array(8));
    expect(() => shipBatchInPlace(records, -1, 1, 1)).toThrow(RangeError);
    expect(() => shipBatchInPlace(records, 1, 2 ** 53, 1)).toThrow(RangeError);
    expect(() => shipBatchInPlace(records, 1, 1, 2 ** 32)).toThrow(RangeError);
  });

  it("leaves every other message to the generated serializer", () => {
    const barrier: ShipRequest = { barrier: { barrier_id: "7", lsn: "9" } };
    expect(serialize(barrier).equals(ship.requestSerialize(barrier))).toBe(true);
  });
});

describe("a pre-encoded batch over a real Ship stream", () => {
  let server: StartedRpcServer | undefined;
  afterAll(async () => {
    await server?.shutdown(1_000);
  });

  it("arrives as the same batch", async () => {
    const received: ShipRequest__Output[] = [];
    server = await startServer({
      address: "127.0.0.1:0",
      handlers: {
        replication: {
          Ship: bidiStreamHandler<ShipRequest__Output, ShipResponse>(async (call) => {
            for await (const request of call as AsyncIterable<ShipRequest__Output>) {
              received.push(request);
              if (request.batch) call.write({ ack: { received_lsn: request.batch.last_lsn } });
            }
          }),
        },
      },
    });
    const client = createReplicationClient(server.address);
    const stream = client.Ship();
    const acked = new Promise<string>((resolve, reject) => {
      stream.on("data", (r: ShipResponse) => resolve(String(r.ack?.received_lsn)));
      stream.on("error", reject);
    });
    const payload = Buffer.alloc(300_000, 0x5c);
    stream.write({ volume_id: "v", epoch: "1", primary_server_id: "p", replica_server_id: "r" });
    stream.write(shipBatchInPlace(roomyRecords(payload), 2 ** 40, 2 ** 40 + 2, 3));
    expect(await acked).toBe(String(2 ** 40 + 2));
    stream.end();
    closeClient(client);
    const batch = received[1]?.batch;
    expect(batch?.first_lsn).toBe(String(2 ** 40));
    expect(batch?.record_count).toBe(3);
    expect(Buffer.from(batch?.records ?? []).equals(payload)).toBe(true);
  });
});
