// blockship.v1.Volume: client block I/O. Writes, trims, flushes and reads pass the fence's write
// gate (before and after): a demoted primary or a replica must not answer a client with data the
// primary may have overwritten. A read that asks for a copy's data (allow_copy_read) is served by
// any role. Flush is durableFlush under the volume's persisted durability mode.

import type { U64Wire } from "@blockship/rpc";
import {
  bidiStreamHandler,
  invalidArgument,
  RpcError,
  requireBytes,
  requireU64,
  requireVolumeId,
  unaryHandler,
  type VolumeHandlers,
  type WriteStreamRequest__Output,
  type WriteStreamResponse,
} from "@blockship/rpc";
import type { ServerDuplexStream } from "@grpc/grpc-js";
import { mapErrors, volumeNotFound } from "./errors";
import type { HostedVolume } from "./hosted-volume";
import type { EventMetrics, IoOp } from "./metrics";
import { inVolumeScope } from "./process-guard";
import type { ReplicationBinding } from "./replication-port";
import { volumeInfoOf } from "./status";
import type { VolumeHost } from "./volume-host";

/** Largest Write/Read payload (proto: 8 MiB). */
export const MAX_IO_BYTES = 8 * 1024 * 1024;
/** WriteStream: writes per message and data bytes per message (proto limits). */
const MAX_STREAM_WRITES = 4096;
const MAX_STREAM_BYTES = 15 * 1024 * 1024;
/** WriteStream requests processed ahead of their responses (bounds memory per stream). */
const STREAM_PIPELINE_DEPTH = 16;

export interface VolumeServiceDeps {
  readonly host: VolumeHost;
  readonly binding: ReplicationBinding;
  readonly isShuttingDown: () => boolean;
  /** Counts and times client I/O and durable flushes (absent: not measured). */
  readonly metrics?: EventMetrics;
}

export class VolumeIo {
  constructor(private readonly deps: VolumeServiceDeps) {}

  hosted(volumeIdWire: unknown): HostedVolume {
    if (this.deps.isShuttingDown()) throw new RpcError("shutting_down", "the agent is stopping");
    const id = requireVolumeId(volumeIdWire);
    const h = this.deps.host.get(id);
    if (h === undefined) throw volumeNotFound(id);
    return h;
  }

  /** An LBA as a safe integer; anything beyond the volume is out_of_range (never invalid). */
  lba(h: HostedVolume, wire: U64Wire, field = "lba"): number {
    const lba = requireU64(wire, field);
    const blocks = BigInt(h.volume.volumeSizeBytes / h.volume.blockSize);
    if (lba >= blocks)
      throw new RpcError("out_of_range", `${field} ${lba} is outside the volume (${blocks} blocks)`);
    return Number(lba);
  }

  expectedEpoch(wire: U64Wire | undefined): number {
    const e = requireU64(wire ?? "0", "expected_epoch", { max: BigInt(Number.MAX_SAFE_INTEGER) });
    return Number(e);
  }

  private timed<T>(h: HostedVolume, op: IoOp, bytes: number, run: () => Promise<T>): Promise<T> {
    const m = this.deps.metrics;
    // Anything escaping this volume's I/O path is blamed on this volume by the process guard.
    return inVolumeScope(h.volumeId, () => (m === undefined ? run() : m.timeIo(h.volumeId, op, bytes, run)));
  }

  write(h: HostedVolume, lba: number, data: Buffer, expectedEpoch: number): Promise<number> {
    return this.timed(h, "write", data.length, () =>
      h.fence.guarded(expectedEpoch, () => writePieces(h, lba, data)),
    );
  }

  /** Fenced like a write unless `allowCopyRead` (then any role serves its own copy's data). */
  read(h: HostedVolume, lba: number, lengthBytes: number, allowCopyRead = false): Promise<Buffer> {
    return this.timed(h, "read", lengthBytes, () =>
      allowCopyRead
        ? h.volume.read(lba, lengthBytes)
        : h.fence.guarded(0, () => h.volume.read(lba, lengthBytes)),
    );
  }

  /**
   * Any trim inside the volume goes to storage as one call: storage keeps a trimmed range as one
   * entry and one (or, past 2^31 blocks, a few) 48-byte records, whatever its length.
   */
  trim(h: HostedVolume, lba: number, lengthBytes: number, expectedEpoch: number): Promise<number> {
    return this.timed(h, "trim", lengthBytes, () => this.guardedTrim(h, lba, lengthBytes, expectedEpoch));
  }

