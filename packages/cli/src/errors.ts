// Error → exit code, message and hint. Every failure the CLI reports goes through `CliError`,
// so the exit code, the human text and the --json error object always agree.
import { detailOf, grpcCodeOf, reasonOf } from "@blockship/rpc";
import { ExitCode, type ExitCodeValue } from "./exit-codes";
import { ArgumentError } from "./sizes";

/** gRPC status code names (grpc-js `status` values), so JSON errors carry a readable code. */
export const GRPC_CODE_NAMES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;

const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;

/** What `blockctl --json` prints on failure: `{"error": CliErrorJson}`. */
export interface CliErrorJson {
  /** The process exit code. */
  exit_code: number;
  /** gRPC code name when the agent answered (e.g. "FAILED_PRECONDITION"), else "USAGE", "MISMATCH", "LOCAL". */
  code: string;
  /** The agent's machine-readable reason (e.g. "not_primary"), or a CLI reason ("usage", "unreachable", "data_mismatch"). */
  reason: string;
  message: string;
  /** What to do about it. */
  hint: string;
}

export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    readonly exitCode: ExitCodeValue,
    readonly code: string,
    readonly reason: string,
    message: string,
    readonly hint = "",
  ) {
    super(message);
  }

  toJson(): CliErrorJson {
    return {
      exit_code: this.exitCode,
      code: this.code,
      reason: this.reason,
      message: this.message,
      hint: this.hint,
    };
  }
}

export function usageError(message: string, hint = "see blockctl <verb> --help"): CliError {
  return new CliError(ExitCode.USAGE, "USAGE", "usage", message, hint);
}

/** What the failed call was about, for messages that name the agent and the volume. */
export interface ErrorContext {
  readonly addr: string;
  readonly volumeId?: string;
  readonly timeoutMs?: number;
  /** Facts fetched after the failure (GetStatus), to say what the current epoch/role is. */
  readonly currentEpoch?: string;
  readonly currentRole?: string;
}

/** A failed RPC (a grpc-js ServiceError) or any other thrown value → CliError. */
export function toCliError(err: unknown, ctx: ErrorContext): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof ArgumentError) return usageError(err.message);
  const code = grpcCodeOf(err);
  if (code === undefined) {
    const message = err instanceof Error ? err.message : String(err);
    return new CliError(ExitCode.INTERNAL, "LOCAL", "local_error", message, "");
  }
  return classify(code, reasonOf(err), detailOf(err), ctx);
}

/**
 * A failure shaped like a grpc-js ServiceError (`code`, `details` = "reason: detail"): per-item
 * results of batch RPCs and facts the CLI derives itself go through the same mapping as RPC errors.
 */
export class RpcFailure extends Error {
  readonly details: string;
  constructor(
    readonly code: number,
    reason: string,
    detail: string,
  ) {
    super(reason === "" ? detail : `${reason}: ${detail}`);
    this.details = this.message;
  }

  /** A non-OK ItemStatus of ApplyAssignments/RenewLeases. */
  static ofItem(status: { code: number; reason: string; message: string }): RpcFailure {
    return new RpcFailure(status.code, status.reason, status.message);
  }
}

/** grpc-js/OpenSSL words in a failed connection that point at certificates or TLS. */
const TLS_TROUBLE = /certificate|ssl|tls|handshake|alert|self.signed|unable to verify|wrong version number/i;

