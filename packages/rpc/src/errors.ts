import { Metadata, type ServiceError, status } from "@grpc/grpc-js";

// Error mapping. Every failed RPC carries a canonical gRPC code and a stable
// machine-readable reason, in two places a client can read without our protos:
// the status message starts with `<reason>: ` and trailing metadata `reason` holds it.
// The table below is the canonical list; proto/blockship/v1/common.proto repeats it
// for `grpcurl describe` readers. Keep both in sync (a test checks it).

export const REASON_CODES = {
  invalid_argument: status.INVALID_ARGUMENT,
  volume_not_found: status.NOT_FOUND,
  volume_exists: status.ALREADY_EXISTS,
  replica_not_found: status.NOT_FOUND,
  epoch_regression: status.FAILED_PRECONDITION,
  invalid_role_transition: status.FAILED_PRECONDITION,
  not_primary: status.FAILED_PRECONDITION,
  not_replica: status.FAILED_PRECONDITION,
  epoch_stale: status.FAILED_PRECONDITION,
  lease_expired: status.FAILED_PRECONDITION,
  needs_rebuild: status.FAILED_PRECONDITION,
  wal_recycled: status.FAILED_PRECONDITION,
  rebuild_by_assignment: status.FAILED_PRECONDITION,
  resync_untracked: status.FAILED_PRECONDITION,
  resync_in_progress: status.FAILED_PRECONDITION,
  resync_state: status.FAILED_PRECONDITION,
  resync_passes_exceeded: status.ABORTED,
  checksum_mismatch: status.DATA_LOSS,
  epoch_mismatch: status.ABORTED,
  unauthenticated_peer: status.PERMISSION_DENIED,
  durability_barrier_failed: status.UNAVAILABLE,
  durability_quorum_lost: status.UNAVAILABLE,
  shutting_down: status.UNAVAILABLE,
  wal_full: status.RESOURCE_EXHAUSTED,
  out_of_range: status.OUT_OF_RANGE,
  drain_timeout: status.DEADLINE_EXCEEDED,
  deadline_exceeded: status.DEADLINE_EXCEEDED,
  unimplemented: status.UNIMPLEMENTED,
  internal: status.INTERNAL,
} as const satisfies Record<string, status>;

export type Reason = keyof typeof REASON_CODES;

/** Trailing-metadata key that carries the reason. */
export const REASON_METADATA_KEY = "reason";

const REASON_SHAPE = /^[a-z][a-z0-9_]{0,63}$/;

export function isReason(value: unknown): value is Reason {
  return typeof value === "string" && Object.hasOwn(REASON_CODES, value);
}

/** The canonical gRPC code of a reason. */
export function codeOf(reason: Reason): status {
  return REASON_CODES[reason];
}

/**
 * An error a handler throws or passes to a callback; grpc-js sends it as the status
 * (`code`, `details`, `metadata`). `details` = `<reason>: <detail>`.
 */
export class RpcError extends Error implements ServiceError {
  readonly code: status;
  readonly details: string;
  readonly metadata: Metadata;
  readonly reason: string;

  constructor(reason: Reason, detail: string, options?: { cause?: unknown });
  /** A reason outside the canonical table, with an explicit code (see `fromDomainError`). */
  constructor(reason: string, detail: string, options: { code: status; cause?: unknown });
  constructor(reason: string, detail: string, options?: { code?: status; cause?: unknown }) {
    const details = `${reason}: ${detail}`;
    super(details, options?.cause === undefined ? undefined : { cause: options.cause });
    if (!REASON_SHAPE.test(reason)) throw new TypeError(`malformed reason ${JSON.stringify(reason)}`);
    this.name = "RpcError";
    this.reason = reason;
    this.code = options?.code ?? (isReason(reason) ? REASON_CODES[reason] : status.INTERNAL);
    this.details = details;
    this.metadata = new Metadata();
    this.metadata.set(REASON_METADATA_KEY, reason);
  }
}

export function rpcError(reason: Reason, detail: string): RpcError {
  return new RpcError(reason, detail);
}

/**
 * Maps anything a handler caught to an RpcError:
 * - an RpcError passes through;
 * - a domain error with a `reason` string property maps to that reason's code (a reason
 *   outside the table keeps its name and becomes INTERNAL, so it is visible and can be added);
 * - anything else becomes `internal` with the error's message.
 */
export function toRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const reason = reasonProperty(err);
  if (reason !== undefined) {
    const detail = stripReasonPrefix(message, reason);
    if (isReason(reason)) return new RpcError(reason, detail, { cause: err });
    if (REASON_SHAPE.test(reason)) return new RpcError(reason, detail, { code: status.INTERNAL, cause: err });
  }
  return new RpcError("internal", message, { cause: err });
}

/** The reason of a failed call as seen by a client (metadata first, then the details prefix). */
export function reasonOf(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const metadata = (err as { metadata?: unknown }).metadata;
  if (metadata instanceof Metadata) {
    const [value] = metadata.get(REASON_METADATA_KEY);
    if (typeof value === "string" && REASON_SHAPE.test(value)) return value;
  }
  const details = (err as { details?: unknown }).details;
  if (typeof details === "string") {
    const match = /^([a-z][a-z0-9_]{0,63}): /.exec(details);
    if (match !== null) return match[1];
  }
  return reasonProperty(err);
}

/** The human-readable part of a failed call's details (without the reason prefix). */
export function detailOf(err: unknown): string {
  if (typeof err !== "object" || err === null) return String(err);
  const details = (err as { details?: unknown }).details;
  const text = typeof details === "string" ? details : err instanceof Error ? err.message : String(err);
  const reason = reasonOf(err);
  return reason === undefined ? text : stripReasonPrefix(text, reason);
}

/** The gRPC code of a failed call, or undefined if it does not carry one. */
export function grpcCodeOf(err: unknown): status | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === "number" && Number.isInteger(code) && code >= 0 && code <= 16 ? code : undefined;
}

/** The per-item status of a batch RPC (ApplyAssignments, RenewLeases). */
export interface ItemStatusValue {
  code: number;
  reason: string;
  message: string;
}

export const OK_ITEM_STATUS: Readonly<ItemStatusValue> = Object.freeze({
  code: status.OK,
  reason: "",
  message: "",
});

export function itemStatusOf(err: unknown): ItemStatusValue {
  const e = toRpcError(err);
  return { code: e.code, reason: e.reason, message: stripReasonPrefix(e.details, e.reason) };
}

function reasonProperty(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const reason = (err as { reason?: unknown }).reason;
  return typeof reason === "string" && reason !== "" ? reason : undefined;
}

function stripReasonPrefix(text: string, reason: string): string {
  const prefix = `${reason}: `;
  return text.startsWith(prefix) ? text.slice(prefix.length) : text;
}