  private guardedTrim(
    h: HostedVolume,
    lba: number,
    lengthBytes: number,
    expectedEpoch: number,
  ): Promise<number> {
    return h.fence.guarded(expectedEpoch, () => h.volume.trim(lba, lengthBytes));
  }

  flush(h: HostedVolume, expectedEpoch: number): Promise<number> {
    return this.timed(h, "flush", 0, () =>
      h.fence.guarded(expectedEpoch, async () => {
        const mode = h.volume.durabilityMode;
        const startedMs = performance.now();
        try {
          const lsn = await this.deps.binding.durableFlush(h.volume, h.runtime.shippers, mode);
          this.deps.metrics?.durableFlush(h.volumeId, mode, performance.now() - startedMs);
          h.runtime.flushed({ ok: true, lsn });
          return lsn;
        } catch (err) {
          this.deps.metrics?.durableFlush(h.volumeId, mode, performance.now() - startedMs, reasonOf(err));
          h.runtime.flushed({ ok: false, reason: err instanceof Error ? err.message : String(err) });
          throw err;
        }
      }),
    );
  }
}

/**
 * A write larger than the volume's largest record (a small WAL bounds it below the 8 MiB the RPC
 * allows) is split into record-sized pieces, submitted together (consecutive LSNs) and awaited
 * together, so every piece's failure is observed; resolves with the last piece's LSN.
 */
function writePieces(h: HostedVolume, lba: number, data: Buffer): Promise<number> {
  const piece = h.volume.tuning.maxWriteBytes;
  if (data.length <= piece) return h.volume.write(lba, data);
  const pieces: Promise<number>[] = [];
  for (let off = 0; off < data.length; off += piece) {
    pieces.push(h.volume.write(lba + off / h.volume.blockSize, data.subarray(off, off + piece)));
  }
  return Promise.all(pieces).then((lsns) => Math.max(...lsns));
}

/** The stable reason of a storage / replication / RPC error ("internal" when it carries none). */
function reasonOf(err: unknown): string {
  const reason = typeof err === "object" && err !== null ? (err as { reason?: unknown }).reason : undefined;
  return typeof reason === "string" ? reason : "internal";
}

export function volumeServiceHandlers(deps: VolumeServiceDeps): Partial<VolumeHandlers> {
  const io = new VolumeIo(deps);
  return {
    Write: unaryHandler((req) =>
      mapErrors(async () => {
        const h = io.hosted(req.volume_id);
        const data = requireBytes(req.data, "data", {
          maxBytes: MAX_IO_BYTES,
          multipleOf: h.volume.blockSize,
        });
        const lba = io.lba(h, req.lba);
        const lsn = await io.write(h, lba, data, io.expectedEpoch(req.expected_epoch));
        return { lsn: String(lsn) };
      }),
    ),
    Read: unaryHandler((req) =>
      mapErrors(async () => {
        const h = io.hosted(req.volume_id);
        const bs = h.volume.blockSize;
        const len = req.length_bytes;
        if (!Number.isInteger(len) || len < bs || len > MAX_IO_BYTES || len % bs !== 0) {
          throw invalidArgument(
            "length_bytes",
            `must be a multiple of ${bs} in ${bs}..${MAX_IO_BYTES}, got ${len}`,
          );
        }
        const lba = io.lba(h, req.lba);
        return { data: await io.read(h, lba, len, req.allow_copy_read === true) };
      }),
    ),
    Trim: unaryHandler((req) =>
      mapErrors(async () => {
        const h = io.hosted(req.volume_id);
        const bs = h.volume.blockSize;
        const len = requireU64(req.length_bytes, "length_bytes", { min: BigInt(bs) });
        if (len % BigInt(bs) !== 0n)
          throw invalidArgument("length_bytes", `must be a multiple of ${bs}, got ${len}`);
        const lba = io.lba(h, req.lba);
        if (BigInt(lba) * BigInt(bs) + len > BigInt(h.volume.volumeSizeBytes)) {
          throw new RpcError(
            "out_of_range",
            `trim of ${len} bytes at lba ${lba} runs past the end of the volume`,
          );
        }
        const lsn = await io.trim(h, lba, Number(len), io.expectedEpoch(req.expected_epoch));
        return { lsn: String(lsn) };
      }),
    ),
    Flush: unaryHandler((req) =>
      mapErrors(async () => {
        const h = io.hosted(req.volume_id);
        const lsn = await io.flush(h, io.expectedEpoch(req.expected_epoch));
        return { durable_lsn: String(lsn) };
      }),
    ),
    GetInfo: unaryHandler((req) => mapErrors(async () => volumeInfoOf(io.hosted(req.volume_id)))),
    WriteStream: bidiStreamHandler((call) => mapErrors(() => writeStream(io, call))),
  };
}

