// Typed errors of the data plane. `reason` is the stable machine-readable string that
// @blockship/rpc's toRpcError maps to a gRPC code (see common.proto's table); messages are for humans.

export type ReplicationErrorReason =
  | "durability_barrier_failed"
  | "durability_quorum_lost"
  | "epoch_mismatch"
  | "unauthenticated_peer"
  | "needs_rebuild"
  | "invalid_argument"
  | "volume_not_found"
  | "not_replica"
  | "shutting_down"
  | "internal";

export class ReplicationError extends Error {
  readonly reason: ReplicationErrorReason;

  constructor(reason: ReplicationErrorReason, message: string, options?: { cause?: unknown }) {
    super(`${reason}: ${message}`, options);
    this.name = "ReplicationError";
    this.reason = reason;
  }
}

export function isReplicationError(err: unknown, reason?: ReplicationErrorReason): err is ReplicationError {
  return err instanceof ReplicationError && (reason === undefined || err.reason === reason);
}

/** Invariant check: a failure here is a bug in this package, never bad input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`replication invariant violated: ${message}`);
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
