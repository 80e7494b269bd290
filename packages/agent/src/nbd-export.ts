// The volume binding of the NBD frontend: one export per hosted volume (export name = volume ID),
// served only while this copy is the writable primary at the epoch it was opened at. Every block
// operation goes through VolumeIo, the same fenced path (write gate before and after, durable
// flush under the volume's durability mode, metrics) that the gRPC Volume service uses.
import {
  Errno,
  type NbdBackend,
  type NbdExport,
  NbdFencedError,
  NbdIoError,
  type OpenResult,
  type ZeroOptions,
} from "@blockship/nbd";
import type { HostedVolume } from "./hosted-volume";
import { coveringRange, modifyBlock, NBD_MIN_BLOCK_BYTES, type Piece, splitByBlock } from "./nbd-rmw";
import type { VolumeHost } from "./volume-host";
import type { VolumeIo } from "./volume-service";

/** Largest READ/WRITE payload we accept (what NBD_INFO_BLOCK_SIZE advertises as maximum). */
export const NBD_MAX_PAYLOAD_BYTES = 32 * 1024 * 1024;
/** Zero-writes (WRITE_ZEROES with NO_HOLE) in flight at once for one request. */
const ZERO_WRITE_CONCURRENCY = 4;

/** Reasons that mean "this copy may not acknowledge anything any more": close, do not answer. */
const FENCE_REASONS = new Set([
  "not_primary",
  "epoch_stale",
  "lease_expired",
  "drain_timeout",
  "shutting_down",
  "volume_closed",
  "volume_not_found",
]);

function reasonOf(err: unknown): string | undefined {
  const r = typeof err === "object" && err !== null ? (err as { reason?: unknown }).reason : undefined;
  return typeof r === "string" ? r : undefined;
}

/** Maps a failure of the volume path to what the NBD client sees. */
export function nbdErrorOf(err: unknown): Error {
  const reason = reasonOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (reason !== undefined && FENCE_REASONS.has(reason)) return new NbdFencedError(message);
  if (reason === "invalid_argument") return new NbdIoError(Errno.EINVAL, message);
  if (reason === "out_of_range") return new NbdIoError(Errno.ENOSPC, message);
  // Everything else, a flush that could not be confirmed in particular, is an I/O error.
  return new NbdIoError(Errno.EIO, message);
}

export class VolumeExport implements NbdExport {
  readonly name: string;
  readonly description: string;
  readonly sizeBytes: number;
  readonly minBlockBytes: number;
  readonly preferredBlockBytes: number;
  readonly maxPayloadBytes = NBD_MAX_PAYLOAD_BYTES;
  /** One primary owns the WAL: a FLUSH on any connection covers every connection's acknowledged writes. */
  readonly multiConn = true;
  /** The epoch this export serves; a copy whose epoch moved stops serving it. */
  readonly epoch: number;

  constructor(
    readonly h: HostedVolume,
    private readonly io: VolumeIo,
    private readonly stillHosted: () => boolean,
  ) {
    this.name = h.volumeId;
    this.epoch = h.fence.masterEpoch;
    this.sizeBytes = h.volume.volumeSizeBytes;
    // Below the volume's block size, partial blocks are read-modify-written (nbd-rmw.ts).
    this.minBlockBytes = Math.min(NBD_MIN_BLOCK_BYTES, h.volume.blockSize);
    this.preferredBlockBytes = Math.max(4096, h.volume.blockSize);
    this.description = `blockship volume ${h.volumeId} (${h.volume.durabilityMode}, epoch ${this.epoch})`;
  }

  /** Why this export may not answer any more, or null while it is the writable primary at its epoch. */
  fenceReason(): string | null {
    if (!this.stillHosted()) return "volume deleted or closed";
    const gate = this.h.fence.gateReason();
    if (gate !== null) return gate;
    if (this.h.fence.masterEpoch !== this.epoch)
      return `epoch moved from ${this.epoch} to ${this.h.fence.masterEpoch}`;
    return null;
  }

  /** Runs `op` on the volume path; no reply leaves unless the export is still authoritative after it. */
  private async fenced<T>(op: () => Promise<T>): Promise<T> {
    let out: T;
    try {
      out = await op();
    } catch (err) {
      // A failure after the copy lost its authority is a fence, not an answer (the new primary has the say).
      const lost = this.fenceReason();
      throw lost !== null ? new NbdFencedError(lost) : nbdErrorOf(err);
    }
    const reason = this.fenceReason();
    if (reason !== null) throw new NbdFencedError(reason);
    return out;
  }

  private get blockBytes(): number {
    return this.h.volume.blockSize;
  }

  private lba(offset: number): number {
    return offset / this.blockBytes;
  }

  read(offset: number, lengthBytes: number): Promise<Buffer> {
    return this.fenced(async () => {
      const cover = coveringRange(offset, lengthBytes, this.blockBytes);
      const data = await this.io.read(this.h, this.lba(cover.offset), cover.length);
      const at = offset - cover.offset;
      return at === 0 && lengthBytes === cover.length ? data : data.subarray(at, at + lengthBytes);
    });
  }

  write(offset: number, data: Buffer, fua: boolean): Promise<void> {
    return this.fenced(async () => {
      await this.eachPiece(offset, data.length, (p) =>
        p.kind === "blocks"
          ? this.writeBlocks(p.offset, data.subarray(p.at, p.at + p.length))
          : this.modify(p, (block) => data.copy(block, p.start, p.at, p.at + (p.end - p.start))),
      );
      if (fua) await this.io.flush(this.h, this.epoch);
    });
  }

