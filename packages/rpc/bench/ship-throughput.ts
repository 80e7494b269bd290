// Raw gRPC ceiling of the Replication.Ship stream with our channel options: one bidi
// stream, WAL-batch-sized messages, back-pressure honoured, one ack per batch, client and
// server in one process (as PERFORMANCE.md measured). Run:
//   node --import tsx packages/rpc/bench/ship-throughput.ts
import type { ShipRequest__Output, ShipResponse } from "../src/index";
import { bidiStreamHandler, closeClient, createReplicationClient, startServer } from "../src/index";

const TOTAL_BYTES = 512 * 1024 * 1024;

async function run(batchBytes: number): Promise<number> {
  const server = await startServer({
    address: "127.0.0.1:0",
    handlers: {
      replication: {
        Ship: bidiStreamHandler<ShipRequest__Output, ShipResponse>(async (call) => {
          for await (const request of call as AsyncIterable<ShipRequest__Output>) {
            if (request.batch) call.write({ ack: { received_lsn: request.batch.last_lsn } });
          }
        }),
      },
    },
  });
  const client = createReplicationClient(server.address);
  const stream = client.Ship();
  const records = Buffer.alloc(batchBytes, 7);
  const batches = Math.ceil(TOTAL_BYTES / batchBytes);
  let acked = 0;
  const done = new Promise<void>((resolve, reject) => {
    stream.on("data", () => {
      if (++acked === batches) resolve();
    });
    stream.on("error", reject);
  });
  const started = performance.now();
  stream.write({ volume_id: "bench", epoch: "1", primary_server_id: "p", replica_server_id: "r" });
  for (let i = 0; i < batches; i++) {
    const lsn = String(i + 1);
    const more = stream.write({ batch: { first_lsn: lsn, last_lsn: lsn, record_count: 1, records } });
    if (!more) await new Promise((resolve) => stream.once("drain", resolve));
  }
  await done;
  const seconds = (performance.now() - started) / 1000;
  stream.end();
  closeClient(client);
  await server.shutdown(1_000);
  return (batches * batchBytes) / seconds / 1e6;
}

for (const kib of [64, 256, 1024]) {
  const mbPerSecond = await run(kib * 1024);
  process.stdout.write(`Ship batches of ${kib} KiB: ${mbPerSecond.toFixed(0)} MB/s\n`);
}
