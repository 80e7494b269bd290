import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { openVolumeFile } from "../src/index";
import { generation, INSTALL_BLOCKS, INSTALL_BS } from "./fixtures/install-data";
import { tmpDir } from "./helpers";

const CHILD = path.join(import.meta.dirname, "fixtures", "install-child.ts");
/** Lines the child prints per generation: 4 chunks, tail, commit intent, rename done, commit done. */
const LINES_PER_GENERATION = 8;

interface InstallLog {
  /** Last generation whose commit was started / renamed / resolved (0: none this run). */
  started: number;
  renamed: number;
  done: number;
}

/** Runs the child from generation `first` until it printed `killAfterLines` lines, then SIGKILLs it. */
function runChild(file: string, first: number, killAfterLines: number): Promise<InstallLog> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, file, String(first)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const log: InstallLog = { started: 0, renamed: 0, done: 0 };
    let lines = 0;
    const rl = readline.createInterface({ input: child.stdout });
    rl.on("line", (line) => {
      const [kind, g] = line.split(" ");
      if (kind === "C") log.started = Number(g);
      else if (kind === "R") log.renamed = Number(g);
      else if (kind === "D") log.done = Number(g);
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

describe("swap install killed with SIGKILL at random points (real process)", () => {
  const { dir, cleanup } = tmpDir("blockship-swap-kill-");
  afterAll(cleanup);

  it("the volume file is always the previous or the new installed volume, complete", async () => {
    const file = path.join(dir, "kill.img");
    /** Generation the file holds (0: the empty volume the first child creates). */
    let current = 0;
    let next = 1;
    let seed = 4242;
    for (let round = 0; round < 9; round++) {
      seed = (Math.imul(seed, 48271) + 11) >>> 0;
      // Line 1 is the child's start line; generation k prints lines 8k-6..8k+1. A third of the rounds
      // kill anywhere, a third right after a commit intent (line 8k-1: before the commit point), a
      // third right after a rename (line 8k: past it, before the descriptor swap finished).
      const k = 1 + (seed % 3);
      const killAfter = [
        2 + (seed % (3 * LINES_PER_GENERATION)),
        LINES_PER_GENERATION * k - 1,
        LINES_PER_GENERATION * k,
      ][round % 3]!;
      const log = await runChild(file, next, killAfter);
      const vol = await openVolumeFile(file);
      const allowed = log.started > log.done ? [log.done || current, log.started] : [log.done || current];
      const held = allowed.find((g) => (g === 0 ? vol.headLsn === 0 : vol.headLsn === generation(g).lastLsn));
      expect(held, `round ${round}: head ${vol.headLsn}, allowed generations ${allowed}`).toBeDefined();
      // Without a machine crash a rename that happened is visible.
      if (log.renamed > log.done) expect(held).toBe(log.renamed);
      const want = held === 0 ? Buffer.alloc(INSTALL_BLOCKS * INSTALL_BS) : generation(held!).expected;
      expect((await vol.read(0, want.length)).equals(want), `round ${round} generation ${held}`).toBe(true);
      expect([vol.epoch, vol.durableLsn]).toEqual([held === 0 ? 0 : generation(held!).epoch, vol.headLsn]);
      await vol.close();
      current = held!;
      next = Math.max(log.started, log.done, next) + 1;
      // A leftover staging file is left for the next child's beginInstall to discard.
      expect(fs.existsSync(file)).toBe(true);
    }
  });
});
