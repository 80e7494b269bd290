// Ship throughput in one process: a primary volume, a replica volume behind a real grpc-js server on
// 127.0.0.1, and the cursor shipper between them. Compares against RF=1 measured in the same run.
//   node --import tsx packages/replication/bench/ship-bench.ts [totalMiB=64] [writeKiB=64] [flushEveryMiB=4] [queueDepth=16]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startServer } from "@blockship/rpc";
import { createVolumeFile, type Volume } from "@blockship/storage";
import {
  connectReplication,
  durableFlush,
  ReplicaReceiver,
  replicationServiceHandlers,
  ShipperGroup,
} from "../src/index";

const totalMiB = Number(process.argv[2] ?? 64);
const writeKiB = Number(process.argv[3] ?? 64);
const writeBytes = writeKiB * 1024;
const BS = 4096;
const VOLUME_BYTES = 256 * 1024 * 1024;
const QD = Number(process.argv[5] ?? 16);
const flushEveryMiB = Number(process.argv[4] ?? 4);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blockship-ship-bench-"));
let seq = 0;
const volume = (name: string): Promise<Volume> =>
  createVolumeFile(path.join(dir, `${name}-${seq++}.vol`), {
    volumeSizeBytes: VOLUME_BYTES,
    walSizeBytes: 64 * 1024 * 1024,
    blockSize: BS,
    epoch: 1,
    // Let a live but slower replica throttle writers (soft watermark 0.7) before storage gives up
    // on it (the default byte budget, half the WAL, releases it first under a burst).
    retentionMaxHeldBytes: Math.floor(0.85 * 64 * 1024 * 1024),
  });

/** Writes totalMiB with QD writers, a flush every flushEveryMiB; returns seconds. */
async function workload(v: Volume, flush: () => Promise<unknown>): Promise<number> {
  const count = (totalMiB * 1024 * 1024) / writeBytes;
  const data = Buffer.alloc(writeBytes, 0xab);
  const blocksPer = writeBytes / BS;
  const slots = VOLUME_BYTES / writeBytes;
  const flushEvery = Math.max(1, (flushEveryMiB * 1024 * 1024) / writeBytes);
  let next = 0;
  const t0 = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await v.write((i % slots) * blocksPer, data);
      if (i % flushEvery === flushEvery - 1) await flush();
    }
  };
  await Promise.all(Array.from({ length: QD }, worker));
  await flush();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main(): Promise<void> {
  const rf1 = await volume("rf1");
  const rf1Secs = await workload(rf1, () => rf1.flush());
  await rf1.close();

  const replica = await volume("replica");
  const receiver = new ReplicaReceiver({
    volume: replica,
    volumeId: "bench",
    localServerId: "r",
    authority: () => ({ epoch: 1, primaryServerId: "p", accepting: true }),
  });
  const server = await startServer({
    address: "127.0.0.1:0",
    handlers: { replication: replicationServiceHandlers(() => receiver) },
  });
  const primary = await volume("primary");
  const group = new ShipperGroup({
    volume: primary,
    volumeId: "bench",
    primaryServerId: "p",
    epoch: () => 1,
    durabilityMode: () => "sync_all",
    connect: (a) => connectReplication(a),
  });
  group.setReplicas([{ replicaId: "bench/r", serverId: "r", address: server.address }]);
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (group.statuses()[0]?.state === "in_sync") resolve();
      else setTimeout(check, 5);
    };
    check();
  });
  const rf2Secs = await workload(primary, () => durableFlush(primary, group, "sync_all"));
  const st = group.statuses()[0];

  // Catch-up: the same amount written while no replica is connected, then shipped from the WAL
  // by the cursor loop alone (read + gRPC + replica append; no client flushes).
  const replica2 = await volume("replica2");
  const receiver2 = new ReplicaReceiver({
    volume: replica2,
    volumeId: "bench2",
    localServerId: "r2",
    authority: () => ({ epoch: 1, primaryServerId: "p", accepting: true }),
  });
  const server2 = await startServer({
    address: "127.0.0.1:0",
    handlers: { replication: replicationServiceHandlers(() => receiver2) },
  });
  const source = await volume("source");
  source.pinWal("bench", 1); // keep the backlog in the WAL until the shipper pins it itself
  const catchupMiB = Math.min(totalMiB, 40); // stays within the retention budget of a 64 MiB WAL
  const data = Buffer.alloc(writeBytes, 0xcd);
  for (let i = 0; i < (catchupMiB * 1024 * 1024) / writeBytes; i++)
    await source.write(i * (writeBytes / BS), data);
  const group2 = new ShipperGroup({
    volume: source,
    volumeId: "bench2",
    primaryServerId: "p",
    epoch: () => 1,
    durabilityMode: () => "best_effort",
    connect: (a) => connectReplication(a),
  });
  const head = source.headLsn;
  const c0 = process.hrtime.bigint();
  group2.setReplicas([{ replicaId: "bench2/r2", serverId: "r2", address: server2.address }]);
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      const st2 = group2.statuses()[0];
      if ((st2?.receivedLsn ?? 0) >= head) resolve();
      else if (st2?.state === "needs_rebuild") reject(new Error(`catch-up impossible: ${st2.lastError}`));
      else setTimeout(check, 2);
    };
    check();
  });
  const catchupSecs = Number(process.hrtime.bigint() - c0) / 1e9;
  const catchupBatches = receiver2.stats.batches;
  await group2.close();
  await server2.shutdown(1000);
  await source.close();
  await replica2.close();
  const mb = totalMiB * 1.048576;
  console.log(
    JSON.stringify(
      {
        totalMiB,
        writeKiB,
        queueDepth: QD,
        flushEveryMiB,
        rf1MBps: +(mb / rf1Secs).toFixed(1),
        rf2SyncAllMBps: +(mb / rf2Secs).toFixed(1),
        rf2OverRf1: +(rf1Secs / rf2Secs).toFixed(2),
        shipMessages: receiver.stats.batches,
        avgBatchKiB: +((totalMiB * 1024) / Math.max(1, receiver.stats.batches)).toFixed(1),
        replicaBarriers: receiver.stats.barriers,
        peakInFlightKiB: Math.round((st?.peakInFlightBytes ?? 0) / 1024),
        catchupMiB,
        catchupMBps: +((catchupMiB * 1.048576) / catchupSecs).toFixed(1),
        catchupMessages: catchupBatches,
      },
      null,
      2,
    ),
  );
  await group.close();
  await server.shutdown(1000);
  await primary.close();
  await replica.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

await main();
