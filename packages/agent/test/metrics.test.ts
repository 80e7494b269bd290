// /metrics of real agent processes: a primary and a replica started with --metrics-listen, driven
// over gRPC (sync_all writes, a read, a trim, a flush, a refused write), scraped over HTTP and
// parsed with a strict exposition-format parser; the key series are checked against GetStatus.
import {
  closeClient,
  createControlClient,
  createVolumeClient,
  type GetStatusResponse__Output,
  type ReplicaStatus__Output,
  unary,
} from "@blockship/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/config";
import { gateReasonLabel, metricsCatalog, startMetricsServer } from "../src/metrics";
import { allocateRequest, primary, replica, tempDir, waitFor } from "./helpers";
import { type MetricFamily, parsePrometheusText, sampleValue } from "./metrics-prom-text";
import { type AgentProcess, spawnAgent } from "./process-helpers";

const BLOCK = 4096;
const WRITES = 5;
const cleanups: (() => void)[] = [];
const running: AgentProcess[] = [];
let p: AgentProcess;
let r: AgentProcess;
let pMetrics: string;
let rMetrics: string;

function metricsAddressOf(a: AgentProcess): string {
  for (const line of a.lines) {
    const msg = JSON.parse(line) as { msg?: string; metricsAddress?: unknown };
    if (msg.msg === "listening" && typeof msg.metricsAddress === "string") return msg.metricsAddress;
  }
  throw new Error(`no metricsAddress in ${a.lines.join("\n")}`);
}

