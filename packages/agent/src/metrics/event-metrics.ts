// Metrics counted where things happen: client I/O, durable flushes, gate denials, RPC calls.
// Everything here is an event (a counter or a histogram observation); state is read at scrape
// time by the collectors in state-collectors.ts.
import { status as grpcStatus } from "@grpc/grpc-js";
import { Counter, Histogram, type Registry } from "prom-client";

export const IO_OPS = ["write", "read", "trim", "flush"] as const;
export type IoOp = (typeof IO_OPS)[number];

/** Seconds: 50 µs .. ~3.3 s (x2 steps) — fsync and barrier round trips land in the middle. */
export const LATENCY_BUCKETS_S: readonly number[] = Array.from({ length: 17 }, (_, i) => 0.00005 * 2 ** i);

/** A gate denial reason is `<token> detail…`; only the token is a label (bounded cardinality). */
export function gateReasonLabel(reason: string | undefined): string {
  const token = (reason ?? "").split(/\s/, 1)[0] ?? "";
  return /^[a-z_]{1,64}$/.test(token) ? token : "other";
}

/** A stable RPC failure reason label: the agent's reasons are `[a-z_]+`; anything else is "other". */
export function rpcReasonLabel(reason: string | undefined): string {
  if (reason === undefined || reason === "") return "none";
  return /^[a-z_]{1,64}$/.test(reason) ? reason : "other";
}

export class EventMetrics {
  readonly ioOps: Counter<"volume" | "op" | "result">;
  readonly ioBytes: Counter<"volume" | "op">;
  readonly ioDuration: Histogram<"volume" | "op">;
  readonly durableFlushDuration: Histogram<"volume" | "mode">;
  readonly durableFlushFailures: Counter<"volume" | "mode" | "reason">;
  readonly gateDenials: Counter<"volume" | "replica" | "reason">;
  readonly rpcCalls: Counter<"method" | "code">;
  readonly rpcErrors: Counter<"method" | "code" | "reason">;
  readonly rpcDuration: Histogram<"method">;
  readonly processGuardEvents: Counter<"kind" | "action">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.ioOps = new Counter({
      name: "blockship_io_ops_total",
      help: "Client I/O operations finished (Write, WriteStream writes, Read, Trim, Flush) by op and result (ok, error).",
      labelNames: ["volume", "op", "result"],
      registers,
    });
    this.ioBytes = new Counter({
      name: "blockship_io_bytes_total",
      help: "Bytes of successful client I/O by op (write, read, trim).",
      labelNames: ["volume", "op"],
      registers,
    });
    this.ioDuration = new Histogram({
      name: "blockship_io_duration_seconds",
      help: "Latency of successful client I/O operations, write gate to acknowledgement.",
      labelNames: ["volume", "op"],
      buckets: [...LATENCY_BUCKETS_S],
      registers,
    });
    this.durableFlushDuration = new Histogram({
      name: "blockship_durable_flush_duration_seconds",
      help: "Successful durable flushes: local fsync, plus the replica barrier round trip in sync_all/sync_quorum.",
      labelNames: ["volume", "mode"],
      buckets: [...LATENCY_BUCKETS_S],
      registers,
    });
    this.durableFlushFailures = new Counter({
      name: "blockship_durable_flush_failures_total",
      help: "Durable flushes that failed (e.g. durability_barrier_failed, durability_quorum_lost) by reason.",
      labelNames: ["volume", "mode", "reason"],
      registers,
    });
    this.gateDenials = new Counter({
      name: "blockship_gate_denials_total",
      help: "Live-shipping policy answers that denied a replica the live tail, by reason token.",
      labelNames: ["volume", "replica", "reason"],
      registers,
    });
    this.rpcCalls = new Counter({
      name: "blockship_rpc_calls_total",
      help: "gRPC calls served, by full method and status code name.",
      labelNames: ["method", "code"],
      registers,
    });
    this.rpcErrors = new Counter({
      name: "blockship_rpc_errors_total",
      help: "gRPC calls that failed, by full method, status code name and stable reason.",
      labelNames: ["method", "code", "reason"],
      registers,
    });
    this.rpcDuration = new Histogram({
      name: "blockship_rpc_duration_seconds",
      help: "gRPC call duration from arrival to status, by full method.",
      labelNames: ["method"],
      buckets: [...LATENCY_BUCKETS_S],
      registers,
    });
    this.processGuardEvents = new Counter({
      name: "blockship_process_guard_events_total",
      help: "Unhandled rejections and uncaught exceptions caught by the process guard, by kind and action (volume_failed, logged). Any increase is a bug.",
      labelNames: ["kind", "action"],
      registers,
    });
  }

  /** One client I/O operation finished; bytes only count on success. */
  io(volume: string, op: IoOp, ok: boolean, durationMs: number, bytes: number): void {
    this.ioOps.inc({ volume, op, result: ok ? "ok" : "error" });
    if (!ok) return;
    if (op !== "flush") this.ioBytes.inc({ volume, op }, bytes);
    this.ioDuration.observe({ volume, op }, durationMs / 1000);
  }

  /** Times a client I/O operation; `bytesOf` reads the byte count (reads know it from the result). */
  async timeIo<T>(volume: string, op: IoOp, bytes: number, run: () => Promise<T>): Promise<T> {
    const startedMs = performance.now();
    try {
      const out = await run();
      this.io(volume, op, true, performance.now() - startedMs, bytes);
      return out;
    } catch (err) {
      this.io(volume, op, false, performance.now() - startedMs, 0);
      throw err;
    }
  }

  durableFlush(volume: string, mode: string, durationMs: number, failureReason?: string): void {
    if (failureReason === undefined) this.durableFlushDuration.observe({ volume, mode }, durationMs / 1000);
    else this.durableFlushFailures.inc({ volume, mode, reason: rpcReasonLabel(failureReason) });
  }

  gateDenied(volume: string, replica: string, reason: string | undefined): void {
    this.gateDenials.inc({ volume, replica, reason: gateReasonLabel(reason) });
  }

  processGuard(kind: string, action: string): void {
    this.processGuardEvents.inc({ kind, action });
  }

  rpcCall(e: { method: string; code: number; reason: string | undefined; durationMs: number }): void {
    const code = grpcStatus[e.code] ?? String(e.code);
    this.rpcCalls.inc({ method: e.method, code });
    this.rpcDuration.observe({ method: e.method }, e.durationMs / 1000);
    if (e.code !== grpcStatus.OK)
      this.rpcErrors.inc({ method: e.method, code, reason: rpcReasonLabel(e.reason) });
  }
}
