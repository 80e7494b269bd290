// Parsing of sizes and integers from the command line. Results are bigint so that u64 values
// (LSNs, epochs, byte sizes) never pass through a lossy JS number.

export const U64_MAX = (1n << 64n) - 1n;

/** Binary multipliers; `1G` = `1GiB` = 2^30. Decimal units (`GB`) are refused as ambiguous. */
const SIZE_UNITS: Readonly<Record<string, bigint>> = {
  "": 1n,
  b: 1n,
  k: 1n << 10n,
  kib: 1n << 10n,
  m: 1n << 20n,
  mib: 1n << 20n,
  g: 1n << 30n,
  gib: 1n << 30n,
  t: 1n << 40n,
  tib: 1n << 40n,
  p: 1n << 50n,
  pib: 1n << 50n,
};

/** A bad command-line value; the message says what is accepted. */
export class ArgumentError extends Error {
  override readonly name = "ArgumentError";
}

/** `4096`, `64KiB`, `1GiB`, `1G`, `512b` → bytes. Whole numbers only, ≤ 2^64-1. */
export function parseSize(text: string, what = "size"): bigint {
  const match = /^\s*(\d{1,20})\s*([A-Za-z]*)\s*$/.exec(text);
  const unit = match?.[2]?.toLowerCase();
  const multiplier = unit === undefined ? undefined : SIZE_UNITS[unit];
  if (match === null || multiplier === undefined) {
    throw new ArgumentError(
      `${what}: "${text}" is not a size (use bytes or a binary unit: 4096, 64KiB, 1GiB, 1G, 2T)`,
    );
  }
  const value = BigInt(match[1] as string) * multiplier;
  if (value > U64_MAX) throw new ArgumentError(`${what}: "${text}" is larger than 2^64-1 bytes`);
  return value;
}

/** A size that must fit a JS number exactly (buffer lengths, block sizes). */
export function parseSmallSize(text: string, what: string, min: number, max: number): number {
  const value = parseSize(text, what);
  if (value < BigInt(min) || value > BigInt(max)) {
    throw new ArgumentError(`${what}: "${text}" must be between ${formatBytes(min)} and ${formatBytes(max)}`);
  }
  return Number(value);
}

/** A decimal u64 (epoch, LSN, LBA) as bigint; never through a JS number. */
export function parseU64(text: string, what: string, min = 0n): bigint {
  if (!/^\s*\d{1,20}\s*$/.test(text)) throw new ArgumentError(`${what}: "${text}" is not a whole number`);
  const value = BigInt(text.trim());
  if (value > U64_MAX) throw new ArgumentError(`${what}: "${text}" is larger than 2^64-1`);
  if (value < min) throw new ArgumentError(`${what}: must be at least ${min}`);
  return value;
}

/** A whole number in [min, max] that fits a JS number (milliseconds, counts). */
export function parseIntInRange(text: string, what: string, min: number, max: number): number {
  const value = parseU64(text, what);
  if (value < BigInt(min) || value > BigInt(max)) {
    throw new ArgumentError(`${what}: "${text}" must be between ${min} and ${max}`);
  }
  return Number(value);
}

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"] as const;

/** 1073741824 → "1 GiB", 1536 → "1.5 KiB". Accepts bigint or a decimal string for u64 values. */
export function formatBytes(bytes: number | bigint | string): string {
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, "");
  return `${shown} ${BYTE_UNITS[unit]}`;
}

/** `50MiB`, `50MiB/s`, `0` → bytes per second (binary units as in parseSize; 0 = the default). */
export function parseRate(text: string, what: string): bigint {
  const body = text.replace(/\s*\/\s*s(ec)?\s*$/i, "");
  try {
    return parseSize(body, what);
  } catch (err) {
    if (!(err instanceof ArgumentError)) throw err;
    throw new ArgumentError(
      `${what}: "${text}" is not a rate (a size per second with a binary unit: 50MiB, 50MiB/s, 1GiB; 0 = default)`,
    );
  }
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `90s`, `30m`, `2h`, `45` (seconds) → milliseconds in [minMs, maxMs]. */
export function parseDuration(text: string, what: string, minMs: number, maxMs: number): number {
  const match = /^\s*(\d{1,12})\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (match === null) {
    throw new ArgumentError(
      `${what}: "${text}" is not a duration (500ms, 90s, 30m, 2h; a bare number is seconds)`,
    );
  }
  const unit = (match[2] ?? "s").toLowerCase();
  const ms = Number(match[1]) * (DURATION_UNITS_MS[unit] ?? 1000);
  if (ms < minMs || ms > maxMs) {
    throw new ArgumentError(
      `${what}: "${text}" must be between ${formatDuration(minMs)} and ${formatDuration(maxMs)}`,
    );
  }
  return ms;
}

/** 90_000 → "1m30s", 1500 → "1.5s", 7_200_000 → "2h", 250 → "250ms". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const totalS = Math.round(ms / 1000);
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = totalS % 60;
  return [h > 0 ? `${h}h` : "", m > 0 ? `${m}m` : "", s > 0 ? `${s}s` : ""].join("");
}
