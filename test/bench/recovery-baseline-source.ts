/**
 * Raw baseline, process A (no blockship code): streams the first <bytes> bytes of a file over one
 * loopback TCP connection to the sink (recovery-baseline-sink.ts) and exits when they are sent.
 *
 *   node --import tsx test/bench/recovery-baseline-source.ts <source file> <bytes> <port>
 * 1 MiB reads; `pipe` honours the socket's back-pressure. Prints `{"cpu_s":C}` (its CPU time, start-up
 * included) once the connection closed.
 */
import { createReadStream } from "node:fs";
import { connect } from "node:net";

const READ_CHUNK_BYTES = 1024 * 1024;

const [source, bytesText, portText] = process.argv.slice(2);
const bytes = Number(bytesText);
const port = Number(portText);
if (source === undefined || !Number.isSafeInteger(bytes) || bytes <= 0 || !(port > 0 && port < 65536)) {
  throw new Error("usage: recovery-baseline-source.ts <source file> <bytes> <port>");
}

const fail = (err: unknown): void => {
  process.stderr.write(`source: ${String(err)}\n`);
  process.exit(1);
};
const socket = connect({ host: "127.0.0.1", port }, () => {
  const reader = createReadStream(source, { start: 0, end: bytes - 1, highWaterMark: READ_CHUNK_BYTES });
  reader.on("error", fail);
  reader.pipe(socket);
});
socket.on("error", fail);
socket.on("close", () => {
  const cpu = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ cpu_s: (cpu.user + cpu.system) / 1e6 })}\n`);
});
