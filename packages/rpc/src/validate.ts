import { RpcError } from "./errors";
import { type U64Wire, u64FromWire } from "./u64";

// Request validation at the edge. Every failure is `invalid_argument` with a detail that
// names the field as the proto spells it (snake_case), since that is what users of
// grpcurl / buf curl type.

export function invalidArgument(field: string, detail: string): RpcError {
  return new RpcError("invalid_argument", `${field}: ${detail}`);
}

const VOLUME_ID = /^[A-Za-z0-9._-]{1,128}$/;
const SERVER_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Upper bound on list fields of a request (assignments, grants, volume_ids). */
export const MAX_BATCH_ITEMS = 1024;

/** A non-empty string of at most `maxLength` characters. */
export function requireString(value: unknown, field: string, maxLength = 1024): string {
  if (typeof value !== "string" || value === "") throw invalidArgument(field, "required");
  if (value.length > maxLength) throw invalidArgument(field, `longer than ${maxLength} characters`);
  return value;
}

export function requireVolumeId(value: unknown, field = "volume_id"): string {
  const id = requireString(value, field, 128);
  if (!VOLUME_ID.test(id)) {
    throw invalidArgument(field, `must be 1..128 characters of [A-Za-z0-9._-], got ${JSON.stringify(id)}`);
  }
  return id;
}

export function requireServerId(value: unknown, field = "server_id"): string {
  const id = requireString(value, field, 128);
  if (!SERVER_ID.test(id)) {
    throw invalidArgument(field, `must be 1..128 characters of [A-Za-z0-9._:-], got ${JSON.stringify(id)}`);
  }
  return id;
}

/** `host:port` with a port in 1..65535 (host may be a bracketed IPv6 literal). */
export function requireAddress(value: unknown, field = "address"): string {
  const address = requireString(value, field, 256);
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(address);
  const port = match === null ? 0 : Number(match[2]);
  if (port < 1 || port > 65535)
    throw invalidArgument(field, `must be host:port, got ${JSON.stringify(address)}`);
  return address;
}

/** The replica ID of a volume's member: `<volume_id>/<server_id>`. */
export function replicaIdOf(volumeId: string, serverId: string): string {
  return `${volumeId}/${serverId}`;
}

export function parseReplicaId(value: unknown, field = "replica_id"): { volumeId: string; serverId: string } {
  const id = requireString(value, field, 257);
  const slash = id.indexOf("/");
  if (slash < 0) throw invalidArgument(field, `must be <volume_id>/<server_id>, got ${JSON.stringify(id)}`);
  return {
    volumeId: requireVolumeId(id.slice(0, slash), field),
    serverId: requireServerId(id.slice(slash + 1), field),
  };
}

/**
 * An enum value (proto-loader `enums: String` hands us names; numbers appear for values this
 * build does not know). `allowed` lists the accepted names, so UNSPECIFIED is rejected by
 * leaving it out.
 */
export function requireEnum<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw invalidArgument(field, `must be one of ${allowed.join(", ")}, got ${String(value)}`);
}

/** A uint64 within [min, max]. */
export function requireU64(
  value: U64Wire | null | undefined,
  field: string,
  range: { min?: bigint; max?: bigint } = {},
): bigint {
  const n = u64FromWire(value, field);
  const min = range.min ?? 0n;
  if (n < min)
    throw invalidArgument(field, min === 1n ? "required (must be >= 1)" : `must be >= ${min}, got ${n}`);
  if (range.max !== undefined && n > range.max)
    throw invalidArgument(field, `must be <= ${range.max}, got ${n}`);
  return n;
}

/** A uint32/int32 field within [min, max]. */
export function requireIntInRange(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw invalidArgument(field, `must be an integer, got ${String(value)}`);
  }
  if (value < min || value > max) throw invalidArgument(field, `must be in ${min}..${max}, got ${value}`);
  return value;
}

/** A bytes field of `min..max` bytes that is a whole number of `multipleOf`-byte units. */
export function requireBytes(
  value: unknown,
  field: string,
  limits: { minBytes?: number; maxBytes: number; multipleOf?: number },
): Buffer {
  if (!Buffer.isBuffer(value)) throw invalidArgument(field, "must be bytes");
  const min = limits.minBytes ?? 1;
  if (value.length < min)
    throw invalidArgument(field, min === 1 ? "required (empty)" : `shorter than ${min} bytes`);
  if (value.length > limits.maxBytes) throw invalidArgument(field, `longer than ${limits.maxBytes} bytes`);
  const unit = limits.multipleOf ?? 1;
  if (value.length % unit !== 0) {
    throw invalidArgument(field, `length ${value.length} is not a multiple of ${unit} bytes`);
  }
  return value;
}

/** A repeated field of at most `maxItems` items. */
export function requireList<T>(
  value: readonly T[] | undefined,
  field: string,
  maxItems = MAX_BATCH_ITEMS,
): readonly T[] {
  const list = value ?? [];
  if (!Array.isArray(list)) throw invalidArgument(field, "must be a list");
  if (list.length > maxItems) throw invalidArgument(field, `more than ${maxItems} items (${list.length})`);
  return list;
}

/** A message field that must be set. */
export function requireMessage<T>(value: T | null | undefined, field: string): T {
  if (value === undefined || value === null) throw invalidArgument(field, "required");
  return value;
}
