import { spawn } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { openVolumeFile } from "../src/index";
import { CRASH_BLOCKS, CRASH_BS, crashBlock } from "./fixtures/crash-data";
import { tmpDir } from "./helpers";

const CHILD = path.join(import.meta.dirname, "fixtures", "crash-child.ts");

interface RoundLog {
  startHead: number;
  /** Intents in LSN order: a block's new content (undefined = trim). */
  intents: Array<{ lba: number; data: Buffer | undefined }>;
  maxFlushed: number;
}

/** Runs the child until it has printed `killAfterLines` lines, then SIGKILLs it. */
function runChild(file: string, seed: number, killAfterLines: number): Promise<RoundLog> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, file, String(seed)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const log: RoundLog = { startHead: -1, intents: [], maxFlushed: 0 };
    let lines = 0;
    const rl = readline.createInterface({ input: child.stdout });
    rl.on("line", (line) => {
      const [kind, a, b] = line.split(" ");
      if (kind === "S") log.startHead = Number(a);
      else if (kind === "I") log.intents.push({ lba: Number(a), data: crashBlock(Number(a), Number(b)) });
      else if (kind === "T") log.intents.push({ lba: Number(a), data: undefined });
      else if (kind === "F") log.maxFlushed = Math.max(log.maxFlushed, Number(a));
      if (++lines === killAfterLines) child.kill("SIGKILL");
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      rl.close();
      if (signal !== "SIGKILL") reject(new Error(`child exited unexpectedly: code ${code} signal ${signal}`));
      else resolve(log);
    });
  });
}

describe("crash test with a real process and SIGKILL", () => {
  const { dir, cleanup } = tmpDir();
  afterAll(cleanup);

  it("every flushed write is intact after each kill; the state is an exact log prefix", async () => {
    const file = path.join(dir, "crash.img");
    const model = Buffer.alloc(CRASH_BLOCKS * CRASH_BS);
    let seed = 12345;
    for (let round = 0; round < 5; round++) {
      seed = (Math.imul(seed, 48271) + 11) >>> 0;
      const killAfter = 50 + (seed % 1500);
      const log = await runChild(file, seed, killAfter);
      const vol = await openVolumeFile(file);
      const head = vol.headLsn;
      expect(log.startHead).toBeGreaterThanOrEqual(0);
      expect(head, `round ${round}: flushed LSN ${log.maxFlushed} lost`).toBeGreaterThanOrEqual(
        log.maxFlushed,
      );
      expect(head).toBeLessThanOrEqual(log.startHead + log.intents.length);
      // Apply the surviving prefix of this round's intents to the model.
      for (const it of log.intents.slice(0, head - log.startHead)) {
        if (it.data) it.data.copy(model, it.lba * CRASH_BS);
        else model.fill(0, it.lba * CRASH_BS, (it.lba + 1) * CRASH_BS);
      }
      const image = await vol.read(0, CRASH_BLOCKS * CRASH_BS);
      for (let lba = 0; lba < CRASH_BLOCKS; lba++) {
        const got = image.subarray(lba * CRASH_BS, (lba + 1) * CRASH_BS);
        const want = model.subarray(lba * CRASH_BS, (lba + 1) * CRASH_BS);
        expect(got.equals(want), `round ${round} lba ${lba}`).toBe(true);
      }
      await vol.close();
    }
  });
});
