import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { randomCrashChooser, type SimDevice, Volume } from "../src/index";
import { BS, block, simVolume } from "./helpers";
import {
  BASE_RECORD_CRC,
  batches,
  buildTail,
  imageOf,
  nextRecord,
  type TailOp,
  VOL_BLOCKS,
  VOL_BYTES,
} from "./install-support";

const tailOp = fc.record({
  trim: fc.boolean(),
  lba: fc.integer({ min: 0, max: VOL_BLOCKS - 1 }),
  blocks: fc.integer({ min: 1, max: 6 }),
  tag: fc.integer({ min: 1, max: 1_000_000 }),
  epochStep: fc.constantFrom(0, 0, 0, 1),
}) satisfies fc.Arbitrary<TailOp>;

/** Where the run dies: not at all, while staging (before the commit point), or at the n-th device write of the commit. */
const crashPlan = fc.oneof(
  { arbitrary: fc.constant({ kind: "none" as const }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("staging" as const), afterBatches: fc.nat(4) }), weight: 1 },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("commit" as const),
      failAtWrite: fc.nat(40),
      failAtSync: fc.option(fc.nat(3), { nil: undefined }),
      /** Also die during the redo that open() runs, at this write. */
      reopenFailAtWrite: fc.option(fc.nat(40), { nil: undefined }),
    }),
  },
);

/**
 * Fails every write from the n-th on and every sync from the m-th on (a crash at that moment);
 * reports whether the commit-point superblock is certainly durable, possibly durable, or not.
 */
function failFrom(dev: SimDevice, failAtWrite: number, failAtSync = Number.POSITIVE_INFINITY) {
  let writes = 0;
  let syncs = 0;
  let dead = false;
  let superblockWritten = false;
  let superblockSynced = false;
  dev.failWrite = (offsetBytes) => {
    if (dead || writes++ >= failAtWrite) {
      dead = true;
      return new Error("EIO (injected crash)");
    }
    if (offsetBytes < 4096) superblockWritten = true;
    return undefined;
  };
  dev.failSync = () => {
    if (dead || syncs++ >= failAtSync) {
      dead = true;
      return new Error("EIO (injected crash)");
    }
    if (superblockWritten) superblockSynced = true;
    return undefined;
  };
  return {
    committed: (): boolean | "maybe" => (superblockSynced ? true : superblockWritten ? "maybe" : false),
  };
}

describe("install crash safety (image + staged tail, simulated crashes)", () => {
  it("before the commit point the old state survives; after it, reopen yields exactly image + tail", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(tailOp, { maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 6 }),
        fc.integer({ min: 0, max: 200 }),
        crashPlan,
        fc.integer(),
        async (ops, batchSizes, imageHighOffset, plan, seed) => {
          const { vol, dev, opts, staging } = await simVolume({ epoch: 2 });
          for (let i = 0; i < 6; i++) await vol.write((i * 11) % VOL_BLOCKS, block(i, 900 + i, 2));
          await vol.flush();
          const oldHead = vol.headLsn;
          const oldImage = await vol.read(0, VOL_BYTES);
          const image = imageOf(seed & 0xffff);
          const baseLsn = 500;
          const tail = buildTail(baseLsn, 1, ops, image);
          const installEpoch = Math.max(3, tail.lastEpoch);
          const imageHighLsn = baseLsn + Math.min(imageHighOffset, ops.length);
          const baseRecord = { crc: BASE_RECORD_CRC, epoch: 1 };
          await vol.beginInstall();
          for (let off = 0; off < VOL_BYTES; off += 16 * BS) {
            await vol.writeInstallChunk(off, image.subarray(off, off + 16 * BS));
          }
          const parts = batches(tail.records, batchSizes);
          const chooser = randomCrashChooser(seed);

          if (plan.kind === "staging") {
            for (const b of parts.slice(0, plan.afterBatches)) await vol.stageInstallTail(b);
            staging.crash(chooser);
            const after = await Volume.open(dev.crash(chooser), opts);
            expect(after.headLsn).toBe(oldHead);
            expect((await after.read(0, VOL_BYTES)).equals(oldImage)).toBe(true);
            // The rebuild resumes: chunks re-sent, the tail restarted, then committed.
            await after.beginInstall({ resume: true });
            await after.writeInstallChunk(0, image);
            for (const [i, b] of parts.entries()) await after.stageInstallTail(b, { reset: i === 0 });
            await after.commitInstall(baseLsn, installEpoch, { imageHighLsn, baseRecord });
            expect(after.headLsn).toBe(tail.lastLsn);
            expect((await after.read(0, VOL_BYTES)).equals(tail.expected)).toBe(true);
            await after.close();
            return;
          }

          for (const b of parts) await vol.stageInstallTail(b);
          let device = dev;
          let committed: boolean | "maybe" = true;
          if (plan.kind === "commit") {
            const probe = failFrom(dev, plan.failAtWrite, plan.failAtSync);
            const outcome = await vol.commitInstall(baseLsn, installEpoch, { imageHighLsn, baseRecord }).then(
              () => "ok",
              (e: Error) => e,
            );
            committed = probe.committed();
            if (outcome !== "ok") expect(String(outcome)).toMatch(/io_error|volume_failed/);
            staging.crash(chooser);
            device = dev.crash(chooser);
            if (plan.reopenFailAtWrite !== undefined && committed !== false) {
              failFrom(device, plan.reopenFailAtWrite);
              const opened = await Volume.open(device, opts).then(
                (v) => v,
                () => undefined,
              );
              if (opened) await opened.close().catch(() => undefined);
              device = device.crash(chooser);
            }
          } else {
            await vol.commitInstall(baseLsn, installEpoch, { imageHighLsn, baseRecord });
            await vol.close();
            device = dev.snapshot();
          }

          const after = await Volume.open(device, opts);
          // A crash during the commit superblock's own sync may or may not have kept it.
          if (committed === "maybe") committed = after.headLsn !== oldHead;
          const want = committed ? tail.expected : oldImage;
          expect(after.headLsn).toBe(committed ? tail.lastLsn : oldHead);
          expect(after.durableLsn).toBe(after.headLsn);
          expect((await after.read(0, VOL_BYTES)).equals(want)).toBe(true);
          if (committed) {
            // After a crash right at the final superblock write the staging may linger (the next
            // fresh beginInstall discards it); otherwise the redo removed it.
            if (plan.kind === "none") expect([staging.device, staging.tail]).toEqual([undefined, undefined]);
            expect(after.epoch).toBe(installEpoch);
            expect(after.checkpointLsn).toBeGreaterThanOrEqual(baseLsn);
            expect(after.extentHighLsn).toBeGreaterThanOrEqual(imageHighLsn);
            // Live shipping continues the installed tail's CRC chain.
            await after.appendRecords(nextRecord(tail, 7, 4242));
            await after.flush();
            block(7, 4242).copy(want, 7 * BS);
          }
          // Recovery twice in a row gives the same state.
          const again = await Volume.open(device.crash(chooser), opts);
          expect(again.headLsn).toBe(after.headLsn);
          expect((await again.read(0, VOL_BYTES)).equals(want)).toBe(true);
          await Promise.all([again.close(), after.close()]);
        },
      ),
      { numRuns: 150 },
    );
  });
});