async function scrape(address: string): Promise<Map<string, MetricFamily>> {
  const res = await fetch(`http://${address}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

beforeAll(async () => {
  const pd = tempDir();
  const rd = tempDir();
  cleanups.push(pd.cleanup, rd.cleanup);
  const common = ["--metrics-listen", "127.0.0.1:0", "--log-level", "warn"];
  r = await spawnAgent("replica", ["--server-id", "srv-r", "--data-dir", rd.dir, ...common]);
  running.push(r);
  p = await spawnAgent("primary", ["--server-id", "srv-p", "--data-dir", pd.dir, ...common]);
  running.push(p);
  pMetrics = metricsAddressOf(p);
  rMetrics = metricsAddressOf(r);
});

afterAll(async () => {
  for (const a of running.splice(0)) await a.stop("SIGKILL");
  for (const c of cleanups.splice(0)) c();
});

describe("/metrics of a primary + replica pair", () => {
  it("counts I/O, mirrors GetStatus LSNs, shows the replica in sync with zero lag after a flush", async () => {
    const pc = createControlClient(p.address);
    const rc = createControlClient(r.address);
    const pv = createVolumeClient(p.address);
    const rv = createVolumeClient(r.address);
    try {
      for (const c of [pc, rc])
        await unary((cb) => c.AllocateVolume(allocateRequest("v", "DURABILITY_MODE_SYNC_ALL"), cb));
      await unary((cb) => rc.ApplyAssignments({ assignments: [replica("v", 1, "srv-p")] }, cb));
      await unary((cb) =>
        pc.ApplyAssignments(
          { assignments: [primary("v", 1, { replicas: [{ server_id: "srv-r", address: r.address }] })] },
          cb,
        ),
      );
      const replicaStatus = async (): Promise<ReplicaStatus__Output | undefined> => {
        const s = await unary<GetStatusResponse__Output>((cb) => pc.GetStatus({ volume_ids: ["v"] }, cb));
        return s.report?.volumes[0]?.replicas[0];
      };
      await waitFor(async () => (await replicaStatus())?.sender_state === "SENDER_STATE_IN_SYNC", "in sync");

      for (let i = 0; i < WRITES; i++)
        await unary((cb) =>
          pv.Write({ volume_id: "v", lba: String(i), data: Buffer.alloc(BLOCK, i + 1) }, cb),
        );
      await unary((cb) => pv.Read({ volume_id: "v", lba: "0", length_bytes: 2 * BLOCK }, cb));
      await unary((cb) => pv.Trim({ volume_id: "v", lba: "8", length_bytes: String(3 * BLOCK) }, cb));
      await unary((cb) => pv.Flush({ volume_id: "v" }, cb));
      // The replica refuses client writes: an RPC error with a reason, and an I/O error.
      await expect(
        unary((cb) => rv.Write({ volume_id: "v", lba: "0", data: Buffer.alloc(BLOCK) }, cb)),
      ).rejects.toThrow(/not_primary/);

      const status = await unary<GetStatusResponse__Output>((cb) => pc.GetStatus({ volume_ids: ["v"] }, cb));
      const vs = status.report?.volumes[0];
      expect(vs?.head_lsn).toBe(String(WRITES + 1)); // 5 writes + 1 trim record
      const m = await scrape(pMetrics);
      const v = { volume: "v" };

      expect(m.get("blockship_io_ops_total")?.type).toBe("counter");
      expect(
        sampleValue(m, "blockship_io_ops_total", "blockship_io_ops_total", {
          ...v,
          op: "write",
          result: "ok",
        }),
      ).toBe(WRITES);
      expect(
        sampleValue(m, "blockship_io_ops_total", "blockship_io_ops_total", {
          ...v,
          op: "read",
          result: "ok",
        }),
      ).toBe(1);
      expect(
        sampleValue(m, "blockship_io_ops_total", "blockship_io_ops_total", {
          ...v,
          op: "trim",
          result: "ok",
        }),
      ).toBe(1);
      expect(
        sampleValue(m, "blockship_io_ops_total", "blockship_io_ops_total", {
          ...v,
          op: "flush",
          result: "ok",
        }),
      ).toBe(1);
      expect(
        sampleValue(m, "blockship_io_bytes_total", "blockship_io_bytes_total", { ...v, op: "write" }),
      ).toBe(WRITES * BLOCK);
      expect(
        sampleValue(m, "blockship_io_bytes_total", "blockship_io_bytes_total", { ...v, op: "read" }),
      ).toBe(2 * BLOCK);
      expect(
        sampleValue(m, "blockship_io_bytes_total", "blockship_io_bytes_total", { ...v, op: "trim" }),
      ).toBe(3 * BLOCK);

      const hist = "blockship_io_duration_seconds";
      expect(m.get(hist)?.type).toBe("histogram");
      expect(sampleValue(m, hist, `${hist}_count`, { ...v, op: "write" })).toBe(WRITES);
      expect(sampleValue(m, hist, `${hist}_bucket`, { ...v, op: "write", le: "+Inf" })).toBe(WRITES);
      expect(sampleValue(m, hist, `${hist}_sum`, { ...v, op: "write" })).toBeGreaterThan(0);
      const flushHist = "blockship_durable_flush_duration_seconds";
      expect(sampleValue(m, flushHist, `${flushHist}_count`, { ...v, mode: "sync_all" })).toBe(1);

      for (const [metric, wire] of [
        ["blockship_volume_head_lsn", vs?.head_lsn],
        ["blockship_volume_durable_lsn", vs?.durable_lsn],
        ["blockship_volume_committed_lsn", vs?.committed_lsn],
        ["blockship_volume_epoch", vs?.epoch],
        ["blockship_wal_size_bytes", vs?.wal_size_bytes],
      ] as const) {
        expect(m.get(metric)?.type, metric).toBe("gauge");
        expect(sampleValue(m, metric, metric, v), metric).toBe(Number(wire));
      }
      // The flusher checkpoints in the background: only bounded by the head.
      const checkpoint = sampleValue(
        m,
        "blockship_volume_checkpoint_lsn",
        "blockship_volume_checkpoint_lsn",
        v,
      );
      expect(checkpoint).toBeGreaterThanOrEqual(Number(vs?.checkpoint_lsn));
      expect(checkpoint).toBeLessThanOrEqual(Number(vs?.head_lsn));
      expect(
        sampleValue(m, "blockship_volume_role", "blockship_volume_role", { ...v, role: "primary" }),
      ).toBe(1);
      expect(
        sampleValue(m, "blockship_volume_role", "blockship_volume_role", { ...v, role: "replica" }),
      ).toBe(0);
      expect(sampleValue(m, "blockship_volume_writable", "blockship_volume_writable", v)).toBe(1);
      const used = sampleValue(m, "blockship_wal_used_ratio", "blockship_wal_used_ratio", v) ?? -1;
      expect(used).toBeGreaterThanOrEqual(0); // the flusher may have checkpointed it all already
      expect(used).toBeLessThan(1);
      expect(
        sampleValue(m, "blockship_wal_pressure", "blockship_wal_pressure", { ...v, state: "normal" }),
      ).toBe(1);
      // Group-commit fsyncs: 0 when the flusher's sync already covered the flush, so only presence.
      expect(
        sampleValue(m, "blockship_wal_fsyncs_total", "blockship_wal_fsyncs_total", v),
      ).toBeGreaterThanOrEqual(0);
      expect(m.get("blockship_wal_fsyncs_total")?.type).toBe("counter");

      const rep = { ...v, replica: "v/srv-r" };
      expect(
        sampleValue(m, "blockship_replica_state", "blockship_replica_state", { ...rep, state: "in_sync" }),
      ).toBe(1);
      expect(
        (m.get("blockship_replica_state")?.samples ?? [])
          .filter((s) => s.value === 1)
          .map((s) => s.labels.state),
      ).toEqual(["in_sync"]);
      const head = WRITES + 1;
      expect(sampleValue(m, "blockship_replica_durable_lsn", "blockship_replica_durable_lsn", rep)).toBe(
        head,
      );
      expect(sampleValue(m, "blockship_replica_shipped_lsn", "blockship_replica_shipped_lsn", rep)).toBe(
        head,
      );
      expect(sampleValue(m, "blockship_replica_received_lsn", "blockship_replica_received_lsn", rep)).toBe(
        head,
      );
      expect(sampleValue(m, "blockship_replica_lag_lsn", "blockship_replica_lag_lsn", rep)).toBe(0);
      expect(sampleValue(m, "blockship_replica_lag_bytes", "blockship_replica_lag_bytes", rep)).toBe(0);
      expect(sampleValue(m, "blockship_replica_live_eligible", "blockship_replica_live_eligible", rep)).toBe(
        1,
      );
      expect(
        sampleValue(m, "blockship_recovery_sessions", "blockship_recovery_sessions", {
          ...v,
          kind: "catchup",
        }),
      ).toBe(0);
      expect(Number((await replicaStatus())?.durable_lsn)).toBe(head);

      const writeMethod = "/blockship.v1.Volume/Write";
      expect(
        sampleValue(m, "blockship_rpc_calls_total", "blockship_rpc_calls_total", {
          method: writeMethod,
          code: "OK",
        }),
      ).toBe(WRITES);

      // The replica agent: its copy's LSNs, its role, and the refused write counted by reason.
      const rm = await scrape(rMetrics);
      expect(sampleValue(rm, "blockship_volume_head_lsn", "blockship_volume_head_lsn", v)).toBe(head);
      expect(sampleValue(rm, "blockship_volume_durable_lsn", "blockship_volume_durable_lsn", v)).toBe(head);
      expect(
        sampleValue(rm, "blockship_volume_role", "blockship_volume_role", { ...v, role: "replica" }),
      ).toBe(1);
      expect(
        sampleValue(rm, "blockship_io_ops_total", "blockship_io_ops_total", {
          ...v,
          op: "write",
          result: "error",
        }),
      ).toBe(1);
      expect(
        sampleValue(rm, "blockship_rpc_errors_total", "blockship_rpc_errors_total", {
          method: writeMethod,
          code: "FAILED_PRECONDITION",
          reason: "not_primary",
        }),
      ).toBe(1);
      expect(rm.get("blockship_replica_state")?.samples ?? []).toEqual([]);
    } finally {
      for (const c of [pc, rc, pv, rv]) closeClient(c);
    }
  });

  it("serves /healthz, answers 404 elsewhere and 405 to POST", async () => {
    expect((await fetch(`http://${pMetrics}/healthz`)).status).toBe(200);
    expect((await fetch(`http://${pMetrics}/nope`)).status).toBe(404);
    expect((await fetch(`http://${pMetrics}/metrics`, { method: "POST" })).status).toBe(405);
  });

  it("closes the metrics port on SIGTERM", async () => {
    expect(await p.stop("SIGTERM")).toBe(0);
    await expect(fetch(`http://${pMetrics}/metrics`)).rejects.toThrow();
  });
});

