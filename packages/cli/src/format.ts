// Wire messages → the CLI's JSON documents and human tables. JSON keeps the proto field names
// (snake_case), u64 values as decimal strings (exact), and enums as short lower-case names
// (`ROLE_PRIMARY` → `primary`, `DURABILITY_MODE_SYNC_ALL` → `sync_all`), the spelling the flags use.
import type {
  RebuildSummary__Output,
  ReplicaExecutionState__Output,
  ReplicaStatus__Output,
  ResyncProgress__Output,
  ResyncSummary__Output,
  StatusReport__Output,
  VolumeStatus__Output,
} from "@blockship/rpc";
import { table } from "./output";
import { formatBytes } from "./sizes";

/** `ROLE_PRIMARY` with prefix `ROLE_` → `primary`. */
export function shortEnum(value: string, prefix: string): string {
  return (value.startsWith(prefix) ? value.slice(prefix.length) : value).toLowerCase();
}

/** `primary` → `ROLE_PRIMARY`. */
export function wireEnum(short: string, prefix: string): string {
  return `${prefix}${short.toUpperCase()}`;
}

export function resyncProgressJson(r: ResyncProgress__Output | null | undefined) {
  if (r === null || r === undefined) return null;
  return {
    fork_lsn: r.fork_lsn,
    pass: r.pass,
    blocks_left: r.blocks_left,
    committed: r.committed,
    base_lsn: r.base_lsn,
    consistent_lsn: r.consistent_lsn,
    sent_blocks: r.sent_blocks,
    sent_bytes: r.sent_bytes,
  };
}

export function resyncSummaryJson(r: ResyncSummary__Output | null | undefined) {
  if (r === null || r === undefined) return null;
  return {
    base_lsn: r.base_lsn,
    consistent_lsn: r.consistent_lsn,
    passes: r.passes,
    sent_blocks: r.sent_blocks,
    sent_bytes: r.sent_bytes,
    duration_ms: r.duration_ms,
  };
}

/** `pass 2, 130 blocks left, 5.2 MB sent` (a resync in transfer) or `committed at 812 → 840`. */
export function resyncText(r: NonNullable<ReturnType<typeof resyncProgressJson>>): string {
  if (r.committed) return `resync committed at ${r.base_lsn}, catching up to ${r.consistent_lsn}`;
  return `resync pass ${r.pass}, ${r.blocks_left} blocks left, ${formatBytes(r.sent_bytes)} sent`;
}

export function replicaStatusJson(r: ReplicaStatus__Output) {
  return {
    replica_id: r.replica_id,
    server_id: r.server_id,
    address: r.address,
    sender_state: shortEnum(r.sender_state, "SENDER_STATE_"),
    shipped_lsn: r.shipped_lsn,
    durable_lsn: r.durable_lsn,
    live_eligible: r.live_eligible,
    reason: r.reason,
    resync: resyncProgressJson(r.resync),
    last_resync: resyncSummaryJson(r.last_resync),
  };
}

export function rebuildSummaryJson(r: RebuildSummary__Output) {
  return {
    base_lsn: r.base_lsn,
    last_lsn: r.last_lsn,
    total_bytes: r.total_bytes,
    bytes_transferred: r.bytes_transferred,
    resumes: r.resumes,
    duration_ms: r.duration_ms,
    resumed_from_bytes: r.resumed_from_bytes,
  };
}

export function volumeStatusJson(v: VolumeStatus__Output) {
  return {
    volume_id: v.volume_id,
    size_bytes: v.size_bytes,
    block_size: v.block_size,
    wal_size_bytes: v.wal_size_bytes,
    epoch: v.epoch,
    role: shortEnum(v.role, "ROLE_"),
    durability_mode: shortEnum(v.durability_mode, "DURABILITY_MODE_"),
    mode: shortEnum(v.mode, "VOLUME_MODE_"),
    mode_reason: v.mode_reason,
    head_lsn: v.head_lsn,
    durable_lsn: v.durable_lsn,
    committed_lsn: v.committed_lsn,
    checkpoint_lsn: v.checkpoint_lsn,
    has_lease: v.has_lease,
    lease_remaining_ms: v.lease_remaining_ms,
    writable: v.writable,
    write_block_reason: v.write_block_reason,
    wal_used_bytes: v.wal_used_bytes,
    primary_server_id: v.primary_server_id,
    rebuild_received_bytes: v.rebuild_received_bytes,
    rebuild_total_bytes: v.rebuild_total_bytes,
    rebuild_stage: v.rebuild_stage,
    rebuild_resumes: v.rebuild_resumes,
    last_rebuild: v.last_rebuild === null ? null : rebuildSummaryJson(v.last_rebuild),
    resync_phase: v.resync_phase,
    resync_fork_lsn: v.resync_fork_lsn,
    resync_consistent_lsn: v.resync_consistent_lsn,
    replicas: v.replicas.map(replicaStatusJson),
  };
}

