import { StorageError, type Volume } from "@blockship/storage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TcpProxy } from "../../../test/support/tcp-proxy";
import type { RebuildTargetVolume } from "../src/rebuild-attempt";
import { isRebuildError } from "../src/rebuild-errors";
import type { RebuildProgress } from "../src/rebuild-puller";
import { rebuildPinOwner } from "../src/rebuild-source";
import { BS, block, makeVolume, tmpDir } from "./helpers";
import { BlockModel, expectSameImage, pull, REBUILDER_ID, SourceNode } from "./rebuild-helpers";

const SIZE = 1024 * BS; // 4 MiB
const GEOMETRY = { volumeSizeBytes: SIZE, walSizeBytes: 4 * 1024 * 1024 };

describe("rebuild pull (base image + WAL tail over gRPC)", () => {
  let tmp: ReturnType<typeof tmpDir>;
  let primary: Volume;
  let target: Volume;
  let src: SourceNode;
  let proxy: TcpProxy | undefined;
  let model: BlockModel;

  const write = async (lba: number, tag: number, blocks = 1): Promise<void> => {
    const data = block(lba, tag, blocks);
    model.record(await primary.write(lba, data), lba, data, blocks);
  };
  /** Writes [from, to) in runs of 16 blocks (few WAL records: set-up stays fast). */
  const fill = async (from: number, to: number, tag: number): Promise<void> => {
    for (let lba = from; lba < to; lba += 16) await write(lba, tag, Math.min(16, to - lba));
  };

  beforeEach(async () => {
    tmp = tmpDir();
    primary = await makeVolume(tmp.dir, "p", GEOMETRY);
    target = await makeVolume(tmp.dir, "t", GEOMETRY);
    src = new SourceNode(primary);
    await src.start();
    proxy = undefined;
    model = new BlockModel();
  });

  afterEach(async () => {
    await proxy?.close();
    await src.stop();
    await target.close();
    await primary.close();
    tmp.cleanup();
  });

  it("copies the image and the tail under concurrent writes; the copy matches the primary at last_lsn", async () => {
    await fill(0, 1024, 1);
    await primary.checkpoint();
    let writing = true;
    let tag = 2;
    const writer = (async () => {
      // Writes land before, during and after the copy of their blocks (and some get trimmed).
      while (writing) {
        const lba = (tag * 37) % 1024;
        await write(lba, tag);
        if (tag % 10 === 0) model.record(await primary.trim(lba, BS), lba, undefined);
        tag++;
        if (tag % 25 === 0) await primary.flush();
      }
    })();
    const progress: RebuildProgress[] = [];
    const result = await pull(target, src.address, {
      onProgress: (p) => {
        progress.push(p);
        if (p.stage === "base" && p.bytesDone >= SIZE / 2) writing = tag < 400;
      },
    });
    writing = false;
    await writer;
    expect(result.totalBytes).toBe(SIZE);
    expect(result.resumes).toBe(0);
    expect(result.lastLsn).toBeGreaterThan(result.baseLsn); // writes during the copy came as the tail
    expect(result.bytesTransferred).toBeGreaterThanOrEqual(SIZE);
    expect(progress.at(-1)).toMatchObject({ stage: "tail", bytesDone: SIZE, lastLsn: result.lastLsn });
    // After the commit the copy holds exactly the entries <= last_lsn, and continues at last_lsn + 1.
    expect(target.headLsn).toBe(result.lastLsn);
    expectSameImage(await target.read(0, SIZE), model.imageAt(result.lastLsn, SIZE));
    // The source keeps its pin at base + 1 for the grace period (a resume after a restart of the
    // copy before its commit; the shipper's hand-over).
    expect(primary.pinnedLsn(rebuildPinOwner(REBUILDER_ID))).toBe(result.baseLsn + 1);
    expect(src.reports).toMatchObject([{ outcome: "done", imageBytesSent: SIZE, baseLsn: result.baseLsn }]);
  });

  it("resumes from the last stored offset after the connection is cut half-way", async () => {
    await fill(0, 1024, 7);
    await primary.checkpoint();
    proxy = await TcpProxy.start(src.address);
    const p = proxy;
    let cut = false;
    const result = await pull(target, p.address, {
      onProgress: (pr) => {
        if (!cut && pr.stage === "base" && pr.bytesDone >= SIZE / 2) {
          cut = true;
          p.cutAll();
        }
      },
    });
    expect(result.resumes).toBeGreaterThanOrEqual(1);
    expect(result.bytesTransferred).toBeLessThan(2 * SIZE);
    const resumed = src.reports.filter((r) => r.resumeOffsetBytes > 0);
    expect(resumed.length).toBeGreaterThanOrEqual(1);
    expect(resumed[0]?.resumeOffsetBytes).toBeGreaterThanOrEqual(SIZE / 2);
    expect(resumed[0]?.baseLsn).toBe(result.baseLsn);
    expectSameImage(await target.read(0, SIZE), model.imageAt(result.lastLsn, SIZE));
  });

  it("a cut during the tail resumes at offset = size: no chunk again, the tail from base + 1", async () => {
    // A primary whose flusher stays away, so the writes after the checkpoint form a long tail.
    await src.stop();
    await primary.close();
    primary = await makeVolume(tmp.dir, "p2", { ...GEOMETRY, flushIntervalMs: 60_000 });
    src = new SourceNode(primary, { tailBatchBytes: 16 * 1024 });
    await src.start();
    await fill(0, 1024, 1);
    await primary.checkpoint();
    for (let i = 0; i < 120; i++) await write((i * 7) % 1024, 100 + i);
    proxy = await TcpProxy.start(src.address);
    const p = proxy;
    let cut = false;
    const result = await pull(target, p.address, {
      onProgress: (pr) => {
        if (!cut && pr.stage === "tail" && pr.lastLsn > pr.baseLsn + 10) {
          cut = true;
          p.cutAll();
        }
      },
    });
    expect(cut).toBe(true);
    expect(result.resumes).toBeGreaterThanOrEqual(1);
    expect(result.lastLsn).toBe(result.baseLsn + 120);
    const tailResume = src.reports.find((r) => r.resumeOffsetBytes === SIZE);
    expect(tailResume).toMatchObject({ outcome: "done", imageBytesSent: 0, baseLsn: result.baseLsn });
    expect(result.bytesTransferred).toBeLessThan(SIZE + 2 * 120 * (BS + 128));
    expect(target.headLsn).toBe(result.lastLsn);
    expectSameImage(await target.read(0, SIZE), model.imageAt(result.lastLsn, SIZE));
  });

  it("restarts from offset 0 when the WAL after the base was recycled before the resume", async () => {
    await fill(0, 512, 3);
    await primary.checkpoint();
    proxy = await TcpProxy.start(src.address);
    const p = proxy;
    let cut = false;
    let recycled: Promise<void> | undefined;
    const result = await pull(target, p.address, {
      onProgress: (pr) => {
        if (cut || pr.stage !== "base" || pr.bytesDone < SIZE / 2) return;
        cut = true;
        // Cut, keep the replica out until the source dropped the pin and its WAL moved on.
        p.setRefusing(true);
        const ended = src.nextEnd();
        recycled = (async () => {
          await ended;
          primary.unpinWal(rebuildPinOwner(REBUILDER_ID));
          await fill(600, 640, 4);
          await primary.checkpoint();
          p.setRefusing(false);
        })();
      },
    });
    await recycled;
    // The resume was refused (wal_recycled): the image came again from offset 0 with a newer base.
    const [first, last] = [src.reports[0], src.reports.at(-1)];
    expect(first).toMatchObject({ outcome: "cancelled", resumeOffsetBytes: 0 });
    expect(last).toMatchObject({ outcome: "done", resumeOffsetBytes: 0, imageBytesSent: SIZE });
    expect(last?.baseLsn).toBeGreaterThan(first?.baseLsn ?? 0);
    expect(result.baseLsn).toBe(last?.baseLsn);
    expect(result.resumes).toBeGreaterThanOrEqual(2);
    expect(result.bytesTransferred).toBeGreaterThan(SIZE); // the first half was sent again
    expectSameImage(await target.read(0, SIZE), model.imageAt(result.lastLsn, SIZE));
  });

  it("an epoch change during the pull starts over from offset 0 at the new epoch", async () => {
    await fill(0, 1024, 8);
    await primary.checkpoint();
    let epoch = 1;
    const result = await pull(target, src.address, {
      epoch: () => epoch,
      onProgress: (pr) => {
        if (epoch === 1 && pr.bytesDone >= SIZE / 2) {
          epoch = 2; // the master re-assigned both copies
          src.auth.epoch = 2;
        }
      },
    });
    expect(result.resumes).toBeGreaterThanOrEqual(1);
    expect(result.bytesTransferred).toBeGreaterThan(SIZE + SIZE / 4);
    expect(src.reports.at(-1)).toMatchObject({ outcome: "done", resumeOffsetBytes: 0 });
    expect(target.epoch).toBe(2);
    expectSameImage(await target.read(0, SIZE), model.imageAt(result.lastLsn, SIZE));
  });

  it("abort leaves the previous data readable and the install discarded", async () => {
    await target.write(0, block(0, 99, 64));
    await target.flush();
    const before = await target.read(0, SIZE);
    await fill(0, 1024, 5);
    await primary.checkpoint();
    const ac = new AbortController();
    const err = await pull(target, src.address, {
      signal: ac.signal,
      onProgress: (pr) => {
        if (pr.bytesDone >= SIZE / 4) ac.abort();
      },
    }).catch((e: unknown) => e);
    expect(isRebuildError(err, "cancelled")).toBe(true);
    expectSameImage(await target.read(0, SIZE), before);
    expect(target.headLsn).toBe(1);
    // A failed pull (the primary refuses) leaves it intact as well, and a later pull still works.
    src.auth.role = "replica";
    const refused = await pull(target, src.address).catch((e: unknown) => e);
    expect(isRebuildError(refused, "not_primary")).toBe(true);
    expectSameImage(await target.read(0, SIZE), before);
    src.auth.role = "primary";
    const ok = await pull(target, src.address);
    expectSameImage(await target.read(0, SIZE), model.imageAt(ok.lastLsn, SIZE));
  });

  it("a local write failure is fatal at once (no retry) and leaves the old state", async () => {
    await target.write(0, block(0, 77));
    await target.flush();
    await fill(0, 1024, 9);
    await primary.checkpoint();
    const failing: RebuildTargetVolume = {
      volumeSizeBytes: target.volumeSizeBytes,
      blockSize: target.blockSize,
      beginInstall: (o) => target.beginInstall(o),
      writeInstallChunk: (offset, data) =>
        offset >= SIZE / 2
          ? Promise.reject(new StorageError("io_error", "injected EIO"))
          : target.writeInstallChunk(offset, data),
      stageInstallTail: (bytes, o) => target.stageInstallTail(bytes, o),
      commitInstall: (base, epoch, o) => target.commitInstall(base, epoch, o),
      abortInstall: () => target.abortInstall(),
    };
    const err = await pull(failing, src.address).catch((e: unknown) => e);
    expect(isRebuildError(err, "io_error")).toBe(true);
    expect((err as { attempts: number }).attempts).toBe(1);
    expect((await target.read(0, BS)).equals(block(0, 77))).toBe(true);
    expect(target.headLsn).toBe(1);
  });

  it("a rate limit holds the transfer to size/rate by the limiter's own accounting", async () => {
    await fill(0, 256, 6);
    await primary.checkpoint();
    const rate = 16 * 1024 * 1024; // 4 MiB at 16 MiB/s: >= 250 ms
    const started = performance.now();
    const result = await pull(target, src.address, { rateLimitBytesPerSecond: rate });
    const elapsedMs = performance.now() - started;
    const report = src.reports.at(-1);
    expect(report?.rateBytesPerSecond).toBe(rate);
    const t = report?.throttle;
    expect(t?.bytes).toBe(result.bytesTransferred);
    // The bucket starts empty and holds at most the burst: its span covers every byte at the rate.
    const lowerBoundMs = (((t?.bytes ?? 0) - 1) / rate) * 1000;
    expect(t?.spanMs).toBeGreaterThanOrEqual(lowerBoundMs);
    expect(t?.throttledMs).toBeGreaterThan(0);
    expect(elapsedMs).toBeGreaterThanOrEqual(t?.spanMs ?? 0);
    // The agent's cap wins over a faster request.
    src.rates.maxRateBytesPerSecond = rate / 2;
    await pull(target, src.address, { rateLimitBytesPerSecond: rate * 4, chunkSizeBytes: 64 * BS });
    expect(src.reports.at(-1)?.rateBytesPerSecond).toBe(rate / 2);
  });
});
