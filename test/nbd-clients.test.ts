// The NBD frontend of real agent processes used by the real clients: nbdinfo (size, flags, block
// sizes), nbdcopy in and out with 4 connections, qemu-img convert/compare, qemu-io at odd offsets
// (qemu does the read-modify-write), fio with crc32c verification through RF=2 sync_all, the
// replica refusing the export, GetStatus listing connections, and a lapsed lease closing them.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deadlineIn, unary } from "@blockship/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cmd, Opt, Rep } from "../packages/nbd/src/protocol";
import { RawClient } from "../packages/nbd/test/support";
import { AgentFleet, type AgentHandle, waitFor } from "./support/agents";
import { showLogsOnFailure } from "./support/failures";
import { firstDifference, flush, patternBytes, prng, readAll } from "./support/io";
import {
  allocate,
  assign,
  MiB,
  primaryAssignment,
  replicaAssignment,
  replicasInSync,
  volumeStatus,
} from "./support/master";
import { nbdAddressOf, nbdUri, requireTools, run, runOk } from "./support/nbd";

const fleet = new AgentFleet();
let primary: AgentHandle;
let replica: AgentHandle;
let dir: string;
const SIZE = 64 * MiB;
const RF1 = "nbd-rf1";
const RF2 = "nbd-rf2";

beforeAll(async () => {
  requireTools("nbdinfo", "nbdcopy", "qemu-img", "qemu-io", "fio");
  dir = mkdtempSync(join(tmpdir(), "blockship-nbd-"));
  const nbd = ["--nbd-listen", "127.0.0.1:0", "--barrier-timeout-ms", "2000"];
  [primary, replica] = await Promise.all([
    fleet.start({ kind: "primary", serverId: "nbd-p", args: nbd }),
    fleet.start({ kind: "replica", serverId: "nbd-r", args: nbd }),
  ]);
  await allocate(primary, { volumeId: RF1, sizeBytes: SIZE, mode: "best_effort" });
  await assign(primary, primaryAssignment(RF1, 1, []));
  for (const a of [primary, replica]) await allocate(a, { volumeId: RF2, sizeBytes: SIZE, mode: "sync_all" });
  await assign(replica, replicaAssignment(RF2, 1, primary));
  await assign(primary, primaryAssignment(RF2, 1, [replica]));
  await waitFor(() => replicasInSync(primary, RF2, 1), "RF2 replica in sync");
});

