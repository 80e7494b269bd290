// The orchestration log: every lifecycle step, with the reference's event names verbatim.
// Bounded (oldest entries drop first) so a long-running agent cannot grow it without limit.

export const LOG_EVENTS = [
  "sender_added",
  "sender_removed",
  "session_created",
  "session_superseded",
  "session_failed",
  "session_unchanged",
  "session_invalidated",
  "connect_failed",
  "connected",
  "handshake_failed",
  "handshake",
  "escalated",
  "completed",
  "budget_escalated",
  "completion_rejected",
  "rebuild_completed",
  "plan_catchup",
  "plan_zero_gap",
  "wal_pin_failed",
  "plan_rebuild_snapshot_tail",
  "plan_rebuild_full_base",
  "snapshot_pin_failed",
  "wal_pin_failed_during_rebuild",
  "full_base_pin_failed",
  "plan_cancelled",
  "exec_catchup_started",
  "exec_completed",
  "exec_failed",
  "exec_resources_released",
  "exec_rebuild_started",
  "exec_rebuild_completed",
  "plan_resync",
  "exec_resync_started",
  "exec_resync_committed",
  "exec_resync_completed",
] as const;
export type LogEventName = (typeof LOG_EVENTS)[number];

export interface LogEntry {
  readonly seq: number;
  readonly replicaId: string;
  readonly event: LogEventName;
  readonly detail: string;
}

export const DEFAULT_LOG_CAPACITY = 1024;

export class RecoveryLog {
  private readonly entries: LogEntry[] = [];
  private nextSeq = 1;
  private readonly capacity: number;

  constructor(capacity = DEFAULT_LOG_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`log capacity ${capacity}`);
    this.capacity = capacity;
  }

  record(replicaId: string, event: LogEventName, detail = ""): void {
    this.entries.push(Object.freeze({ seq: this.nextSeq, replicaId, event, detail }));
    this.nextSeq += 1;
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  all(): readonly LogEntry[] {
    return [...this.entries];
  }

  forReplica(replicaId: string): readonly LogEntry[] {
    return this.entries.filter((e) => e.replicaId === replicaId);
  }

  has(event: LogEventName, replicaId?: string): boolean {
    return this.entries.some(
      (e) => e.event === event && (replicaId === undefined || e.replicaId === replicaId),
    );
  }

  /** Entries dropped because of the capacity bound. */
  dropped(): number {
    return this.nextSeq - 1 - this.entries.length;
  }
}
