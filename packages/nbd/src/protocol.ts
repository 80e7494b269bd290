// The NBD wire format (fixed newstyle negotiation and transmission), pure: constants, encoders for
// everything the server sends and parsers/validators for everything a client sends. No sockets
// here, so every option and error path is testable on buffers alone.

export const NBDMAGIC = 0x4e42444d41474943n; // "NBDMAGIC"
export const IHAVEOPT = 0x49484156454f5054n; // "IHAVEOPT"
export const OPTION_REPLY_MAGIC = 0x3e889045565a9n;
export const REQUEST_MAGIC = 0x25609513;
export const SIMPLE_REPLY_MAGIC = 0x67446698;
export const STRUCTURED_REPLY_MAGIC = 0x668e33ef;

/** Handshake flags (server) and client flags. */
export const FLAG_FIXED_NEWSTYLE = 1 << 0;
export const FLAG_NO_ZEROES = 1 << 1;
export const CLIENT_FLAGS_KNOWN = FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES;

export const Opt = {
  EXPORT_NAME: 1,
  ABORT: 2,
  LIST: 3,
  STARTTLS: 5,
  INFO: 6,
  GO: 7,
  STRUCTURED_REPLY: 8,
} as const;

export const Rep = {
  ACK: 1,
  SERVER: 2,
  INFO: 3,
  ERR_UNSUP: 0x80000001,
  ERR_POLICY: 0x80000002,
  ERR_INVALID: 0x80000003,
  ERR_PLATFORM: 0x80000004,
  ERR_TLS_REQD: 0x80000005,
  ERR_UNKNOWN: 0x80000006,
  ERR_SHUTDOWN: 0x80000007,
  ERR_BLOCK_SIZE_REQD: 0x80000008,
  ERR_TOO_BIG: 0x80000009,
} as const;

export const Info = { EXPORT: 0, NAME: 1, DESCRIPTION: 2, BLOCK_SIZE: 3 } as const;

/** Transmission flags. */
export const TFlag = {
  HAS_FLAGS: 1 << 0,
  READ_ONLY: 1 << 1,
  SEND_FLUSH: 1 << 2,
  SEND_FUA: 1 << 3,
  ROTATIONAL: 1 << 4,
  SEND_TRIM: 1 << 5,
  SEND_WRITE_ZEROES: 1 << 6,
  SEND_DF: 1 << 7,
  CAN_MULTI_CONN: 1 << 8,
  SEND_RESIZE: 1 << 9,
  SEND_CACHE: 1 << 10,
  SEND_FAST_ZERO: 1 << 11,
} as const;

export const Cmd = {
  READ: 0,
  WRITE: 1,
  DISC: 2,
  FLUSH: 3,
  TRIM: 4,
  CACHE: 5,
  WRITE_ZEROES: 6,
} as const;
export type CommandName = "read" | "write" | "disc" | "flush" | "trim" | "cache" | "write_zeroes";
const COMMAND_NAMES: readonly CommandName[] = [
  "read",
  "write",
  "disc",
  "flush",
  "trim",
  "cache",
  "write_zeroes",
];

export const CmdFlag = {
  FUA: 1 << 0,
  NO_HOLE: 1 << 1,
  DF: 1 << 2,
  REQ_ONE: 1 << 3,
  FAST_ZERO: 1 << 4,
} as const;

/** Errno values of the NBD protocol (not the host's). */
export const Errno = {
  EPERM: 1,
  EIO: 5,
  ENOMEM: 12,
  EINVAL: 22,
  ENOSPC: 28,
  EOVERFLOW: 75,
  ENOTSUP: 95,
  ESHUTDOWN: 108,
} as const;
export type ErrnoValue = (typeof Errno)[keyof typeof Errno];

export const REPLY_FLAG_DONE = 1;
export const ReplyType = { NONE: 0, OFFSET_DATA: 1, ERROR: (1 << 15) + 1 } as const;

export const REQUEST_HEADER_BYTES = 28;
export const OPTION_HEADER_BYTES = 16;
/** Strings in options are at most this long (the spec's limit for names). */
export const MAX_STRING_BYTES = 4096;
/** The largest option payload we parse; longer ones are skipped unread and refused. */
export const MAX_OPTION_BYTES = 64 * 1024;

// ---- server → client ----------------------------------------------------------------------------

/** The first 18 bytes: magic, IHAVEOPT, handshake flags. */
export function encodeGreeting(): Buffer {
  const b = Buffer.alloc(18);
  b.writeBigUInt64BE(NBDMAGIC, 0);
  b.writeBigUInt64BE(IHAVEOPT, 8);
  b.writeUInt16BE(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, 16);
  return b;
}