afterAll(async () => {
  await fleet.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe("NBD with real clients", () => {
  it("nbdinfo: size, flags and block sizes", async () => {
    showLogsOnFailure(fleet);
    const r = await runOk("nbdinfo", ["--json", nbdUri(primary, RF1)], { timeoutMs: 30_000 });
    const info = JSON.parse(r.stdout) as { exports: Record<string, unknown>[] };
    const e = info.exports[0] as Record<string, unknown>;
    expect(e["export-size"]).toBe(SIZE);
    expect(e).toMatchObject({
      is_read_only: false,
      can_flush: true,
      can_fua: true,
      can_trim: true,
      can_zero: true,
      can_fast_zero: true,
      can_cache: true,
      can_multi_conn: true,
      block_size_minimum: 512,
      block_size_preferred: 4096,
      block_size_maximum: 32 * MiB,
    });
    const list = await runOk("nbdinfo", ["--list", "--json", `nbd://${nbdAddressOf(primary)}`]);
    const names = (JSON.parse(list.stdout) as { exports: { "export-name": string }[] }).exports.map(
      (x) => x["export-name"],
    );
    expect(names.sort()).toEqual([RF1, RF2]);
  });

  it("the replica refuses the export and names the primary", async () => {
    showLogsOnFailure(fleet);
    // libnbd prints the server's message in its debug output.
    const r = await run("nbdinfo", [nbdUri(replica, RF2)], { timeoutMs: 30_000, env: { LIBNBD_DEBUG: "1" } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("the primary is nbd-p");
    const unknown = await run("nbdinfo", [nbdUri(primary, "no-such-volume")], { timeoutMs: 30_000 });
    expect(unknown.code).not.toBe(0);
  });

  it("nbdcopy in and out with 4 connections; the volume holds the source byte for byte", async () => {
    showLogsOnFailure(fleet);
    const src = join(dir, "src.raw");
    const back = join(dir, "back.raw");
    const data = patternBytes(SIZE, prng(14));
    data.fill(0, 8 * MiB, 12 * MiB); // a zero run: nbdcopy may write it as zeroes/trim
    writeFileSync(src, data);
    await runOk("nbdcopy", ["--connections=4", "--flush", src, nbdUri(primary, RF1)], { timeoutMs: 120_000 });
    await runOk("nbdcopy", ["--connections=4", nbdUri(primary, RF1), back], { timeoutMs: 120_000 });
    expect(firstDifference(readFileSync(back), data)).toBe(-1);
    // Through the gRPC path too: the same bytes, not just what NBD reads back.
    expect(firstDifference(await readAll(primary, RF1, SIZE), data)).toBe(-1);
  });

  it("qemu-img convert and compare", async () => {
    showLogsOnFailure(fleet);
    const img = join(dir, "qemu.raw");
    writeFileSync(img, patternBytes(SIZE, prng(99)));
    await runOk("qemu-img", ["convert", "-n", "-f", "raw", "-O", "raw", img, nbdUri(primary, RF1)], {
      timeoutMs: 120_000,
    });
    await runOk("qemu-img", ["compare", "-f", "raw", "-F", "raw", img, nbdUri(primary, RF1)], {
      timeoutMs: 120_000,
    });
    const out = join(dir, "qemu-out.raw");
    await runOk("qemu-img", ["convert", "-f", "raw", "-O", "raw", nbdUri(primary, RF1), out], {
      timeoutMs: 120_000,
    });
    expect(firstDifference(readFileSync(out), readFileSync(img))).toBe(-1);
  });

  it("qemu-io: writes, reads and discards at odd offsets", async () => {
    showLogsOnFailure(fleet);
    const uri = nbdUri(primary, RF1);
    await runOk("qemu-io", ["-f", "raw", "-c", "write -P 0x11 0 1M", uri]);
    await runOk("qemu-io", [
      "-f",
      "raw",
      "-c",
      "write -P 0xab 1000 3000",
      "-c",
      "write -P 0xcd 12289 5",
      "-c",
      "discard 65536 8192",
      "-c",
      "flush",
      "-c",
      "read -P 0xab 1000 3000",
      "-c",
      "read -P 0x11 0 1000",
      "-c",
      "read -P 0xcd 12289 5",
      "-c",
      "read -P 0x11 12294 1000",
      "-c",
      "read -P 0 65536 8192",
      uri,
    ]);
    const got = await readAll(primary, RF1, 1 * MiB);
    const want = Buffer.alloc(1 * MiB, 0x11);
    want.fill(0xab, 1000, 4000);
    want.fill(0xcd, 12289, 12294);
    want.fill(0, 65536, 65536 + 8192);
    expect(firstDifference(got, want)).toBe(-1);
  });

  it("fio --verify=crc32c through RF=2 sync_all; the replica holds what the primary holds", async () => {
    showLogsOnFailure(fleet);
    const r = await runOk(
      "fio",
      [
        "--name=verify",
        "--ioengine=nbd",
        `--uri=${nbdUri(primary, RF2)}`,
        "--rw=randwrite",
        "--bs=4k",
        "--size=16M",
        "--iodepth=16",
        "--verify=crc32c",
        "--do_verify=1",
        "--fsync=64",
        "--output-format=json",
      ],
      { timeoutMs: 180_000 },
    );
    const job = (JSON.parse(r.stdout.slice(r.stdout.indexOf("{"))) as { jobs: { error: number }[] }).jobs[0];
    expect(job?.error).toBe(0);
    await flush(primary, RF2);
    const status = await volumeStatus(primary, RF2);
    expect(status.replicas[0]?.durable_lsn).toBe(status.head_lsn);
    const [p, q] = await Promise.all([readAll(primary, RF2, 16 * MiB), readAll(replica, RF2, 16 * MiB)]);
    expect(firstDifference(p, q)).toBe(-1);
  });

  it("concurrent 512-byte writes into one block keep every sector (read-modify-write under a lock)", async () => {
    showLogsOnFailure(fleet);
    const c = await RawClient.connect(nbdAddressOf(primary));
    try {
      await c.hello();
      expect((await c.go(RF1)).at(-1)?.type).toBe(Rep.ACK);
      const base = 40 * MiB;
      for (let i = 0; i < 8; i++)
        c.request(Cmd.WRITE, 0, BigInt(i), BigInt(base + i * 512), 512, Buffer.alloc(512, 0x30 + i));
      for (let i = 0; i < 8; i++) expect((await c.reply()).error).toBe(0);
      c.request(Cmd.READ, 0, 99n, BigInt(base), 4096);
      const got = (await c.reply(new Map([[99n, 4096]]))).data as Buffer;
      for (let i = 0; i < 8; i++)
        expect(got.subarray(i * 512, (i + 1) * 512).every((b) => b === 0x30 + i)).toBe(true);
    } finally {
      c.close();
    }
  });

  it("GetStatus lists the NBD connections of a volume", async () => {
    showLogsOnFailure(fleet);
    const c = await RawClient.connect(nbdAddressOf(primary));
    try {
      await c.hello();
      c.option(Opt.STRUCTURED_REPLY);
      await c.optionReply();
      expect((await c.go(RF1)).at(-1)?.type).toBe(Rep.ACK);
      const status = await volumeStatus(primary, RF1);
      expect(status.nbd_connections).toHaveLength(1);
      expect(status.nbd_connections[0]).toMatchObject({ tls: false, structured_replies: true });
      expect((await volumeStatus(primary, RF2)).nbd_connections).toHaveLength(0);
    } finally {
      c.close();
    }
  });

  it("a lapsed lease closes the export's connections without replying", async () => {
    showLogsOnFailure(fleet);
    const id = "nbd-lease";
    await allocate(primary, { volumeId: id, sizeBytes: 16 * MiB, mode: "best_effort" });
    await assign(primary, primaryAssignment(id, 1, [], { lease_ttl_ms: 3000 }));
    const c = await RawClient.connect(nbdAddressOf(primary));
    try {
      await c.hello();
      expect((await c.go(id)).at(-1)?.type).toBe(Rep.ACK);
      c.request(Cmd.WRITE, 0, 1n, 0n, 4096, Buffer.alloc(4096, 7));
      expect((await c.reply()).error).toBe(0);
      expect(await c.closedByServer(15_000)).toBe(true);
      // And a new connection is refused while the lease is gone.
      const r = await run("nbdinfo", [nbdUri(primary, id)], {
        timeoutMs: 30_000,
        env: { LIBNBD_DEBUG: "1" },
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/lease_expired/);
    } finally {
      c.close();
    }
  });

  it("demotion and deletion close the export's connections; pending requests get no reply", async () => {
    showLogsOnFailure(fleet);
    const open = async (id: string): Promise<RawClient> => {
      const c = await RawClient.connect(nbdAddressOf(primary));
      await c.hello();
      expect((await c.go(id)).at(-1)?.type).toBe(Rep.ACK);
      return c;
    };
    for (const id of ["nbd-demote", "nbd-delete"]) {
      await allocate(primary, { volumeId: id, sizeBytes: 16 * MiB, mode: "best_effort" });
      await assign(primary, primaryAssignment(id, 1, []));
    }
    const demoted = await open("nbd-demote");
    const deleted = await open("nbd-delete");
    try {
      await assign(primary, { volume_id: "nbd-demote", epoch: "2", role: "ROLE_STALE" });
      expect(await demoted.closedByServer(15_000)).toBe(true);
      await unary((cb) => primary.control.DeleteVolume({ volume_id: "nbd-delete" }, deadlineIn(15_000), cb));
      expect(await deleted.closedByServer(15_000)).toBe(true);
    } finally {
      demoted.close();
      deleted.close();
    }
  });
});
