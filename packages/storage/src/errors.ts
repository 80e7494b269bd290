/**
 * Typed storage errors. `reason` is a stable machine-readable string that higher layers map to
 * gRPC codes; messages are for humans and may change.
 */
export type StorageErrorReason =
  | "invalid_argument"
  | "out_of_range"
  | "wal_full"
  | "wal_recycled"
  | "epoch_mismatch"
  | "epoch_regression"
  | "lsn_gap"
  | "log_mismatch"
  | "volume_closed"
  | "volume_failed"
  | "io_error"
  | "corrupt"
  | "too_small"
  | "foreign_device"
  | "truncation_unsafe"
  | "install_state"
  /** A changed-block resync is pending: the copy's image is not consistent (see README). */
  | "resync_in_progress"
  /** This copy cannot name its changes since the fork point: a full rebuild is needed. */
  | "resync_untracked"
  /** A resync step out of order (blocks or commit without a transfer in progress). */
  | "resync_state";

export class StorageError extends Error {
  readonly reason: StorageErrorReason;

  constructor(reason: StorageErrorReason, message: string, options?: { cause?: unknown }) {
    super(`${reason}: ${message}`, options);
    this.name = "StorageError";
    this.reason = reason;
  }
}

export function isStorageError(err: unknown, reason?: StorageErrorReason): err is StorageError {
  return err instanceof StorageError && (reason === undefined || err.reason === reason);
}

/** Invariant check: a failure here is a bug in this package, never bad input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`storage invariant violated: ${message}`);
}

export function wrapIoError(err: unknown, what: string): StorageError {
  if (err instanceof StorageError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new StorageError("io_error", `${what}: ${detail}`, { cause: err });
}
