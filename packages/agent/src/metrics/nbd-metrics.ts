// NBD frontend metrics: requests, bytes and latency per command, connections opened and closed
// (with a bounded reason), and the connections open now (read at scrape time). The volume I/O
// behind each request is also counted by the blockship_io_* metrics (the same VolumeIo path).
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { LATENCY_BUCKETS_S } from "./event-metrics";

/** Close reasons as labels: anything else is "other". */
const CLOSE_REASONS = [
  "disconnect",
  "client aborted",
  "fenced",
  "bad_magic",
  "peer closed",
  "server stopping",
];

export function nbdCloseReasonLabel(reason: string | undefined): string {
  const r = reason ?? "";
  const known = CLOSE_REASONS.find((k) => r === k || r.startsWith(`${k}:`));
  return known === undefined ? "other" : known.replace(" ", "_");
}

export class NbdMetrics {
  readonly requests: Counter<"volume" | "command" | "result">;
  readonly bytes: Counter<"volume" | "command">;
  readonly duration: Histogram<"volume" | "command">;
  readonly opened: Counter<"volume">;
  readonly closed: Counter<"volume" | "reason">;
  /** Connections per volume right now; set by the NBD frontend once it runs. */
  connectionsSource: () => ReadonlyMap<string, number> = () => new Map();

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: "blockship_nbd_requests_total",
      help: "NBD requests answered, by command (read, write, flush, trim, write_zeroes, cache) and result (ok, error).",
      labelNames: ["volume", "command", "result"],
      registers,
    });
    this.bytes = new Counter({
      name: "blockship_nbd_bytes_total",
      help: "Payload bytes of successful NBD reads and writes, by command.",
      labelNames: ["volume", "command"],
      registers,
    });
    this.duration = new Histogram({
      name: "blockship_nbd_request_duration_seconds",
      help: "Latency of successful NBD requests, header read to reply queued, by command.",
      labelNames: ["volume", "command"],
      buckets: [...LATENCY_BUCKETS_S],
      registers,
    });
    this.opened = new Counter({
      name: "blockship_nbd_connections_opened_total",
      help: "NBD connections that reached transmission, by volume (export).",
      labelNames: ["volume"],
      registers,
    });
    this.closed = new Counter({
      name: "blockship_nbd_connections_closed_total",
      help: "NBD connections closed, by reason (disconnect, fenced, bad_magic, peer_closed, server_stopping, other).",
      labelNames: ["volume", "reason"],
      registers,
    });
    const source = () => this.connectionsSource();
    const g: Gauge<"volume"> = new Gauge({
      name: "blockship_nbd_connections",
      help: "NBD connections in transmission now, by volume (export).",
      labelNames: ["volume"],
      registers,
      collect() {
        g.reset();
        for (const [volume, n] of source()) g.set({ volume }, n);
      },
    });
  }

  request(volume: string, e: { command: string; ok: boolean; bytes: number; durationMs: number }): void {
    this.requests.inc({ volume, command: e.command, result: e.ok ? "ok" : "error" });
    if (!e.ok) return;
    if (e.bytes > 0) this.bytes.inc({ volume, command: e.command }, e.bytes);
    this.duration.observe({ volume, command: e.command }, e.durationMs / 1000);
  }
}
