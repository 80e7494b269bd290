import { grpcCodeOf, reasonOf } from "@blockship/rpc";
import { isStorageError } from "@blockship/storage";
import { status } from "@grpc/grpc-js";
import { messageOf } from "./errors";

/**
 * Why a rebuild pull failed. `reason` is stable and machine-readable:
 * - `cancelled`: the caller's AbortSignal fired;
 * - `protocol_violation`: the primary sent something inconsistent (offset gap, wrong size, base
 *   changed mid-image, tail before the image was complete, Done that disagrees);
 * - `chunk_checksum_mismatch`: an image chunk's data does not match its CRC-32 (not staged; the
 *   pull resumes from the last stored offset within the retry budget);
 * - the primary's reason when it refused (`not_primary`, `epoch_mismatch`, `unauthenticated_peer`,
 *   `volume_not_found`, `invalid_argument`, `out_of_range`, `wal_recycled`, ...);
 * - `unavailable` / `deadline_exceeded` / `idle_timeout`: the connection kept failing;
 * - a storage reason (`io_error`, `install_state`, `epoch_regression`, ...) when the local install failed.
 */
export class RebuildError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly attempts = 0,
    options?: { cause?: unknown },
  ) {
    super(`${reason}: ${message}`, options);
    this.name = "RebuildError";
  }
}

export function isRebuildError(err: unknown, reason?: string): err is RebuildError {
  return err instanceof RebuildError && (reason === undefined || err.reason === reason);
}

/** How the puller reacts to a failed attempt. */
export type AttemptVerdict =
  /** Retry from the last stored offset with the same base. */
  | "resume"
  /** The stored image cannot be continued: discard it and start from offset 0. */
  | "restart"
  /** Retrying cannot help. */
  | "fatal";

/** The primary's refusals that no retry at this address fixes (the agent decides what next). */
const FATAL_REMOTE = new Set([
  "not_primary",
  "unauthenticated_peer",
  "volume_not_found",
  "invalid_argument",
  "out_of_range",
  "unimplemented",
]);

/** The puller's own reasons: a changed base or epoch starts over; a broken stream resumes. */
const LOCAL_VERDICTS: Readonly<Record<string, AttemptVerdict>> = {
  base_changed: "restart",
  epoch_changed: "restart",
  idle_timeout: "resume",
  chunk_checksum_mismatch: "resume",
  unavailable: "resume",
};

/** Classifies an error of one attempt (remote status, local install failure, or our own check). */
export function classifyAttemptError(err: unknown): {
  verdict: AttemptVerdict;
  reason: string;
  message: string;
} {
  if (err instanceof RebuildError) {
    const verdict: AttemptVerdict = LOCAL_VERDICTS[err.reason] ?? "fatal";
    return { verdict, reason: err.reason, message: messageOf(err) };
  }
  if (isStorageError(err)) return { verdict: "fatal", reason: err.reason, message: messageOf(err) };
  const code = grpcCodeOf(err);
  if (code === undefined) return { verdict: "fatal", reason: "internal", message: messageOf(err) };
  const reason = reasonOf(err) ?? statusName(code);
  if (reason === "wal_recycled") return { verdict: "restart", reason, message: messageOf(err) };
  if (FATAL_REMOTE.has(reason)) return { verdict: "fatal", reason, message: messageOf(err) };
  return { verdict: "resume", reason, message: messageOf(err) };
}

function statusName(code: number): string {
  const name = status[code];
  return typeof name === "string" ? name.toLowerCase() : `grpc_${code}`;
}