/** The one mapping from (gRPC code, reason) to exit code, message and hint. */
export function classify(
  code: number,
  reason: string | undefined,
  detail: string,
  ctx: ErrorContext,
): CliError {
  const codeName = GRPC_CODE_NAMES[code] ?? `CODE_${code}`;
  const vol = ctx.volumeId === undefined ? "the volume" : `volume ${ctx.volumeId}`;
  const at = ctx.addr;
  const make = (exit: ExitCodeValue, message: string, hint: string) =>
    new CliError(exit, codeName, reason ?? codeName.toLowerCase(), message, hint);

  if (reason === undefined && code === UNAVAILABLE) {
    return new CliError(
      ExitCode.UNREACHABLE,
      codeName,
      "unreachable",
      `cannot reach agent at ${at}: ${detail.replace(/\.?\s*Resolution note:.*$/s, "").trim()}`,
      TLS_TROUBLE.test(detail)
        ? "TLS: --tls-ca must be the CA of the agent's certificate, a mutual-TLS agent needs --tls-cert/--tls-key from its CA, a plaintext agent needs --insecure"
        : "is it running? point blockctl at it with --addr host:port or BLOCKSHIP_ADDR",
    );
  }
  if (reason === undefined && code === DEADLINE_EXCEEDED) {
    const within = ctx.timeoutMs === undefined ? "" : ` within ${ctx.timeoutMs} ms`;
    return new CliError(
      ExitCode.UNREACHABLE,
      codeName,
      "deadline_exceeded",
      `agent at ${at} did not answer${within}`,
      "is it running and reachable? raise --timeout-ms for slow operations",
    );
  }
  const epochNow = ctx.currentEpoch === undefined ? "" : ` (now epoch ${ctx.currentEpoch})`;
  switch (reason) {
    case "volume_not_found":
      return make(
        ExitCode.NOT_FOUND,
        `${vol} not found on ${at}`,
        "allocate it first (blockctl allocate VOLUME --size SIZE) or check --addr; blockctl status lists the volumes",
      );
    case "replica_not_found":
      return make(
        ExitCode.NOT_FOUND,
        `replica not in the replica set of ${vol} on ${at}: ${detail}`,
        "blockctl status VOLUME lists the replicas; assign the primary with --replica serverId=host:port",
      );
    case "not_primary": {
      const role = ctx.currentRole === undefined ? "" : ` (it is ${ctx.currentRole} there)`;
      return make(
        ExitCode.REJECTED,
        `${vol} is not PRIMARY on ${at}${role}`,
        "send writes to the primary (blockctl status shows roles), or assign this agent --role primary",
      );
    }
    case "epoch_stale":
      return make(
        ExitCode.REJECTED,
        `epoch mismatch for ${vol} on ${at}${epochNow}: ${detail}`,
        "the master moved the volume to another epoch: use the current epoch (blockctl status VOLUME) or re-assign",
      );
    case "lease_expired":
      return make(
        ExitCode.REJECTED,
        `the write lease of ${vol} on ${at} expired`,
        "renew the lease: blockctl renew VOLUME --epoch N --ttl-ms MS (or re-assign the primary)",
      );
    case "epoch_regression":
      return make(
        ExitCode.REJECTED,
        `epoch regression for ${vol} on ${at}${epochNow}: ${detail}`,
        "an epoch may only stay or grow: use an epoch >= the volume's current one (blockctl status VOLUME)",
      );
    case "invalid_role_transition":
      return make(
        ExitCode.REJECTED,
        `role change refused for ${vol} on ${at}: ${detail}`,
        "allowed: NONE→PRIMARY|REPLICA|REBUILDING, PRIMARY→DRAINING|STALE, REPLICA→PRIMARY, STALE→REPLICA|REBUILDING",
      );
    case "volume_exists":
      return make(
        ExitCode.REJECTED,
        `${vol} already exists on ${at} with other parameters: ${detail}`,
        "repeat the original size/block size/WAL size/durability, or blockctl delete it first",
      );
    case "durability_barrier_failed":
    case "durability_quorum_lost":
      return make(
        ExitCode.DURABILITY,
        `flush of ${vol} on ${at} was NOT confirmed: ${detail}`,
        "writes since the last successful flush are not durable under the volume's mode; check the replicas (blockctl status VOLUME) and flush again",
      );
    case "shutting_down":
      return make(
        ExitCode.UNREACHABLE,
        `agent at ${at} is shutting down`,
        "retry later, or on the agent that takes over",
      );
    case "wal_full":
      return make(
        ExitCode.REJECTED,
        `the WAL of ${vol} on ${at} stayed full: ${detail}`,
        "slow down writers and check for a lagging replica pinning the WAL (blockctl status VOLUME)",
      );
    case "needs_rebuild":
      return make(
        ExitCode.REJECTED,
        `${detail}`,
        "the replica is too far behind for catch-up: it needs a rebuild",
      );
    case "unimplemented":
      return make(
        ExitCode.REJECTED,
        `not implemented by the agent at ${at}: ${detail}`,
        "this agent version does not support it (catch-up works: --kind catchup)",
      );
    case "rebuild_by_assignment":
      return make(
        ExitCode.REJECTED,
        `the primary at ${at} does not push rebuilds: ${detail}`,
        `a rebuild is pulled by the copy itself: blockctl --addr REPLICA_AGENT rebuild VOLUME --epoch N --primary-id ID --primary-address ${at} (it pulls the image, then turns REPLICA)`,
      );
    case "unauthenticated_peer":
      return make(
        ExitCode.REJECTED,
        `the agent at ${at} refused this client's identity: ${detail}`,
        "Control needs a certificate whose identity (Subject CN) is in the agent's --control-allowed-identities: pass the master's --tls-cert/--tls-key",
      );
    case "invalid_argument":
      return make(ExitCode.USAGE, `the agent rejected an argument: ${detail}`, "see blockctl <verb> --help");
    case "out_of_range":
      return make(
        ExitCode.USAGE,
        `outside ${vol}: ${detail}`,
        "LBAs count blocks; blockctl status VOLUME shows the size and block size",
      );
    default:
      break;
  }
  if (code === 3 || code === 11) return make(ExitCode.USAGE, detail, "see blockctl <verb> --help");
  if (code === 5) return make(ExitCode.NOT_FOUND, detail, "");
  if (code === 9 || code === 6 || code === 7 || code === 8 || code === 10 || code === 12) {
    return make(ExitCode.REJECTED, detail, "");
  }
  if (code === UNAVAILABLE || code === DEADLINE_EXCEEDED) return make(ExitCode.UNREACHABLE, detail, "");
  return make(ExitCode.INTERNAL, `agent at ${at} failed: ${detail}`, "see the agent's log");
}
