// The blockship demo (`npm start`): a local primary + replica agent pair on loopback, driven the
// way a master and a client would, with real data replicated and verified on the replica.
//   npm start                      keep the pair running until Ctrl-C
//   npm start -- --once            verify and stop
//   npm start -- --data-dir DIR    keep the volume files in DIR (default: a temp dir, removed at exit)
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  type ControlClient,
  closeClient,
  createControlClient,
  createVolumeClient,
  type FlushResponse__Output,
  type GetProtocolStateResponse__Output,
  type GetStatusResponse__Output,
  type ReadResponse__Output,
  unary,
  type VolumeClient,
  type WriteResponse__Output,
} from "@blockship/rpc";
import { openVolumeFile } from "@blockship/storage";
import { grpcurlCommands, nbdCommands } from "./commands";
import { type AgentChild, startAgentChild } from "./processes";

const VOLUME_ID = "demo-vol";
const PRIMARY_ID = "demo-primary";
const REPLICA_ID = "demo-replica";
const SIZE_BYTES = 64 * 1024 * 1024;
const WAL_BYTES = 16 * 1024 * 1024;
const BLOCK = 4096;
const DATA_BLOCKS = 256; // 1 MiB of real data
const LEASE_TTL_MS = 30_000;
const RENEW_EVERY_MS = 10_000;

const say = (line = ""): void => {
  process.stdout.write(`${line}\n`);
};
const step = (n: number, text: string): void => say(`\n[${n}] ${text}`);

