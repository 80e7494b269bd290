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
