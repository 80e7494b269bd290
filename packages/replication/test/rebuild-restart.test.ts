// A rebuild pull that a restart of the rebuilding agent cut: the staged image and its resume point
// survive the restart, and the next pull continues from there (same source and epoch), not from 0.
import * as path from "node:path";
import { openVolumeFile, StorageError, type Volume } from "@blockship/storage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RebuildTargetVolume } from "../src/rebuild-attempt";
import { BS, block, makeVolume, tmpDir, waitFor } from "./helpers";
import { BlockModel, expectSameImage, pull, SourceNode } from "./rebuild-helpers";

const SIZE = 1024 * BS; // 4 MiB
const GEOMETRY = { volumeSizeBytes: SIZE, walSizeBytes: 4 * 1024 * 1024 };
const SOURCE_ID = "srv-p";

describe("rebuild pull across a restart of the rebuilding agent", () => {
  let tmp: ReturnType<typeof tmpDir>;
  let primary: Volume;
  let target: Volume;
  let targetPath: string;
  let src: SourceNode;
  let model: BlockModel;

  const fill = async (from: number, to: number, tag: number): Promise<void> => {
    for (let lba = from; lba < to; lba += 16) {
      const data = block(lba, tag, Math.min(16, to - lba));
      model.record(await primary.write(lba, data), lba, data, data.length / BS);
    }
  };

  beforeEach(async () => {
    tmp = tmpDir();
    primary = await makeVolume(tmp.dir, "p", GEOMETRY);
    target = await makeVolume(tmp.dir, "t", GEOMETRY);
    targetPath = path.join(tmp.dir, "t.vol");
    src = new SourceNode(primary);
    await src.start();
    model = new BlockModel();
    await fill(0, 1024, 1);
    await primary.checkpoint();
  });

  afterEach(async () => {
    await src.stop();
    await target.close();
    await primary.close();
    tmp.cleanup();
  });

  /**
   * The first life of the rebuilding agent: it dies (no clean-up at all) once half the image is
   * stored, having saved resume points as it went. Returns the largest point saved.
   */
  async function dieHalfway(epoch: number, at: "image" | "tail" = "image"): Promise<number> {
    let saved = 0;
    let dead = false;
    const dieAt = at === "image" ? SIZE / 2 : SIZE;
    const dying: RebuildTargetVolume = {
      volumeSizeBytes: target.volumeSizeBytes,
      blockSize: target.blockSize,
      beginInstall: (o) => target.beginInstall(o),
      writeInstallChunk: (offset, data) => {
        if (offset < dieAt && !dead) return target.writeInstallChunk(offset, data);
        dead = true;
        return Promise.reject(new StorageError("io_error", "the agent died"));
      },
      stageInstallTail: async (bytes, o) => {
        if (at === "image") return target.stageInstallTail(bytes, o);
        await waitFor(() => saved === SIZE, "the whole image saved as a resume point");
        dead = true;
        throw new StorageError("io_error", "the agent died");
      },
      commitInstall: (base, e, o) => target.commitInstall(base, e, o),
      abortInstall: () => (dead ? Promise.resolve() : target.abortInstall()), // the dead discard nothing
      installResumePoint: () => target.installResumePoint(),
      saveInstallResumePoint: async (p) => {
        await target.saveInstallResumePoint(p);
        saved = Math.max(saved, p.imageBytes);
      },
    };
    await expect(
      pull(dying, src.address, { epoch, sourceId: SOURCE_ID, resumePointEveryMs: 1 }),
    ).rejects.toThrow(/the agent died/);
    // The restart: the volume closes with the staging file and its resume point left as they are.
    await target.close();
    target = await openVolumeFile(targetPath);
    return saved;
  }

  it("continues the saved image; writes made meanwhile arrive as the tail", async () => {
    const saved = await dieHalfway(primary.epoch);
    expect(saved).toBeGreaterThan(0);
    expect(saved).toBeLessThanOrEqual(SIZE / 2);
    await fill(0, 64, 2);
    const result = await pull(target, src.address, { sourceId: SOURCE_ID });
    expect(result.resumedFromBytes).toBe(saved);
    expect(result.bytesTransferred).toBeLessThan(SIZE); // the rest of the image and the tail only
    expect(target.headLsn).toBe(result.lastLsn);
    expectSameImage(await target.read(0, SIZE), model.imageAt(result.lastLsn, SIZE));
  });

  it("a restart during the tail re-sends no image chunk: the complete image was saved", async () => {
    // Writes after the base make a tail; the first tail batch finds the agent dead.
    const base = primary.checkpointLsn;
    await fill(0, 64, 2);
    expect(primary.headLsn).toBeGreaterThan(base);
    const saved = await dieHalfway(primary.epoch, "tail");
    expect(saved).toBe(SIZE);
    const result = await pull(target, src.address, { sourceId: SOURCE_ID });
    expect(result.resumedFromBytes).toBe(SIZE);
    expect(result.bytesTransferred).toBeLessThan(SIZE / 4); // the tail only
    expectSameImage(await target.read(0, SIZE), model.imageAt(result.lastLsn, SIZE));
  });

  it("an image saved from another source or at another epoch is pulled again from 0", async () => {
    const saved = await dieHalfway(primary.epoch);
    expect(saved).toBeGreaterThan(0);
    const other = await pull(target, src.address, { sourceId: "srv-other" });
    expect(other.resumedFromBytes).toBe(0);
    expect(other.bytesTransferred).toBeGreaterThanOrEqual(SIZE);
    expectSameImage(await target.read(0, SIZE), model.imageAt(other.lastLsn, SIZE));
  });
});