function parse(): { once: boolean; dataDir: string | undefined } {
  const { values } = parseArgs({
    options: {
      once: { type: "boolean" },
      "data-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    say("usage: npm start [-- --once] [-- --data-dir DIR]");
    process.exit(0);
  }
  return { once: values.once === true, dataDir: values["data-dir"] };
}

async function waitUntil(cond: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function demoData(): Buffer {
  const data = Buffer.alloc(DATA_BLOCKS * BLOCK);
  for (let b = 0; b < DATA_BLOCKS; b++) {
    const block = data.subarray(b * BLOCK, (b + 1) * BLOCK);
    block.fill(b % 251);
    block.write(`blockship demo block ${b} written at ${new Date().toISOString()}\n`);
  }
  return data;
}

const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex").slice(0, 16);

async function currentEpoch(control: ControlClient): Promise<number> {
  const s = await unary<GetStatusResponse__Output>((cb) =>
    control.GetStatus({ volume_ids: [VOLUME_ID] }, cb),
  );
  return Number(s.report?.volumes[0]?.epoch ?? "0");
}

async function main(): Promise<number> {
  const opts = parse();
  const root =
    opts.dataDir === undefined ? mkdtempSync(join(tmpdir(), "blockship-demo-")) : resolve(opts.dataDir);
  const cleanupRoot = opts.dataDir === undefined;
  const agents: AgentChild[] = [];
  const clients: { close(): void }[] = [];
  let renewTimer: NodeJS.Timeout | undefined;
  let ok = false;
  try {
    say(
      "blockship demo: a primary and a replica agent on loopback, driven like a master and a client would.",
    );
    step(1, `starting the agents (data under ${root})`);
    for (const [kind, serverId] of [
      ["replica", REPLICA_ID],
      ["primary", PRIMARY_ID],
    ] as const) {
      const dataDir = join(root, kind);
      mkdirSync(dataDir, { recursive: true });
      const a = await startAgentChild({ kind, serverId, dataDir, logFile: join(root, `${kind}-agent.log`) });
      agents.push(a);
      say(
        `    ${a.name.padEnd(14)} server_id=${serverId.padEnd(13)} gRPC ${a.address}  NBD ${a.nbdAddress}  pid ${a.child.pid}  log ${a.logFile}`,
      );
    }
    const [replica, primary] = agents as [AgentChild, AgentChild];
    const pc = createControlClient(primary.address);
    const rc = createControlClient(replica.address);
    const pv: VolumeClient = createVolumeClient(primary.address);
    const rv: VolumeClient = createVolumeClient(replica.address);
    clients.push(pc, rc, pv, rv);

    step(
      2,
      `AllocateVolume ${VOLUME_ID} (${SIZE_BYTES / 1024 / 1024} MiB, ${WAL_BYTES / 1024 / 1024} MiB WAL, sync_all) on both agents`,
    );
    for (const [a, c] of [
      [primary, pc],
      [replica, rc],
    ] as const) {
      const req = {
        volume_id: VOLUME_ID,
        size_bytes: String(SIZE_BYTES),
        wal_size_bytes: String(WAL_BYTES),
        durability_mode: "DURABILITY_MODE_SYNC_ALL" as const,
      };
      const res = await unary<{ created: boolean }>((cb) => c.AllocateVolume(req, cb));
      say(`    ${a.name}: ${res.created ? "created" : "already there (same parameters)"}`);
    }

    const epoch = Math.max(await currentEpoch(pc), await currentEpoch(rc)) + 1;
    step(
      3,
      `ApplyAssignments at epoch ${epoch}, as the master would: replica first, then the primary with its replica set`,
    );
    await unary((cb) =>
      rc.ApplyAssignments(
        {
          assignments: [
            {
              volume_id: VOLUME_ID,
              epoch: String(epoch),
              role: "ROLE_REPLICA",
              primary_server_id: PRIMARY_ID,
            },
          ],
        },
        cb,
      ),
    );
    say(`    ${replica.name}: ROLE_REPLICA, accepts WAL only from ${PRIMARY_ID} at epoch ${epoch}`);
    const primaryAssignment = {
      volume_id: VOLUME_ID,
      epoch: String(epoch),
      role: "ROLE_PRIMARY" as const,
      lease_ttl_ms: LEASE_TTL_MS,
      durability_mode: "DURABILITY_MODE_SYNC_ALL" as const,
      replicas: [{ server_id: REPLICA_ID, address: replica.address }],
    };
    await unary((cb) => pc.ApplyAssignments({ assignments: [primaryAssignment] }, cb));
    say(
      `    ${primary.name}: ROLE_PRIMARY, lease ${LEASE_TTL_MS / 1000} s, replicas [${REPLICA_ID} @ ${replica.address}]`,
    );
    // Like a master: keep the lease alive (renew at TTL/3).
    renewTimer = setInterval(() => {
      pc.RenewLeases(
        { grants: [{ volume_id: VOLUME_ID, epoch: String(epoch), lease_ttl_ms: LEASE_TTL_MS }] },
        () => {},
      );
    }, RENEW_EVERY_MS);
    const again = await unary<{ results: { unchanged: boolean }[] }>((cb) =>
      pc.ApplyAssignments({ assignments: [primaryAssignment] }, cb),
    );
    say(
      `    re-delivered the same assignment: unchanged=${again.results[0]?.unchanged} (idempotent, no engine command)`,
    );

    step(4, "waiting for the replica to be in sync (handshake → phase gate open → cursor shipper streaming)");
    await waitUntil(async () => {
      const s = await unary<GetStatusResponse__Output>((cb) => pc.GetStatus({ volume_ids: [VOLUME_ID] }, cb));
      return s.report?.volumes[0]?.replicas[0]?.sender_state === "SENDER_STATE_IN_SYNC";
    }, "the replica to be in sync");
    const ps = await unary<GetProtocolStateResponse__Output>((cb) =>
      pc.GetProtocolState({ volume_id: VOLUME_ID }, cb),
    );
    for (const r of ps.replicas) {
      say(
        `    ${r.replica_id}: sender ${r.sender_state}, live_eligible=${r.live_eligible}${r.reason ? ` (${r.reason})` : ""}`,
      );
    }

    step(
      5,
      `writing ${(DATA_BLOCKS * BLOCK) / 1024} KiB of real data through Volume.Write, then Volume.Flush (sync_all)`,
    );
    const data = demoData();
    const chunk = 16 * BLOCK;
    let lastLsn = "0";
    const t0 = performance.now();
    for (let off = 0; off < data.length; off += chunk) {
      const res = await unary<WriteResponse__Output>((cb) =>
        pv.Write(
          { volume_id: VOLUME_ID, lba: String(off / BLOCK), data: data.subarray(off, off + chunk) },
          cb,
        ),
      );
      lastLsn = res.lsn;
    }
    const flush = await unary<FlushResponse__Output>((cb) => pv.Flush({ volume_id: VOLUME_ID }, cb));
    const ms = performance.now() - t0;
    say(
      `    ${data.length / chunk} writes acknowledged (last LSN ${lastLsn}); flush: durable_lsn=${flush.durable_lsn} on primary AND replica (${ms.toFixed(0)} ms)`,
    );

    step(6, "verifying: reading the same blocks back from the replica agent");
    const read = await unary<ReadResponse__Output>((cb) =>
      rv.Read({ volume_id: VOLUME_ID, lba: "0", length_bytes: data.length, allow_copy_read: true }, cb),
    );
    if (!read.data.equals(data)) throw new Error("the replica's data differs from what was written");
    say(`    replica copy matches byte for byte (sha256 ${sha(read.data)}… = written ${sha(data)}…)`);
    say(`    first block: ${JSON.stringify(read.data.subarray(0, read.data.indexOf(10)).toString())}`);

    say("\nThe pair is running. Try it (grpcurl; or buf curl as shown):");
    for (const line of grpcurlCommands(primary.address, replica.address, VOLUME_ID, epoch)) say(`  ${line}`);
    say(`\nThe primary also serves ${VOLUME_ID} as a disk over NBD (export name = volume ID):`);
    for (const line of nbdCommands(primary.nbdAddress, replica.nbdAddress, VOLUME_ID)) say(`  ${line}`);

    if (!opts.once) {
      say("\nPress Ctrl-C to stop both agents cleanly.");
      await new Promise<void>((resolveStop) => {
        process.once("SIGINT", () => resolveStop());
        process.once("SIGTERM", () => resolveStop());
      });
    }

    step(7, "stopping: SIGTERM → NOT_SERVING, drain, close volumes");
    clearInterval(renewTimer);
    for (const c of clients.splice(0)) c.close();
    for (const a of [primary, replica]) say(`    ${a.name} exited with code ${await a.stop()}`);

    step(8, "verifying the replica's device file directly (opened with storage, crash recovery included)");
    const vol = await openVolumeFile(join(replica.dataDir, "volumes", `${VOLUME_ID}.blk`));
    try {
      const onDisk = await vol.read(0, data.length);
      if (!onDisk.equals(data)) throw new Error("the replica's device does not hold the flushed data");
      say(
        `    ${join(replica.dataDir, "volumes", `${VOLUME_ID}.blk`)}: ${data.length} bytes match (epoch ${vol.epoch}, head LSN ${vol.headLsn})`,
      );
    } finally {
      await vol.close();
    }
    ok = true;
    say("\ndemo finished: the flushed data is on both copies.");
    return 0;
  } catch (err) {
    say(`\ndemo FAILED: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    clearInterval(renewTimer);
    for (const c of clients) closeClient(c as ControlClient);
    for (const a of agents) await a.stop();
    if (cleanupRoot && ok) rmSync(root, { recursive: true, force: true });
    else if (!ok) say(`(agent logs kept in ${root})`);
  }
}

process.exitCode = await main();