/**
 * Requests are read in order, their writes submitted at once (LSN order = request order), and
 * answered in order; at most STREAM_PIPELINE_DEPTH requests are in flight (reading pauses), so a
 * client that sends faster than the WAL absorbs is slowed by gRPC flow control, not by our memory.
 * Events, not `for await`: the async iterator would destroy the duplex (and our replies) at end.
 */
function writeStream(
  io: VolumeIo,
  call: ServerDuplexStream<WriteStreamRequest__Output, WriteStreamResponse>,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let h: HostedVolume | undefined;
    const pending: Promise<WriteStreamResponse>[] = [];
    let ended = false;
    let failed = false;
    let pumping = false;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      for (const p of pending) p.catch(() => {});
      call.pause();
      reject(err);
    };
    const pump = async (): Promise<void> => {
      if (pumping) return;
      pumping = true;
      try {
        while (pending.length > 0 && !failed) {
          const res = await (pending[0] as Promise<WriteStreamResponse>);
          pending.shift();
          if (!call.write(res)) await drainedOrGone(call);
          if (pending.length < STREAM_PIPELINE_DEPTH) call.resume();
        }
        if (ended && pending.length === 0 && !failed) resolve();
      } catch (err) {
        fail(err);
      } finally {
        pumping = false;
      }
    };
    call.on("data", (req: WriteStreamRequest__Output) => {
      if (failed) return;
      try {
        if (h === undefined) h = io.hosted(req.volume_id);
        else if (req.volume_id !== "" && req.volume_id !== h.volumeId) {
          throw invalidArgument(
            "volume_id",
            `the stream is for ${h.volumeId}, got ${JSON.stringify(req.volume_id)}`,
          );
        }
        const p = submit(io, h, req);
        p.catch(() => {}); // observed by pump, in order
        pending.push(p);
        if (pending.length >= STREAM_PIPELINE_DEPTH) call.pause();
        void pump();
      } catch (err) {
        fail(err);
      }
    });
    call.on("end", () => {
      ended = true;
      void pump();
    });
    call.on("cancelled", () => {
      failed = true;
      for (const p of pending) p.catch(() => {});
      resolve();
    });
  });
}

/**
 * Resolves once the response stream drains, or once the call is cancelled or closed: a client that
 * stops reading and then hangs up must not leave the pump (and its held responses) waiting forever.
 */
function drainedOrGone(
  call: ServerDuplexStream<WriteStreamRequest__Output, WriteStreamResponse>,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      call.off("drain", done);
      call.off("cancelled", done);
      call.off("close", done);
      resolve();
    };
    call.once("drain", done);
    call.once("cancelled", done);
    call.once("close", done);
  });
}

function submit(
  io: VolumeIo,
  h: HostedVolume,
  req: WriteStreamRequest__Output,
): Promise<WriteStreamResponse> {
  const writes = req.writes ?? [];
  if (writes.length > MAX_STREAM_WRITES) {
    return Promise.reject(
      invalidArgument("writes", `at most ${MAX_STREAM_WRITES} writes per message, got ${writes.length}`),
    );
  }
  let total = 0;
  const lsns: Promise<number>[] = [];
  try {
    const expected = io.expectedEpoch(req.expected_epoch);
    const bs = h.volume.blockSize;
    const checked = writes.map((w, i) => {
      const data = requireBytes(w.data, `writes[${i}].data`, { maxBytes: MAX_IO_BYTES, multipleOf: bs });
      total += data.length;
      return { lba: io.lba(h, w.lba, `writes[${i}].lba`), data };
    });
    if (total > MAX_STREAM_BYTES)
      throw invalidArgument("writes", `more than ${MAX_STREAM_BYTES} bytes in one message`);
    for (const w of checked) lsns.push(io.write(h, w.lba, w.data, expected));
    // The flush starts once every write of the message is in the WAL, so it covers them all.
    const done = Promise.all(lsns).then(
      async (all) => [all, req.flush ? await io.flush(h, expected) : 0] as const,
    );
    return done.then(([all, durable]) => ({
      seq: req.seq,
      first_lsn: String(all.length > 0 ? Math.min(...all) : 0),
      last_lsn: String(all.length > 0 ? Math.max(...all) : 0),
      count: all.length,
      durable_lsn: String(durable),
    }));
  } catch (err) {
    for (const p of lsns) p.catch(() => {});
    return Promise.reject(err);
  }
}
