// Mapping of domain errors to the canonical reasons of the wire contract (common.proto).

import { type Reason, RpcError, toRpcError } from "@blockship/rpc";
import { isStorageError, type StorageErrorReason } from "@blockship/storage";

const STORAGE_REASONS: Readonly<Record<StorageErrorReason, Reason>> = {
  invalid_argument: "invalid_argument",
  out_of_range: "out_of_range",
  wal_full: "wal_full",
  wal_recycled: "wal_recycled",
  epoch_mismatch: "epoch_mismatch",
  epoch_regression: "epoch_regression",
  lsn_gap: "needs_rebuild",
  log_mismatch: "internal",
  // A closed volume means the agent is stopping or the volume was just deleted.
  volume_closed: "shutting_down",
  volume_failed: "internal",
  io_error: "internal",
  corrupt: "internal",
  too_small: "internal",
  foreign_device: "internal",
  truncation_unsafe: "internal",
  install_state: "internal",
  resync_in_progress: "resync_in_progress",
  resync_untracked: "resync_untracked",
  resync_state: "resync_state",
};

/** Any error → RpcError with a canonical reason (storage reasons are translated). */
export function toAgentRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  if (isStorageError(err)) {
    const reason = STORAGE_REASONS[err.reason];
    const prefix = `${err.reason}: `;
    const detail = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    return new RpcError(reason, reason === err.reason ? detail : `${err.reason}: ${detail}`, { cause: err });
  }
  return toRpcError(err);
}

/** Runs fn and rethrows whatever it throws as a canonical RpcError. */
export async function mapErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toAgentRpcError(err);
  }
}

export function volumeNotFound(volumeId: string): RpcError {
  return new RpcError("volume_not_found", `no volume ${JSON.stringify(volumeId)} on this agent`);
}
