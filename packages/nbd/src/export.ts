// What the server serves: a backend that names exports and opens them, and one export's block
// operations. The server validates every request before it calls these, so an export sees only
// aligned, in-range requests within its payload limit.
import { Errno, type ErrnoValue } from "./protocol";

export interface ZeroOptions {
  /** NBD_CMD_FLAG_NO_HOLE: the range must be allocated (written zeros, not a trim). */
  readonly noHole: boolean;
  /** NBD_CMD_FLAG_FAST_ZERO: fail with ENOTSUP rather than zero slowly. */
  readonly fastZero: boolean;
}

export interface NbdExport {
  readonly name: string;
  readonly description: string;
  readonly sizeBytes: number;
  /** Smallest I/O unit accepted (offsets and lengths are multiples of it). */
  readonly minBlockBytes: number;
  readonly preferredBlockBytes: number;
  /** Largest READ/WRITE payload. */
  readonly maxPayloadBytes: number;
  /** One server-side write order for every connection (a FLUSH covers all their acknowledged writes). */
  readonly multiConn: boolean;
  read(offset: number, lengthBytes: number): Promise<Buffer>;
  /** With `fua`, resolves once the write is as durable as a FLUSH would make it. */
  write(offset: number, data: Buffer, fua: boolean): Promise<void>;
  flush(): Promise<void>;
  trim(offset: number, lengthBytes: number, fua: boolean): Promise<void>;
  writeZeroes(offset: number, lengthBytes: number, fua: boolean, options: ZeroOptions): Promise<void>;
  /** A prefetch hint; may do nothing. */
  cache(offset: number, lengthBytes: number): Promise<void>;
}

export type OpenResult =
  | { readonly ok: true; readonly export: NbdExport }
  | { readonly ok: false; readonly refusal: "unknown" | "shutdown" | "policy"; readonly message: string };

export interface NbdBackend {
  /** Exports for NBD_OPT_LIST. */
  list(): readonly { readonly name: string; readonly description: string }[];
  open(name: string): OpenResult;
}

/** An operation failed with an NBD errno (answered to that request only). */
export class NbdIoError extends Error {
  constructor(
    readonly errno: ErrnoValue,
    message: string,
  ) {
    super(message);
    this.name = "NbdIoError";
  }
}

/**
 * The export lost its authority (e.g. the volume stopped being a writable primary): the
 * connection is closed without replying to this or any other pending request, so a client that
 * reconnects elsewhere retries them instead of seeing errors.
 */
export class NbdFencedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NbdFencedError";
  }
}

/** The errno a failed operation is answered with: its own, else EIO. */
export function errnoOf(err: unknown): ErrnoValue {
  return err instanceof NbdIoError ? err.errno : Errno.EIO;
}
