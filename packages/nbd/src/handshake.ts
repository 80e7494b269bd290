// Fixed newstyle negotiation, server side: greeting, client flags, then options until the client
// picks an export (GO / EXPORT_NAME) or leaves (ABORT, end of stream). Unknown options are
// skipped by their length and answered NBD_REP_ERR_UNSUP; with TLS configured, everything but
// STARTTLS and ABORT is refused with NBD_REP_ERR_TLS_REQD until the connection is encrypted.
import type { Duplex } from "node:stream";
import type { NbdBackend, NbdExport } from "./export";
import {
  CLIENT_FLAGS_KNOWN,
  decodeName,
  encodeExportNameReply,
  encodeGreeting,
  encodeInfoBlockSize,
  encodeInfoDescription,
  encodeInfoExport,
  encodeInfoName,
  encodeOptionError,
  encodeOptionReply,
  encodeServerEntry,
  FLAG_FIXED_NEWSTYLE,
  FLAG_NO_ZEROES,
  IHAVEOPT,
  Info,
  MAX_OPTION_BYTES,
  MAX_STRING_BYTES,
  OPTION_HEADER_BYTES,
  Opt,
  parseGoData,
  parseOptionHeader,
  Rep,
  TFlag,
} from "./protocol";
import type { SocketReader } from "./reader";

/** Options one connection may send before it picks an export (a client looping forever is cut off). */
const MAX_OPTIONS = 1000;

export interface HandshakeIo {
  readonly reader: SocketReader;
  send(b: Buffer): void;
  /** Present when TLS is configured: upgrades the connection (the ACK has been sent). */
  readonly startTls?: () => Promise<Duplex>;
  /** Whether the connection is encrypted already. */
  readonly isTls: () => boolean;
  /** Admission of an export to this connection (per-export caps); a refusal message, or null. */
  readonly admit: (exp: NbdExport) => string | null;
}

export interface Negotiated {
  readonly export: NbdExport;
  readonly structuredReplies: boolean;
}

/** The protocol was violated in a way that allows no reply: the connection is closed. */
export class HandshakeAbort extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HandshakeAbort";
  }
}

export function transmissionFlags(exp: NbdExport): number {
  let f =
    TFlag.HAS_FLAGS |
    TFlag.SEND_FLUSH |
    TFlag.SEND_FUA |
    TFlag.SEND_TRIM |
    TFlag.SEND_WRITE_ZEROES |
    TFlag.SEND_FAST_ZERO |
    TFlag.SEND_CACHE;
  if (exp.multiConn) f |= TFlag.CAN_MULTI_CONN;
  return f;
}

/** Runs the negotiation; resolves with the export, or undefined when the client left cleanly. */
export async function negotiate(io: HandshakeIo, backend: NbdBackend): Promise<Negotiated | undefined> {
  io.send(encodeGreeting());
  const clientFlags = (await io.reader.read(4)).readUInt32BE(0);
  if ((clientFlags & FLAG_FIXED_NEWSTYLE) === 0) throw new HandshakeAbort("client is not fixed newstyle");
  if ((clientFlags & ~CLIENT_FLAGS_KNOWN) !== 0)
    throw new HandshakeAbort(`unknown client flags 0x${clientFlags.toString(16)}`);
  const state = { noZeroes: (clientFlags & FLAG_NO_ZEROES) !== 0, structured: false };
  for (let n = 0; n < MAX_OPTIONS; n++) {
    const h = parseOptionHeader(await io.reader.read(OPTION_HEADER_BYTES));
    if (h.magic !== IHAVEOPT) throw new HandshakeAbort("bad option magic");
    if (h.length > MAX_OPTION_BYTES) {
      await io.reader.skip(h.length);
      if (h.option === Opt.EXPORT_NAME) throw new HandshakeAbort("export name too long");
      io.send(encodeOptionError(h.option, Rep.ERR_TOO_BIG, `option data of ${h.length} bytes is too large`));
      continue;
    }
    const data = await io.reader.read(h.length);
    const done = await handleOption(io, backend, state, h.option, data);
    if (done === "abort") return undefined;
    if (done !== undefined) return { export: done, structuredReplies: state.structured };
  }
  throw new HandshakeAbort(`more than ${MAX_OPTIONS} options`);
}

interface OptionState {
  noZeroes: boolean;
  structured: boolean;
}

