// A real filesystem on a blockship volume over NBD, through a crash: nbdfuse exposes the export as
// a file, ext4 is made on it and loop-mounted, files are written and `sync`ed; the primary is
// SIGKILLed, the replica is promoted at epoch + 1, its export is mounted the same way (the journal
// replays), every synced file is there byte for byte, and after a clean unmount `e2fsck -fn`
// finds nothing. RF=2 sync_all: `sync` ends in NBD FLUSHes, and under sync_all a FLUSH is answered
// only once the replica has the data too. Needs FUSE and loop devices: without them this test
// fails and says so.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { patternBytes, prng } from "./support/io";
import {
  allocate,
  assign,
  MiB,
  primaryAssignment,
  replicaAssignment,
  replicasInSync,
} from "./support/master";
import { nbdUri, requireTools, run, runOk, spawnLong } from "./support/nbd";

const fleet = new AgentFleet();
let primary: AgentHandle;
let replica: AgentHandle;
let dir: string;
const VOLUME = "nbd-fs";
const SIZE = 128 * MiB;
const FILES = 24;
const cleanups: (() => Promise<void>)[] = [];

/** FUSE and loop devices are required: their absence is a failure that names what is missing. */
function requireFuseAndLoop(): void {
  const missing = ["/dev/fuse", "/dev/loop-control"].filter((p) => !existsSync(p));
  if (missing.length > 0)
    throw new Error(
      `this test needs FUSE and loop devices, missing: ${missing.join(", ")} (load the fuse and loop modules / run the container with them)`,
    );
  requireTools("nbdfuse", "fusermount3", "mkfs.ext4", "e2fsck", "mount", "umount");
}

/** nbdfuse serving `uri` as `<mnt>/disk`; resolves once the file is there with the volume's size. */
async function fuseDisk(uri: string, name: string): Promise<string> {
  const mnt = join(dir, name);
  mkdirSync(mnt, { recursive: true });
  const fuse = spawnLong("nbdfuse", [join(mnt, "disk"), uri]);
  cleanups.push(async () => {
    await run("fusermount3", ["-u", "-z", mnt], { timeoutMs: 10_000 });
    fuse.child.kill("SIGKILL");
  });
  const disk = join(mnt, "disk");
  await waitFor(
    () => {
      if (fuse.child.exitCode !== null) throw new Error(`nbdfuse exited: ${fuse.output()}`);
      try {
        return statSync(disk).size === SIZE;
      } catch {
        return false;
      }
    },
    `nbdfuse ${uri}`,
    20_000,
  );
  return disk;
}

async function loopMount(disk: string, name: string): Promise<string> {
  const at = join(dir, name);
  mkdirSync(at, { recursive: true });
  await runOk("mount", ["-o", "loop", disk, at], { timeoutMs: 30_000 });
  cleanups.push(async () => {
    await run("umount", ["-l", at], { timeoutMs: 10_000 });
  });
  return at;
}

beforeAll(async () => {
  requireFuseAndLoop();
  dir = mkdtempSync(join(tmpdir(), "blockship-nbdfs-"));
  const nbd = ["--nbd-listen", "127.0.0.1:0", "--barrier-timeout-ms", "2000"];
  [primary, replica] = await Promise.all([
    fleet.start({ kind: "primary", serverId: "fs-p", args: [...nbd, "--metrics-listen", "127.0.0.1:0"] }),
    fleet.start({ kind: "replica", serverId: "fs-r", args: nbd }),
  ]);
  for (const a of [primary, replica])
    await allocate(a, { volumeId: VOLUME, sizeBytes: SIZE, walSizeBytes: 32 * MiB, mode: "sync_all" });
  await assign(replica, replicaAssignment(VOLUME, 1, primary));
  await assign(primary, primaryAssignment(VOLUME, 1, [replica]));
  await waitFor(() => replicasInSync(primary, VOLUME, 1), "replica in sync");
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await fleet.cleanup();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("ext4 over NBD across a primary crash", () => {
  it("synced files survive SIGKILL of the primary and are on the promoted replica; e2fsck is clean", async () => {
    showLogsOnFailure(fleet);
    const disk = await fuseDisk(nbdUri(primary, VOLUME), "fuse-p");
    await runOk("mkfs.ext4", ["-q", "-F", "-b", "4096", disk], { timeoutMs: 120_000 });
    const fs = await loopMount(disk, "fs-p");
    const rand = prng(0xf5);
    const files = new Map<string, Buffer>();
    for (let i = 0; i < FILES; i++) {
      const sub = `d${i % 3}`;
      mkdirSync(join(fs, sub), { recursive: true });
      const size = 1 + Math.floor(rand() * 1.5 * MiB);
      const data = patternBytes(Math.ceil(size / 4) * 4, rand).subarray(0, size);
      const rel = join(sub, `f${i}.bin`);
      writeFileSync(join(fs, rel), data);
      files.set(rel, data);
    }
    await runOk("sync", [], { timeoutMs: 60_000 });
    // `sync` reached the volume as NBD FLUSHes (answered only once the replica had everything).
    const metrics = await (await fetch(`http://${primary.metricsAddress}/metrics`)).text();
    const flushes = /blockship_nbd_requests_total\{[^}]*command="flush"[^}]*result="ok"[^}]*\} (\d+)/.exec(
      metrics,
    );
    expect(Number(flushes?.[1] ?? 0)).toBeGreaterThan(0);

    await primary.kill("SIGKILL");
    for (const c of cleanups.splice(0).reverse()) await c();
    await assign(replica, primaryAssignment(VOLUME, 2, []));

    const disk2 = await fuseDisk(nbdUri(replica, VOLUME), "fuse-r");
    const fs2 = await loopMount(disk2, "fs-r");
    for (const [rel, data] of files) {
      const got = readFileSync(join(fs2, rel));
      expect(got.length, rel).toBe(data.length);
      expect(got.equals(data), `${rel} byte for byte`).toBe(true);
    }
    await runOk("umount", [fs2], { timeoutMs: 60_000 });
    const fsck = await run("e2fsck", ["-fn", disk2], { timeoutMs: 120_000 });
    expect(fsck.code, `e2fsck -fn:\n${fsck.stdout}\n${fsck.stderr}`).toBe(0);
  });
});