export function statusReportJson(report: StatusReport__Output | null | undefined) {
  return {
    server_id: report?.server_id ?? "",
    seq: report?.seq ?? "0",
    at_unix_ms: report?.at_unix_ms ?? "0",
    volumes: (report?.volumes ?? []).map(volumeStatusJson),
  };
}

export function executionStateJson(s: ReplicaExecutionState__Output) {
  return {
    replica_id: s.replica_id,
    sender_state: shortEnum(s.sender_state, "SENDER_STATE_"),
    session_id: s.session_id,
    session_kind: shortEnum(s.session_kind, "SESSION_KIND_"),
    session_phase: shortEnum(s.session_phase, "SESSION_PHASE_"),
    start_lsn: s.start_lsn,
    target_lsn: s.target_lsn,
    frozen_target_lsn: s.frozen_target_lsn,
    recovered_to: s.recovered_to,
    session_active: s.session_active,
    live_eligible: s.live_eligible,
    reason: s.reason,
    resync: resyncProgressJson(s.resync),
  };
}

type VolumeJson = ReturnType<typeof volumeStatusJson>;
type ReportJson = ReturnType<typeof statusReportJson>;

function leaseText(v: VolumeJson): string {
  if (v.role !== "primary") return "-";
  return v.has_lease ? `${Math.ceil(v.lease_remaining_ms / 1000)}s` : "expired";
}

/** The status table: one line per volume, then one indented line per replica. */
export function statusTable(report: ReportJson): string {
  const rows: string[][] = [];
  for (const v of report.volumes) {
    rows.push([
      v.volume_id,
      v.role,
      v.epoch,
      v.mode,
      v.durability_mode,
      formatBytes(v.size_bytes),
      v.head_lsn,
      v.durable_lsn,
      v.committed_lsn,
      v.writable ? "yes" : `no (${v.write_block_reason})`,
      leaseText(v),
    ]);
    for (const r of v.replicas) {
      const gate = r.live_eligible ? "" : " gated";
      const why = r.reason === "" ? "" : ` ${r.reason}`;
      rows.push([
        `  └ ${r.server_id}`,
        r.address,
        "",
        `${r.sender_state}${gate}`,
        "",
        "",
        r.shipped_lsn,
        r.durable_lsn,
        "",
        why.trim(),
        "",
      ]);
    }
  }
  const header = [
    "VOLUME",
    "ROLE",
    "EPOCH",
    "MODE",
    "DURABILITY",
    "SIZE",
    "HEAD",
    "DURABLE",
    "COMMITTED",
    "WRITABLE",
    "LEASE",
  ];
  const title = `agent ${report.server_id} · report ${report.seq} · ${report.volumes.length} volume(s)`;
  if (report.volumes.length === 0) return `${title}\n(no volumes)`;
  return `${title}\n${table(header, rows)}`;
}

export function protocolStateTable(doc: {
  volume_id: string;
  epoch: string;
  role: string;
  replicas: ReturnType<typeof executionStateJson>[];
}): string {
  const title = `volume ${doc.volume_id} · epoch ${doc.epoch} · ${doc.role}`;
  if (doc.replicas.length === 0) return `${title}\n(no replicas)`;
  const rows = doc.replicas.map((r) => [
    r.replica_id,
    r.sender_state,
    r.session_id === "0"
      ? "-"
      : `${r.session_kind}#${r.session_id} ${r.session_phase}${r.resync === null || r.resync.committed ? "" : ` pass ${r.resync.pass} left ${r.resync.blocks_left}`}`,
    `${r.start_lsn}..${r.target_lsn}`,
    r.recovered_to,
    r.live_eligible ? "live" : "gated",
    r.reason,
  ]);
  return `${title}\n${table(["REPLICA", "SENDER", "SESSION", "START..TARGET", "RECOVERED", "GATE", "REASON"], rows)}`;
}