export function encodeOptionReply(option: number, replyType: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(20 + data.length);
  b.writeBigUInt64BE(OPTION_REPLY_MAGIC, 0);
  b.writeUInt32BE(option >>> 0, 8);
  b.writeUInt32BE(replyType >>> 0, 12);
  b.writeUInt32BE(data.length, 16);
  data.copy(b, 20);
  return b;
}

/** An error reply; the message is UTF-8 text for humans (bounded). */
export function encodeOptionError(option: number, replyType: number, message: string): Buffer {
  return encodeOptionReply(option, replyType, Buffer.from(message.slice(0, 1024), "utf8"));
}

export function encodeServerEntry(name: string, description = ""): Buffer {
  const n = Buffer.from(name, "utf8");
  const d = Buffer.from(description, "utf8");
  const b = Buffer.alloc(4 + n.length + d.length);
  b.writeUInt32BE(n.length, 0);
  n.copy(b, 4);
  d.copy(b, 4 + n.length);
  return b;
}

export function encodeInfoExport(sizeBytes: number, transmissionFlags: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(Info.EXPORT, 0);
  b.writeBigUInt64BE(BigInt(sizeBytes), 2);
  b.writeUInt16BE(transmissionFlags, 10);
  return b;
}

export function encodeInfoName(name: string): Buffer {
  const n = Buffer.from(name, "utf8");
  const b = Buffer.alloc(2 + n.length);
  b.writeUInt16BE(Info.NAME, 0);
  n.copy(b, 2);
  return b;
}

export function encodeInfoDescription(text: string): Buffer {
  const n = Buffer.from(text, "utf8");
  const b = Buffer.alloc(2 + n.length);
  b.writeUInt16BE(Info.DESCRIPTION, 0);
  n.copy(b, 2);
  return b;
}

export function encodeInfoBlockSize(minBytes: number, preferredBytes: number, maxBytes: number): Buffer {
  const b = Buffer.alloc(14);
  b.writeUInt16BE(Info.BLOCK_SIZE, 0);
  b.writeUInt32BE(minBytes, 2);
  b.writeUInt32BE(preferredBytes, 6);
  b.writeUInt32BE(maxBytes, 10);
  return b;
}

/** The reply to NBD_OPT_EXPORT_NAME: size, flags, and 124 zero bytes unless NO_ZEROES was agreed. */
export function encodeExportNameReply(
  sizeBytes: number,
  transmissionFlags: number,
  noZeroes: boolean,
): Buffer {
  const b = Buffer.alloc(10 + (noZeroes ? 0 : 124));
  b.writeBigUInt64BE(BigInt(sizeBytes), 0);
  b.writeUInt16BE(transmissionFlags, 8);
  return b;
}

export function encodeSimpleReply(cookie: bigint, error: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0);
  b.writeUInt32BE(error, 4);
  b.writeBigUInt64BE(cookie, 8);
  return b;
}

/** The header of a structured reply chunk (20 bytes); `length` bytes of payload follow. */
export function encodeChunkHeader(cookie: bigint, flags: number, type: number, length: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt32BE(STRUCTURED_REPLY_MAGIC, 0);
  b.writeUInt16BE(flags, 4);
  b.writeUInt16BE(type, 6);
  b.writeBigUInt64BE(cookie, 8);
  b.writeUInt32BE(length, 16);
  return b;
}

/** A whole READ reply as one OFFSET_DATA chunk with DONE: header + offset, then `data`. */
export function encodeReadChunkHeader(cookie: bigint, offset: bigint, dataBytes: number): Buffer {
  const h = Buffer.alloc(28);
  encodeChunkHeader(cookie, REPLY_FLAG_DONE, ReplyType.OFFSET_DATA, 8 + dataBytes).copy(h, 0);
  h.writeBigUInt64BE(offset, 20);
  return h;
}

export function encodeErrorChunk(cookie: bigint, error: number, message: string): Buffer {
  const m = Buffer.from(message.slice(0, 512), "utf8");
  const payload = Buffer.alloc(6 + m.length);
  payload.writeUInt32BE(error, 0);
  payload.writeUInt16BE(m.length, 4);
  m.copy(payload, 6);
  return Buffer.concat([
    encodeChunkHeader(cookie, REPLY_FLAG_DONE, ReplyType.ERROR, payload.length),
    payload,
  ]);
}

// ---- client → server ----------------------------------------------------------------------------

export interface OptionHeader {
  readonly magic: bigint;
  readonly option: number;
  readonly length: number;
}

export function parseOptionHeader(b: Buffer): OptionHeader {
  return { magic: b.readBigUInt64BE(0), option: b.readUInt32BE(8), length: b.readUInt32BE(12) };
}

/** The data of NBD_OPT_INFO / NBD_OPT_GO. */
export interface GoRequest {
  readonly name: string;
  readonly infoRequests: readonly number[];
}

