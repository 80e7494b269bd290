// Shared vocabulary of the protocol engine. LSNs and epochs are u64 on the wire, so they are bigint here:
// a lossy `number` would silently corrupt recovery targets above 2^53.

/** Log sequence number (u64). 0 = none; the first real LSN is 1. */
export type Lsn = bigint;
/** Authority generation from the master (u64); only ever moves up. */
export type Epoch = bigint;
/** Positive, never reused within one engine instance. 0 = "no session". */
export type SessionId = number;
/** Caller-supplied logical time in milliseconds (the engine never reads a clock). */
export type TimeMs = number;

export const U64_MAX: bigint = (1n << 64n) - 1n;

/** Per-replica sender state. `degraded` is only ever set from outside. */
export const REPLICA_STATES = [
  "disconnected",
  "connecting",
  "catching_up",
  "in_sync",
  "degraded",
  "needs_rebuild",
] as const;
export type ReplicaState = (typeof REPLICA_STATES)[number];

/**
 * Recovery session kinds. `bootstrap` and `reassign` behave like catch-up; `rebuild` owns the rebuild
 * sub-FSM; a catch-up-like session becomes `resync` when its handshake plans a changed-block resync.
 */
export const SESSION_KINDS = ["catchup", "rebuild", "bootstrap", "reassign", "resync"] as const;
export type SessionKind = (typeof SESSION_KINDS)[number];

export const SESSION_PHASES = [
  "init",
  "connecting",
  "handshake",
  /** Resync only: changed blocks are being sent (no WAL range yet). */
  "transfer",
  "catchup",
  "completed",
  "invalidated",
] as const;
export type SessionPhase = (typeof SESSION_PHASES)[number];

export const REBUILD_SOURCES = ["snapshot_tail", "full_base"] as const;
export type RebuildSource = (typeof REBUILD_SOURCES)[number];

export const REBUILD_PHASES = [
  "init",
  "source_select",
  "transfer",
  "tail_replay",
  "completed",
  "aborted",
] as const;
export type RebuildPhase = (typeof REBUILD_PHASES)[number];

export type RecoveryOutcome = "zero_gap" | "catchup" | "resync" | "needs_rebuild";

/** Where a replica lives. Identity is the replica ID, never this. */
export interface Endpoint {
  readonly dataAddr: string;
  readonly ctrlAddr: string;
  /** The master's address-version counter (bumped on address change). */
  readonly version: number;
}

export function endpointChanged(a: Endpoint, b: Endpoint): boolean {
  return a.dataAddr !== b.dataAddr || a.ctrlAddr !== b.ctrlAddr || a.version !== b.version;
}

/** Stable machine-readable error codes of the engine's guarded APIs. */
export type ProtocolErrorCode =
  | "sender_stopped"
  | "no_active_session"
  | "session_id_mismatch"
  | "session_not_active"
  | "epoch_mismatch"
  | "session_already_active"
  | "invalid_phase"
  | "invalid_range"
  | "wrong_session_kind"
  | "progress_regression"
  | "exceeds_frozen_target"
  | "tick_required"
  | "rebuild_not_ready"
  | "base_incomplete"
  | "unknown_replica"
  | "wrong_volume"
  | "invalid_argument";

/** Thrown by guarded APIs; a rejected call never changes state. */
export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;
  constructor(code: ProtocolErrorCode, detail?: string) {
    super(detail === undefined ? code : `${code}: ${detail}`);
    this.name = "ProtocolError";
    this.code = code;
  }
}

/** Internal invariant check: a failure is a bug in the engine, not a protocol rejection. */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`engine invariant violated: ${message}`);
}

export function maxLsn(a: Lsn, b: Lsn): Lsn {
  return a > b ? a : b;
}

export function minLsn(a: Lsn, b: Lsn): Lsn {
  return a < b ? a : b;
}

export function assertU64(value: bigint, what: string): void {
  if (value < 0n || value > U64_MAX) throw new ProtocolError("invalid_argument", `${what} out of u64 range`);
}
