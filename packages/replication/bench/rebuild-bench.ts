/**
 * Rebuild throughput: a Rebuild source (RebuildSource over gRPC, in a child process) and a puller
 * (pullRebuild, this process) on loopback, over a file-backed volume (1 GiB by default) whose
 * extent is full of incompressible data, with no rate limit. Timed from the first request until
 * commitInstall returned (staging synced, copied into the extent, fdatasync'd).
 *
 *   node --import tsx packages/replication/bench/rebuild-bench.ts [sizeMiB] [--baseline] [--chunk-kib N]
 *
 * Prints one JSON line {"bench":"recovery","case":"rebuild_1GiB","value":MB/s,"unit":"MB/s",...};
 * with --baseline also the raw baseline of test/bench (file → loopback TCP → file + fdatasync, two
 * plain Node processes) and the ratio. MB = 10^6 bytes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createCipheriv } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { startServer } from "@blockship/rpc";
import { createVolumeFile, type Volume } from "@blockship/storage";
import { connectRebuild } from "../src/rebuild-client";
import { pullRebuild } from "../src/rebuild-puller";
import { RebuildSource } from "../src/rebuild-source";

const MiB = 1024 * 1024;
const BLOCK = 4096;
const WAL_BYTES = 64 * MiB;
const VOLUME_ID = "bench-vol";
const REPLICA_ID = "srv-replica";
const KEY = Buffer.from("blockship-rebuild-bench-key!!!!!").subarray(0, 16);
const ZEROS = Buffer.alloc(MiB);

/** Incompressible, position-dependent content of 1 MiB region `i` (AES-CTR keystream; both sides recompute it). */
function region(i: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(i, 0);
  const c = createCipheriv("aes-128-ctr", KEY, iv);
  return Buffer.concat([c.update(ZEROS), c.final()]);
}

async function runSource(dir: string, sizeBytes: number): Promise<void> {
  const volume = await createVolumeFile(join(dir, "source.vol"), {
    volumeSizeBytes: sizeBytes,
    walSizeBytes: WAL_BYTES,
    blockSize: BLOCK,
    epoch: 1,
  });
  // Fill through the volume (WAL, then flusher to the extent), not timed.
  const inFlight: Promise<number>[] = [];
  for (let i = 0; i < sizeBytes / MiB; i++) {
    inFlight.push(volume.write((i * MiB) / BLOCK, region(i)));
    if (inFlight.length >= 8) await inFlight.shift();
  }
  await Promise.all(inFlight);
  await volume.flush();
  await volume.checkpoint();
  const source = new RebuildSource(() => ({
    volume,
    authority: () => ({ role: "primary", epoch: 1, replicaServerIds: new Set([REPLICA_ID]) }),
  }));
  const server = await startServer({ address: "127.0.0.1:0", handlers: { rebuild: source.handlers() } });
  console.log(JSON.stringify({ port: server.port, headLsn: volume.headLsn }));
  // Serve until the parent closes stdin.
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on("end", resolve));
  source.close();
  await server.shutdown(1000);
  await volume.close();
}

async function runPuller(sizeMiB: number, chunkBytes: number, withBaseline: boolean): Promise<void> {
  const sizeBytes = sizeMiB * MiB;
  const dir = mkdtempSync(join(tmpdir(), "blockship-rebuild-bench-"));
  let child: ChildProcess | undefined;
  let target: Volume | undefined;
  try {
    child = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(import.meta.url), "--source", dir, String(sizeBytes)],
      {
        stdio: ["pipe", "pipe", "inherit"],
      },
    );
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const ready = await new Promise<{ port: number; headLsn: number }>((resolve, reject) => {
      lines.once("line", (l) => resolve(JSON.parse(l) as { port: number; headLsn: number }));
      child?.once("exit", (code) => reject(new Error(`source exited (${code})`)));
    });
    target = await createVolumeFile(join(dir, "target.vol"), {
      volumeSizeBytes: sizeBytes,
      walSizeBytes: WAL_BYTES,
      blockSize: BLOCK,
      epoch: 1,
    });
    const t0 = performance.now();
    let imageMs = 0;
    const r = await pullRebuild({
      volume: target,
      volumeId: VOLUME_ID,
      epoch: 1,
      replicaServerId: REPLICA_ID,
      primaryAddress: `127.0.0.1:${ready.port}`,
      connect: (a) => connectRebuild(a),
      chunkSizeBytes: chunkBytes,
      retry: { maxAttempts: 1 },
      onProgress: (p) => {
        if (p.bytesDone === p.totalBytes && imageMs === 0) imageMs = performance.now() - t0;
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    // Spot-check the committed copy against the source's content.
    for (const i of [0, Math.floor(sizeMiB / 2), sizeMiB - 1]) {
      const got = await target.read((i * MiB) / BLOCK, MiB);
      if (!got.equals(region(i))) throw new Error(`rebuilt copy differs in MiB ${i}`);
    }
    const value = sizeBytes / 1e6 / seconds;
    const line: Record<string, unknown> = {
      bench: "recovery",
      case: `rebuild_${sizeMiB >= 1024 ? `${sizeMiB / 1024}GiB` : `${sizeMiB}MiB`}`,
      value: Math.round(value * 10) / 10,
      unit: "MB/s",
      seconds: Math.round(seconds * 1000) / 1000,
      bytes: sizeBytes,
      chunkBytes,
      baseLsn: r.baseLsn,
      lastLsn: r.lastLsn,
      resumes: r.resumes,
      imageSeconds: Math.round(imageMs) / 1000,
    };
    if (withBaseline) {
      const { rawBaseline } = await import("../../../test/bench/recovery-baseline-run");
      const b = await rawBaseline(join(dir, "source.vol"), join(dir, "baseline.out"), sizeBytes);
      const baseline = b.bytes / 1e6 / b.seconds;
      line.baseline = Math.round(baseline * 10) / 10;
      line.ratio = Math.round((value / baseline) * 100) / 100;
      line.goal = 0.6;
    }
    console.log(JSON.stringify(line));
  } finally {
    await target?.close();
    child?.stdin?.end();
    if (child && child.exitCode === null) await new Promise((resolve) => child?.once("exit", resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

const argv = process.argv.slice(2);
if (argv[0] === "--source") {
  await runSource(argv[1] ?? ".", Number(argv[2]));
} else {
  const sizeMiB = Number(argv.find((a) => /^\d+$/.test(a)) ?? 1024);
  const ci = argv.indexOf("--chunk-kib");
  const chunkBytes = ci >= 0 ? Number(argv[ci + 1]) * 1024 : 4 * MiB;
  await runPuller(sizeMiB, chunkBytes, argv.includes("--baseline"));
}
