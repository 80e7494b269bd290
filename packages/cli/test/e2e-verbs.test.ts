// blockctl end to end, the verbs that succeed: the real binary (bin/blockctl.js) against a real
// primary and replica agent on loopback, driven the way the master and an operator would. The
// tests run in order on one pair: the first allocates and assigns what the others use.
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentPair,
  allocateVolumeArgs,
  assignPrimaryArgs,
  assignReplicaArgs,
  at,
  expectExit,
  type JsonError,
  MiB,
  REBUILT,
  rebuildFrom,
  startPair,
  U64,
  VOLUME,
} from "./e2e-fixture";
import { AgentApi, type AgentProcess, blockctl, jsonOf, spawnBlockctl, waitFor } from "./helpers";

let pair: AgentPair;
let primary: AgentProcess;
let replica: AgentProcess;
let workDir: string;
let dataFile: string;

beforeAll(async () => {
  pair = await startPair("e2e-verbs");
  ({ primary, replica, workDir } = pair);
  dataFile = join(workDir, "data.bin");
  writeFileSync(dataFile, randomBytes(3 * 4096 + 100)); // not whole blocks: padded with zeros
});

afterAll(async () => {
  await pair?.stop();
});

describe("blockctl against a primary and a replica agent", () => {
  it("allocates on both and assigns replica then primary with the replica set (sync_all)", async () => {
    const allocations = await Promise.all(
      [replica, primary].map((agent) => blockctl(["--json", ...at(agent), ...allocateVolumeArgs])),
    );
    for (const run of allocations) {
      expectExit(run, 0);
      const doc = jsonOf<{ created: boolean; volume: Record<string, unknown> }>(run);
      expect(doc.created).toBe(true);
      expect(doc.volume).toMatchObject({
        volume_id: VOLUME,
        size_bytes: "4194304",
        block_size: 4096,
        wal_size_bytes: "1048576",
        durability_mode: "sync_all",
        role: "none",
        epoch: "0",
      });
    }
    const [again, asReplica] = await Promise.all([
      blockctl([...at(primary), ...allocateVolumeArgs]),
      blockctl(["--json", ...at(replica), ...assignReplicaArgs]),
    ]);
    expectExit(again, 0);
    expect(again.stdout).toMatch(/already exists/);
    expectExit(asReplica, 0);
    expect(jsonOf(asReplica)).toEqual({ volume_id: VOLUME, epoch: "1", role: "replica", unchanged: false });
    const asPrimary = await blockctl([...at(primary), ...assignPrimaryArgs(replica)]);
    expectExit(asPrimary, 0);
    expect(asPrimary.stdout).toMatch(/primary at epoch 1/);
  });

  it("writes a file, flushes, reads it back and verifies it on both copies", async () => {
    const write = await blockctl([
      "--json",
      ...at(primary),
      "write",
      VOLUME,
      "--lba",
      "2",
      "--file",
      dataFile,
      "--flush",
    ]);
    expectExit(write, 0);
    const written = jsonOf<Record<string, string>>(write);
    expect(written).toMatchObject({ volume_id: VOLUME, lba: "2", bytes: 4 * 4096, blocks: 4 });
    expect(written.last_lsn).toMatch(U64);
    expect(BigInt(written.durable_lsn as string)).toBeGreaterThanOrEqual(BigInt(written.last_lsn as string));

    const back = join(workDir, "back.bin");
    const [bigWrite, flush, read, ...verifies] = await Promise.all([
      // 512 KiB is more than one record of this 1 MiB-WAL volume may carry: the agent splits it itself
      blockctl([
        "--json",
        ...at(primary),
        "write",
        VOLUME,
        "--lba",
        "64",
        "--pattern",
        "big",
        "--count",
        "128",
      ]),
      blockctl(["--json", ...at(primary), "flush", VOLUME]),
      blockctl([...at(primary), "read", VOLUME, "--lba", "2", "--length", "16KiB", "--out", back]),
      ...[primary, replica].map((agent) =>
        blockctl([
          "--json",
          ...at(agent),
          "verify",
          VOLUME,
          "--lba",
          "2",
          "--file",
          dataFile,
          ...(agent === replica ? ["--allow-copy-read"] : []),
        ]),
      ),
    ]);
    expectExit(bigWrite, 0);
    const big = jsonOf<{ blocks: number; first_lsn: string; last_lsn: string }>(bigWrite);
    expect(big.blocks).toBe(128);
    expect(BigInt(big.last_lsn)).toBeGreaterThanOrEqual(BigInt(big.first_lsn));
    expectExit(flush, 0);
    const durable = jsonOf<{ durable_lsn: string }>(flush).durable_lsn;
    expect(durable).toMatch(U64);
    expect(BigInt(durable)).toBeGreaterThanOrEqual(BigInt(written.last_lsn as string));
    expectExit(read, 0);
    const expected = Buffer.concat([readFileSync(dataFile), Buffer.alloc(4096 - 100)]);
    expect(readFileSync(back).equals(expected)).toBe(true);
    for (const run of verifies) {
      expectExit(run, 0);
      expect(jsonOf(run)).toMatchObject({ volume_id: VOLUME, lba: "2", bytes: 16384, match: true });
    }
  });

  it("status and protocol-state --json: fields, types, u64 as strings", async () => {
    const [status, protocol, replicaStatus] = await Promise.all([
      blockctl(["--json", ...at(primary), "status"]),
      blockctl(["--json", ...at(primary), "protocol-state", VOLUME]),
      // BLOCKSHIP_ADDR picks the agent when --addr is absent
      blockctl(["--json", "status", VOLUME], { BLOCKSHIP_ADDR: replica.address }),
    ]);
    expectExit(status, 0);
    const report = jsonOf<{
      server_id: string;
      seq: string;
      at_unix_ms: string;
      volumes: Record<string, unknown>[];
    }>(status);
    expect(report.server_id).toBe("srv-a");
    expect(report.seq).toMatch(U64);
    expect(report.at_unix_ms).toMatch(U64);
    expect(report.volumes).toHaveLength(1);
    const volume = report.volumes[0] as Record<string, unknown>;
    expect(volume).toMatchObject({
      volume_id: VOLUME,
      epoch: "1",
      role: "primary",
      durability_mode: "sync_all",
      block_size: 4096,
      has_lease: true,
      writable: true,
      write_block_reason: "",
    });
    for (const field of [
      "size_bytes",
      "wal_size_bytes",
      "head_lsn",
      "durable_lsn",
      "committed_lsn",
      "checkpoint_lsn",
      "wal_used_bytes",
    ]) {
      expect(volume[field], field).toMatch(U64);
    }
    expect(typeof volume.lease_remaining_ms).toBe("number");
    expect(BigInt(volume.committed_lsn as string)).toBeGreaterThanOrEqual(1n);
    const replicas = volume.replicas as Record<string, unknown>[];
    expect(replicas).toHaveLength(1);
    expect(replicas[0]).toMatchObject({
      replica_id: `${VOLUME}/srv-b`,
      server_id: "srv-b",
      address: replica.address,
    });
    expect(replicas[0]?.shipped_lsn).toMatch(U64);
    expect(replicas[0]?.durable_lsn).toMatch(U64);
    expect(typeof replicas[0]?.live_eligible).toBe("boolean");
    expect(["disconnected", "connecting", "catching_up", "in_sync", "degraded"]).toContain(
      replicas[0]?.sender_state,
    );

    expectExit(protocol, 0);
    const state = jsonOf<{
      volume_id: string;
      epoch: string;
      role: string;
      replicas: Record<string, unknown>[];
    }>(protocol);
    expect(state).toMatchObject({ volume_id: VOLUME, epoch: "1", role: "primary" });
    expect(state.replicas).toHaveLength(1);
    const execution = state.replicas[0] as Record<string, unknown>;
    expect(execution.replica_id).toBe(`${VOLUME}/srv-b`);
    for (const field of ["session_id", "start_lsn", "target_lsn", "frozen_target_lsn", "recovered_to"]) {
      expect(execution[field], field).toMatch(U64);
    }
    expect(execution.live_eligible).toBe(!execution.session_active);

    expectExit(replicaStatus, 0);
    const onReplica = jsonOf<{ server_id: string; volumes: Record<string, unknown>[] }>(replicaStatus);
    expect(onReplica.server_id).toBe("srv-b");
    expect(onReplica.volumes[0]).toMatchObject({
      role: "replica",
      epoch: "1",
      primary_server_id: "srv-a",
      writable: false,
    });
  });

  it("watch (not a TTY) prints the initial snapshot and exits 0 on SIGINT", async () => {
    const watch = spawnBlockctl([...at(primary), "watch", "--interval-ms", "100"]);
    await watch.waitFor(`${VOLUME} `);
    expect(watch.stdout()).toMatch(/^--- initial\nagent srv-a · report \d+ · 1 volume\(s\)\nVOLUME +ROLE/);
    expect(watch.stdout()).not.toContain("\x1b[");
    watch.child.kill("SIGINT");
    const [code, signal] = await watch.exited;
    expect({ code, signal, stderr: watch.stderr() }).toEqual({ code: 0, signal: null, stderr: "" });
  });

  it("recovery: a catch-up is followed to completion; a rebuild through StartRecovery is refused with how to assign one", async () => {
    const [catchup, rebuild, cancel] = await Promise.all([
      blockctl(["--json", ...at(primary), "recovery", "start", VOLUME, "srv-b", "--kind", "catchup"]),
      blockctl([...at(primary), "recovery", "start", VOLUME, "srv-b", "--kind", "rebuild"]),
      blockctl(["--json", ...at(primary), "recovery", "cancel", VOLUME, "srv-x"]),
    ]);
    expectExit(catchup, 0);
    const doc = jsonOf<{
      outcome: string;
      epoch: string;
      started: { session_kind: string; session_id: string };
    }>(catchup);
    expect(doc).toMatchObject({ outcome: "completed", epoch: "1", started: { session_kind: "catchup" } });
    expect(doc.started.session_id).toMatch(U64);
    expectExit(rebuild, 3);
    // the hint is the command to run: the replica's address and the primary's id from GetStatus
    expect(rebuild.stderr).toContain(`does not push rebuilds: `);
    expect(rebuild.stderr).toContain(
      `\n  hint: a rebuild is pulled by the copy itself: blockctl --addr ${replica.address} rebuild ${VOLUME} --epoch 1 --primary-id srv-a --primary-address ${primary.address}\n`,
    );
    expectExit(cancel, 4);
    expect(jsonOf<JsonError>(cancel).error.reason).toBe("replica_not_found");
  });

  it("rebuild: the replica pulls the primary's copy (--json summary), turns REPLICA, holds the same bytes and goes in sync", async () => {
    // Setup and checks in-process (each blockctl run is a process start); the verb under test runs for real.
    const [onPrimary, onReplica] = [new AgentApi(primary.address), new AgentApi(replica.address)];
    try {
      await Promise.all([onPrimary, onReplica].map((api) => api.allocate(REBUILT, 4 * MiB, 8 * MiB)));
      await onPrimary.assign({
        volume_id: REBUILT,
        epoch: "1",
        role: "ROLE_PRIMARY",
        lease_ttl_ms: 600_000,
        replicas: [{ server_id: "srv-b", address: replica.address }],
      });
      const image = randomBytes(MiB);
      const lastWritten = await onPrimary.writeFlushed(REBUILT, 8, image);

      const rebuild = await blockctl([
        "--json",
        ...at(replica),
        "rebuild",
        "--volume",
        REBUILT,
        ...rebuildFrom(primary.address),
        "--rate",
        "64MiB/s",
        "--timeout",
        "50s",
      ]);
      expectExit(rebuild, 0);
      expect(rebuild.stderr).toBe("");
      const doc = jsonOf<{ last_rebuild: Record<string, string | number>; mb_per_s: number | null }>(rebuild);
      expect(doc).toMatchObject({
        volume_id: REBUILT,
        epoch: "1",
        role: "replica",
        outcome: "committed",
        unchanged: false,
        primary_server_id: "srv-a",
        primary_address: primary.address,
        rate_limit_bytes_per_second: String(64 * MiB),
      });
      expect(doc.last_rebuild.total_bytes).toBe(String(4 * MiB));
      expect(BigInt(doc.last_rebuild.last_lsn as string)).toBeGreaterThanOrEqual(lastWritten);
      expect(BigInt(doc.last_rebuild.bytes_transferred as string)).toBeGreaterThanOrEqual(BigInt(4 * MiB));
      expect(doc.last_rebuild.resumes).toBe(0);
      expect(doc.last_rebuild.duration_ms).toMatch(U64);

      const [primaryBytes, replicaBytes, replicaStatus] = await Promise.all([
        onPrimary.read(REBUILT, 0, 4 * MiB),
        onReplica.read(REBUILT, 0, 4 * MiB),
        onReplica.status(REBUILT),
      ]);
      expect(replicaBytes.equals(primaryBytes)).toBe(true);
      expect(replicaBytes.subarray(8 * 4096, 8 * 4096 + MiB).equals(image)).toBe(true);
      expect(replicaStatus.role).toBe("ROLE_REPLICA");
      // Then the primary's shipper catches the copy up.
      await waitFor(
        async () => (await onPrimary.status(REBUILT)).replicas[0]?.sender_state === "SENDER_STATE_IN_SYNC",
        "the rebuilt copy in sync on the primary",
      );
    } finally {
      onPrimary.close();
      onReplica.close();
    }
  });

  it("bench: IOPS, MB/s and flush latency percentiles through WriteStream", async () => {
    const bench = await blockctl([
      "--json",
      ...at(primary),
      "bench",
      VOLUME,
      "--seconds",
      "1",
      "--concurrency",
      "4",
      "--flush-every",
      "4",
      "--writes-per-request",
      "4",
    ]);
    expectExit(bench, 0);
    const doc = jsonOf<Record<string, number | string>>(bench);
    expect(doc.writes).toBeGreaterThan(0);
    expect(doc.writes_per_request).toBe(4);
    expect(Number(doc.writes) % 4).toBe(0);
    expect(doc.flushes).toBeGreaterThan(0);
    for (const field of ["iops", "mb_per_s", "flush_p50_ms", "flush_p99_ms", "seconds"])
      expect(typeof doc[field], field).toBe("number");
    expect(doc.flush_p99_ms).toBeGreaterThanOrEqual(doc.flush_p50_ms as number);
    expect(doc.last_lsn).toMatch(U64);
  });
});