async function handleOption(
  io: HandshakeIo,
  backend: NbdBackend,
  state: OptionState,
  option: number,
  data: Buffer,
): Promise<NbdExport | "abort" | undefined> {
  if (option === Opt.ABORT) {
    io.send(encodeOptionReply(option, Rep.ACK));
    return "abort";
  }
  const tlsRequired = io.startTls !== undefined && !io.isTls();
  if (tlsRequired && option === Opt.EXPORT_NAME)
    throw new HandshakeAbort("EXPORT_NAME before STARTTLS on a TLS-only server");
  if (tlsRequired && option !== Opt.STARTTLS) {
    io.send(encodeOptionError(option, Rep.ERR_TLS_REQD, "this server requires TLS: use NBD_OPT_STARTTLS"));
    return undefined;
  }
  switch (option) {
    case Opt.EXPORT_NAME:
      return exportName(io, backend, state, data);
    case Opt.LIST:
      list(io, backend, data);
      return undefined;
    case Opt.STARTTLS:
      await startTls(io, data);
      return undefined;
    case Opt.STRUCTURED_REPLY:
      if (data.length !== 0) {
        io.send(encodeOptionError(option, Rep.ERR_INVALID, "STRUCTURED_REPLY takes no data"));
      } else {
        state.structured = true;
        io.send(encodeOptionReply(option, Rep.ACK));
      }
      return undefined;
    case Opt.INFO:
    case Opt.GO:
      return infoOrGo(io, backend, option, data);
    default:
      io.send(encodeOptionError(option, Rep.ERR_UNSUP, `option ${option} is not supported`));
      return undefined;
  }
}

function exportName(io: HandshakeIo, backend: NbdBackend, state: OptionState, data: Buffer): NbdExport {
  const name = data.length <= MAX_STRING_BYTES ? decodeName(data) : undefined;
  if (name === undefined) throw new HandshakeAbort("malformed export name");
  const opened = backend.open(name);
  // EXPORT_NAME has no error reply: a refusal can only close the connection.
  if (!opened.ok) throw new HandshakeAbort(`export ${JSON.stringify(name)} refused: ${opened.message}`);
  const refusal = io.admit(opened.export);
  if (refusal !== null) throw new HandshakeAbort(refusal);
  io.send(encodeExportNameReply(opened.export.sizeBytes, transmissionFlags(opened.export), state.noZeroes));
  return opened.export;
}

function list(io: HandshakeIo, backend: NbdBackend, data: Buffer): void {
  if (data.length !== 0) {
    io.send(encodeOptionError(Opt.LIST, Rep.ERR_INVALID, "LIST takes no data"));
    return;
  }
  for (const e of backend.list())
    io.send(encodeOptionReply(Opt.LIST, Rep.SERVER, encodeServerEntry(e.name, e.description)));
  io.send(encodeOptionReply(Opt.LIST, Rep.ACK));
}

async function startTls(io: HandshakeIo, data: Buffer): Promise<void> {
  if (io.startTls === undefined) {
    io.send(encodeOptionError(Opt.STARTTLS, Rep.ERR_UNSUP, "TLS is not configured on this server"));
    return;
  }
  if (data.length !== 0) {
    io.send(encodeOptionError(Opt.STARTTLS, Rep.ERR_INVALID, "STARTTLS takes no data"));
    return;
  }
  if (io.isTls()) {
    io.send(encodeOptionError(Opt.STARTTLS, Rep.ERR_INVALID, "the connection is encrypted already"));
    return;
  }
  // The client starts its TLS handshake after our ACK; anything it sent before that is a violation.
  if (io.reader.bufferedBytes !== 0) throw new HandshakeAbort("data after STARTTLS before the TLS handshake");
  io.send(encodeOptionReply(Opt.STARTTLS, Rep.ACK));
  io.reader.detach();
  io.reader.attach(await io.startTls());
}

function infoOrGo(io: HandshakeIo, backend: NbdBackend, option: number, data: Buffer): NbdExport | undefined {
  const req = parseGoData(data);
  if (typeof req === "string") {
    io.send(encodeOptionError(option, Rep.ERR_INVALID, req));
    return undefined;
  }
  const opened = backend.open(req.name);
  if (!opened.ok) {
    const rep =
      opened.refusal === "unknown"
        ? Rep.ERR_UNKNOWN
        : opened.refusal === "shutdown"
          ? Rep.ERR_SHUTDOWN
          : Rep.ERR_POLICY;
    io.send(encodeOptionError(option, rep, opened.message));
    return undefined;
  }
  const exp = opened.export;
  if (option === Opt.GO) {
    const refusal = io.admit(exp);
    if (refusal !== null) {
      io.send(encodeOptionError(option, Rep.ERR_POLICY, refusal));
      return undefined;
    }
  }
  if (req.infoRequests.includes(Info.NAME))
    io.send(encodeOptionReply(option, Rep.INFO, encodeInfoName(exp.name)));
  if (req.infoRequests.includes(Info.DESCRIPTION) && exp.description !== "")
    io.send(encodeOptionReply(option, Rep.INFO, encodeInfoDescription(exp.description)));
  // Block sizes are sent whether asked or not (the spec allows it): our minimum is not 1.
  io.send(
    encodeOptionReply(
      option,
      Rep.INFO,
      encodeInfoBlockSize(exp.minBlockBytes, exp.preferredBlockBytes, exp.maxPayloadBytes),
    ),
  );
  io.send(encodeOptionReply(option, Rep.INFO, encodeInfoExport(exp.sizeBytes, transmissionFlags(exp))));
  io.send(encodeOptionReply(option, Rep.ACK));
  return option === Opt.GO ? exp : undefined;
}