  flush(): Promise<void> {
    return this.fenced(async () => {
      await this.io.flush(this.h, this.epoch);
    });
  }

  trim(offset: number, lengthBytes: number, fua: boolean): Promise<void> {
    return this.fenced(async () => {
      await this.eachPiece(offset, lengthBytes, (p) =>
        p.kind === "blocks"
          ? this.io.trim(this.h, this.lba(p.offset), p.length, this.epoch)
          : this.modify(p, (block) => block.fill(0, p.start, p.end)),
      );
      if (fua) await this.io.flush(this.h, this.epoch);
    });
  }

  /** Without NO_HOLE a trim (trimmed blocks read as zeros, and it is fast); with it, written zeros. */
  writeZeroes(offset: number, lengthBytes: number, fua: boolean, options: ZeroOptions): Promise<void> {
    if (options.noHole && options.fastZero)
      return Promise.reject(new NbdIoError(Errno.ENOTSUP, "zeroes without holes are written, not fast"));
    if (!options.noHole) return this.trim(offset, lengthBytes, fua);
    return this.fenced(async () => {
      await this.eachPiece(offset, lengthBytes, (p) =>
        p.kind === "blocks"
          ? this.writeZeroBlocks(p.offset, p.length)
          : this.modify(p, (b) => b.fill(0, p.start, p.end)),
      );
      if (fua) await this.io.flush(this.h, this.epoch);
    });
  }

  /** A prefetch hint: nothing to do (reads are served from the WAL index or the extent). */
  cache(): Promise<void> {
    return this.fenced(async () => {});
  }

  private eachPiece(offset: number, lengthBytes: number, fn: (p: Piece) => Promise<unknown>): Promise<void> {
    return settleAll(splitByBlock(offset, lengthBytes, this.blockBytes).map(fn));
  }

  /** Read-modify-write of one partial block (under the volume's lock of that block). */
  private modify(p: Piece & { kind: "partial" }, patch: (block: Buffer) => void): Promise<void> {
    const lba = this.lba(p.blockOffset);
    return modifyBlock(
      this.h,
      p.blockOffset,
      () => this.io.read(this.h, lba, this.blockBytes),
      patch,
      (block) => this.io.write(this.h, lba, block, this.epoch),
    );
  }

  /** Storage takes at most maxWriteBytes per record; the pieces are appended in order at once. */
  private writeBlocks(offset: number, data: Buffer): Promise<void> {
    const piece = this.h.volume.tuning.maxWriteBytes;
    const writes: Promise<number>[] = [];
    for (let at = 0; at < data.length; at += piece) {
      const part = data.subarray(at, Math.min(data.length, at + piece));
      writes.push(this.io.write(this.h, this.lba(offset + at), part, this.epoch));
    }
    return settleAll(writes);
  }

  private writeZeroBlocks(offset: number, lengthBytes: number): Promise<void> {
    const piece = Math.min(lengthBytes, this.h.volume.tuning.maxWriteBytes);
    const zeros = Buffer.alloc(piece);
    let at = 0;
    const next = async (): Promise<void> => {
      while (at < lengthBytes) {
        const mine = at;
        const len = Math.min(piece, lengthBytes - mine);
        at += len;
        await this.io.write(this.h, this.lba(offset + mine), zeros.subarray(0, len), this.epoch);
      }
    };
    return settleAll(Array.from({ length: ZERO_WRITE_CONCURRENCY }, next));
  }
}

/** Waits for every promise (none left unobserved), then throws the first failure. */
async function settleAll(all: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(all);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed !== undefined) throw failed.reason;
}

/** Exports of this agent's volumes: a volume is exported while this copy is the writable primary. */
export class VolumeBackend implements NbdBackend {
  constructor(
    private readonly host: VolumeHost,
    private readonly io: VolumeIo,
    private readonly isShuttingDown: () => boolean,
    /** Told about every export handed out (GetStatus finds the frontend from the volume). */
    private readonly onOpened: (h: HostedVolume) => void = () => {},
  ) {}

  list(): { name: string; description: string }[] {
    return this.host
      .list()
      .filter((h) => h.fence.gateReason() === null)
      .map((h) => ({ name: h.volumeId, description: `blockship volume (${h.volume.durabilityMode})` }));
  }

  open(name: string): OpenResult {
    if (this.isShuttingDown()) return { ok: false, refusal: "shutdown", message: "the agent is stopping" };
    const h = this.host.get(name);
    if (h === undefined)
      return { ok: false, refusal: "unknown", message: `no volume ${JSON.stringify(name)} on this agent` };
    const gate = h.fence.gateReason();
    if (gate !== null) return { ok: false, refusal: "shutdown", message: notPrimaryMessage(h, gate) };
    this.onOpened(h);
    return { ok: true, export: new VolumeExport(h, this.io, () => this.host.get(name) === h) };
  }
}

function notPrimaryMessage(h: HostedVolume, gate: string): string {
  const a = h.runtime.assignment;
  const primary = a?.primaryServerId ?? "";
  const at = a !== undefined && a.primaryAddress !== "" ? ` (${a.primaryAddress})` : "";
  const where = primary !== "" ? `; the primary is ${primary}${at}` : "";
  return `volume ${h.volumeId} is not writable here (${gate}, role ${h.fence.role}, epoch ${h.volume.epoch})${where}`;
}