/** Parses NBD_OPT_INFO/GO data; a string describing the problem when it is malformed. */
export function parseGoData(data: Buffer): GoRequest | string {
  if (data.length < 6) return `option data of ${data.length} bytes is too short`;
  const nameBytes = data.readUInt32BE(0);
  if (nameBytes > MAX_STRING_BYTES) return `export name of ${nameBytes} bytes is too long`;
  if (4 + nameBytes + 2 > data.length) return "export name runs past the option data";
  const name = data.subarray(4, 4 + nameBytes);
  const count = data.readUInt16BE(4 + nameBytes);
  const expected = 4 + nameBytes + 2 + 2 * count;
  if (expected !== data.length) return `option data is ${data.length} bytes, the content says ${expected}`;
  const infoRequests: number[] = [];
  for (let i = 0; i < count; i++) infoRequests.push(data.readUInt16BE(4 + nameBytes + 2 + 2 * i));
  const text = decodeName(name);
  if (text === undefined) return "export name is not valid UTF-8";
  return { name: text, infoRequests };
}

/** UTF-8 without NUL, or undefined. */
export function decodeName(b: Buffer): string | undefined {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(b);
  if (Buffer.byteLength(text, "utf8") !== b.length || text.includes("\u0000") || text.includes("\ufffd"))
    return undefined;
  return text;
}

export interface Request {
  readonly magic: number;
  readonly flags: number;
  readonly type: number;
  readonly cookie: bigint;
  readonly offset: bigint;
  readonly length: number;
}

export function parseRequestHeader(b: Buffer): Request {
  return {
    magic: b.readUInt32BE(0),
    flags: b.readUInt16BE(4),
    type: b.readUInt16BE(6),
    cookie: b.readBigUInt64BE(8),
    offset: b.readBigUInt64BE(16),
    length: b.readUInt32BE(24),
  };
}

export function commandName(type: number): CommandName | undefined {
  return COMMAND_NAMES[type];
}

/** What the server accepts in transmission (also what it advertises). */
export interface ExportLimits {
  readonly sizeBytes: number;
  readonly minBlockBytes: number;
  readonly maxPayloadBytes: number;
}

/** Flags each command may carry; anything else is EINVAL. */
const ALLOWED_FLAGS: Readonly<Record<CommandName, number>> = {
  read: 0,
  write: CmdFlag.FUA,
  disc: 0,
  flush: CmdFlag.FUA,
  trim: CmdFlag.FUA,
  cache: 0,
  write_zeroes: CmdFlag.FUA | CmdFlag.NO_HOLE | CmdFlag.FAST_ZERO,
};

export interface RequestProblem {
  readonly errno: ErrnoValue;
  readonly message: string;
}

/**
 * Checks one request against the export before anything touches the volume: command and flags
 * known, length within the payload limit, offset and length aligned, range inside the export.
 * The errors are the spec's: EINVAL (unknown, misaligned, reads past the end), EOVERFLOW (payload
 * too large), ENOSPC (writes past the end).
 */
export function validateRequest(r: Request, limits: ExportLimits): RequestProblem | null {
  const name = commandName(r.type);
  if (name === undefined) return { errno: Errno.EINVAL, message: `unknown command ${r.type}` };
  const extra = r.flags & ~ALLOWED_FLAGS[name];
  if (extra !== 0)
    return { errno: Errno.EINVAL, message: `flags 0x${extra.toString(16)} not allowed on ${name}` };
  if (name === "disc") return null;
  if (name === "flush") {
    return r.offset === 0n && r.length === 0
      ? null
      : { errno: Errno.EINVAL, message: "flush must have offset 0 and length 0" };
  }
  if (r.length === 0) return { errno: Errno.EINVAL, message: `${name} of 0 bytes` };
  const carriesPayload = name === "read" || name === "write";
  if (carriesPayload && r.length > limits.maxPayloadBytes) {
    return {
      errno: Errno.EOVERFLOW,
      message: `${r.length} bytes exceed the ${limits.maxPayloadBytes}-byte maximum`,
    };
  }
  const bs = BigInt(limits.minBlockBytes);
  if (r.offset % bs !== 0n || BigInt(r.length) % bs !== 0n) {
    return { errno: Errno.EINVAL, message: `offset and length must be multiples of ${limits.minBlockBytes}` };
  }
  if (r.offset + BigInt(r.length) > BigInt(limits.sizeBytes)) {
    const writes = name === "write" || name === "trim" || name === "write_zeroes";
    return {
      errno: writes ? Errno.ENOSPC : Errno.EINVAL,
      message: `${name} of ${r.length} bytes at ${r.offset} runs past the end (${limits.sizeBytes} bytes)`,
    };
  }
  return null;
}
