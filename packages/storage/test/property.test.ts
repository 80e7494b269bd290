import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  encodeRecord,
  parseRecords,
  RECORD_HEADER_BYTES,
  RecordType,
  randomCrashChooser,
  SimDevice,
  Volume,
} from "../src/index";
import { BS, block, simVolume } from "./helpers";

const BLOCKS = 16;

type Op =
  | { kind: "write"; lba: number; blocks: number; tag: number }
  | { kind: "trim"; lba: number; blocks: number }
  | { kind: "flush" }
  | { kind: "checkpoint" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("write" as const),
      lba: fc.nat(BLOCKS - 1),
      blocks: fc.integer({ min: 1, max: 4 }),
      tag: fc.nat(1 << 20),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("trim" as const),
      lba: fc.nat(BLOCKS - 1),
      blocks: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("flush" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("checkpoint" as const) }) },
);

/** Model: the contents every LBA has after applying the log prefix 1..lsn. */
function expectedImage(
  log: Array<{ lba: number; blocks: number; data: Buffer | undefined }>,
  upTo: number,
): Buffer {
  const img = Buffer.alloc(BLOCKS * BS);
  for (let i = 0; i < upTo; i++) {
    const e = log[i]!;
    if (e.data) e.data.copy(img, e.lba * BS);
    else img.fill(0, e.lba * BS, (e.lba + e.blocks) * BS);
  }
  return img;
}

describe("property: crash at a random point", () => {
  it("every flushed write survives, recovered state is an exact log prefix, recovery is repeatable", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 60 }),
        fc.nat(10),
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.integer({ min: 0, max: 6 }),
        // 0: plain appends only; otherwise small batches are O_DSYNC and large ones plain, mixed.
        fc.constantFrom(0, 1200, 1 << 20),
        // Flusher extent runs: all plain + one fdatasync, or O_DSYNC from 2 blocks on (mixed).
        fc.constantFrom(Number.POSITIVE_INFINITY, 2 * BS),
        async (ops, inFlightTail, seed, turnsBeforeCrash, durableAppendMaxBytes, durableExtentMinBytes) => {
          const { vol, dev, opts } = await simVolume({
            volumeSizeBytes: BLOCKS * BS,
            flusherWatermark: 0.4,
            durableAppendMaxBytes,
            durableExtentMinBytes,
          });
          const log: Array<{ lba: number; blocks: number; data: Buffer | undefined }> = [];
          let durable = 0;
          const submit = (op: Op): Promise<unknown> => {
            if (op.kind === "write" || op.kind === "trim") {
              const blocks = Math.min(op.blocks, BLOCKS - op.lba);
              const data = op.kind === "write" ? block(op.lba, op.tag, blocks) : undefined;
              log.push({ lba: op.lba, blocks, data });
              const expectedLsn = log.length;
              const p = data ? vol.write(op.lba, data) : vol.trim(op.lba, blocks * BS);
              return p.then((lsn) => expect(lsn).toBe(expectedLsn));
            }
            if (op.kind === "flush") return vol.flush().then((d) => (durable = Math.max(durable, d)));
            return vol.checkpoint();
          };
          const settled = ops.length - Math.min(inFlightTail, ops.length);
          for (const op of ops.slice(0, settled)) await submit(op);
          // The last few operations are still in flight when the power goes out.
          const inFlight = ops.slice(settled).map((op) => submit(op).catch(() => undefined));
          for (let i = 0; i < turnsBeforeCrash; i++) await new Promise<void>((r) => setImmediate(r));
          const crashed = dev.crash(randomCrashChooser(seed));
          const durableAtCrash = durable; // flushes acknowledged before the power went out
          await Promise.all(inFlight);
          await vol.close().catch(() => undefined);

          const first = await Volume.open(crashed, opts);
          const head = first.headLsn;
          expect(head).toBeGreaterThanOrEqual(durableAtCrash);
          expect(head).toBeLessThanOrEqual(log.length);
          const image = await first.read(0, BLOCKS * BS);
          expect(image.equals(expectedImage(log, head))).toBe(true);
          // Crash the recovered volume again at once: same state.
          const again = await Volume.open(crashed.crash(randomCrashChooser(seed + 1)), opts);
          expect(again.headLsn).toBe(head);
          expect((await again.read(0, BLOCKS * BS)).equals(image)).toBe(true);
          await first.close();
          await again.close();
        },
      ),
      { numRuns: Number(process.env.STORAGE_PROPERTY_RUNS ?? 200) },
    );
  });
});

describe("property: corruption is always detected", () => {
  it("any single-bit flip of an encoded record fails validation", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 1, max: 4 }),
        fc.nat(1000),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.nat(),
        fc.nat(),
        (trim, blocks, lba, lsn, seedBit, prevCrc) => {
          const rec = encodeRecord({
            type: trim ? RecordType.TRIM : RecordType.WRITE,
            lsn,
            epoch: 9,
            lba,
            blockCount: blocks,
            blockSize: BS,
            data: trim ? undefined : block(lba, lsn, blocks),
            prevCrc: prevCrc >>> 0,
          });
          expect(parseRecords(rec, BS, 1 << 20).ok).toBe(true);
          const bit = seedBit % (rec.length * 8);
          rec[bit >> 3]! ^= 1 << (bit & 7);
          expect(parseRecords(rec, BS, 1 << 20).ok).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("a bit flip in record k on disk makes recovery stop exactly before k", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.nat(), async (k, bitSeed) => {
        const { vol, dev, opts } = await simVolume();
        for (let i = 0; i < 12; i++) await vol.write(i, block(i, 1));
        await vol.flush();
        const image = dev.crashImage({ fate: () => "keep", tornRanges: () => [] });
        const recBytes = RECORD_HEADER_BYTES + BS;
        const start = 4096 + (k - 1) * recBytes;
        const bit = bitSeed % (recBytes * 8);
        image[start + (bit >> 3)]! ^= 1 << (bit & 7);
        const after = await Volume.open(new SimDevice(image.length, image), opts);
        expect(after.headLsn).toBe(k - 1);
        await after.close();
        await vol.close();
      }),
      { numRuns: 60 },
    );
  });
});