describe("metrics configuration and pieces", () => {
  const base = ["--server-id", "s", "--data-dir", "/tmp/x", "--insecure"];

  it("--metrics-listen / BLOCKSHIP_METRICS_LISTEN: off by default, host:port with port 0 allowed", () => {
    expect(parseConfig(base, {}).metricsListen).toBeUndefined();
    expect(parseConfig([...base, "--metrics-listen", "127.0.0.1:0"], {}).metricsListen).toBe("127.0.0.1:0");
    expect(parseConfig(base, { BLOCKSHIP_METRICS_LISTEN: "0.0.0.0:9090" }).metricsListen).toBe(
      "0.0.0.0:9090",
    );
    expect(() => parseConfig([...base, "--metrics-listen", "9090"], {})).toThrow(/--metrics-listen/);
  });

  it("a port already in use fails the start of the endpoint", async () => {
    const first = await startMetricsServer("127.0.0.1:0", metricsCatalog());
    try {
      await expect(startMetricsServer(first.address, metricsCatalog())).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });

  it("the catalog exposes every family with a help text and no volume series", async () => {
    const families = parsePrometheusText(await metricsCatalog().metrics());
    expect(families.size).toBeGreaterThan(30);
    for (const f of families.values()) {
      expect(f.name.startsWith("blockship_"), f.name).toBe(true);
      expect(f.help, f.name).not.toBe("");
    }
    expect(sampleValue(families, "blockship_volumes", "blockship_volumes")).toBe(0);
  });

  it("gate denial reasons become bounded labels", () => {
    expect(gateReasonLabel("active_catchup_session phase=catchup start=3 target=9 recovered=4")).toBe(
      "active_catchup_session",
    );
    expect(gateReasonLabel("live_tail_not_allowed lsn=12")).toBe("live_tail_not_allowed");
    expect(gateReasonLabel("Weird Reason")).toBe("other");
    expect(gateReasonLabel(undefined)).toBe("other");
  });
});

describe("the strict exposition parser", () => {
  it("rejects what a scraper rejects", () => {
    expect(() => parsePrometheusText("x 1\n")).toThrow(/no # TYPE/);
    expect(() => parsePrometheusText('# TYPE x gauge\nx{a="1} 1\n')).toThrow();
    expect(() => parsePrometheusText('# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n')).toThrow(/duplicate/);
    expect(() =>
      parsePrometheusText(
        '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      ),
    ).toThrow(/cumulative/);
    const ok = parsePrometheusText('# HELP x a \\"doc\\"\n# TYPE x gauge\nx{a="q\\"\\n"} +Inf\n');
    expect(ok.get("x")?.samples[0]).toEqual({
      name: "x",
      labels: { a: 'q"\n' },
      value: Number.POSITIVE_INFINITY,
    });
  });
});
