/**
 * Raw baseline, process B (no blockship code): accepts one loopback TCP connection, writes every
 * byte it receives into a file and fdatasyncs, then prints one JSON line
 * `{"bytes":N,"elapsed_ms":T,"cpu_s":C}` (T = from the accepted connection to the final fdatasync;
 * C = this process's CPU time, start-up included).
 *
 *   node --import tsx test/bench/recovery-baseline-sink.ts <destination file>
 * Prints `{"port":P}` once listening on 127.0.0.1.
 *
 * The program is deliberately plain: received chunks are gathered into ~1 MiB writev calls and
 * the file is fdatasynced every SYNC_EVERY_BYTES (16 MiB, the disk's sustained-rate pattern of
 * PERFORMANCE.md: small enough that dirty pages never pile up, large enough that fsync is not the
 * bottleneck) and once at the end. Reading pauses while a write or sync is in flight, so TCP
 * back-pressure reaches the sender.
 */
import { open } from "node:fs/promises";
import { createServer } from "node:net";

const WRITE_BATCH_BYTES = 1024 * 1024;
const SYNC_EVERY_BYTES = 16 * 1024 * 1024;

const destination = process.argv[2];
if (destination === undefined) throw new Error("usage: recovery-baseline-sink.ts <destination file>");

const server = createServer();
server.once("connection", (socket) => {
  server.close();
  const started = performance.now();
  void (async () => {
    const file = await open(destination, "w");
    try {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let unsyncedBytes = 0;
      let totalBytes = 0;
      const writePending = async (): Promise<void> => {
        if (pendingBytes === 0) return;
        await file.writev(pending);
        unsyncedBytes += pendingBytes;
        totalBytes += pendingBytes;
        pending = [];
        pendingBytes = 0;
      };
      for await (const chunk of socket as AsyncIterable<Buffer>) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes < WRITE_BATCH_BYTES) continue;
        await writePending();
        if (unsyncedBytes >= SYNC_EVERY_BYTES) {
          await file.datasync();
          unsyncedBytes = 0;
        }
      }
      await writePending();
      await file.datasync();
      const elapsedMs = performance.now() - started;
      const cpu = process.cpuUsage();
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      process.stdout.write(
        `${JSON.stringify({ bytes: totalBytes, elapsed_ms: elapsedMs, cpu_s: cpuSeconds })}\n`,
      );
    } finally {
      await file.close();
    }
  })().catch((err: unknown) => {
    process.stderr.write(`sink: ${String(err)}\n`);
    process.exit(1);
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("sink: no TCP address");
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
