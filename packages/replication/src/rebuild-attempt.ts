import type { RebuildClient, StreamBaseResponse__Output, WalBatch__Output } from "@blockship/rpc";
import { crc32, type InstallBaseRecord, type InstallResumePoint, type RecordRef } from "@blockship/storage";
import type { ClientReadableStream } from "@grpc/grpc-js";
import { assert, messageOf } from "./errors";
import { RebuildError } from "./rebuild-errors";
import { numFromWire, numToWire, recordRefFromWire } from "./wire";

// One StreamBase call of a rebuild pull: request from the last stored offset, validate and store
// every message (chunks → install staging, tail batches → staged tail), and return at Done. The
// retry loop (rebuild-puller.ts) owns resumption; this file owns the per-message rules.

/** The storage operations a rebuild target needs (a @blockship/storage Volume has them). */
export interface RebuildTargetVolume {
  readonly volumeSizeBytes: number;
  readonly blockSize: number;
  beginInstall(opts?: { resume?: boolean }): Promise<void>;
  writeInstallChunk(offsetBytes: number, data: Buffer): Promise<void>;
  /**
   * Stages WAL tail records (raw on-disk bytes) that commitInstall applies with the image; resolves
   * with everything staged so far (`reset` discards the earlier staged records first).
   */
  stageInstallTail(
    bytes: Buffer,
    opts?: { reset?: boolean },
  ): Promise<{ firstLsn: number; lastLsn: number; count: number }>;
  commitInstall(
    baseLsn: number,
    epoch: number,
    opts?: { imageHighLsn?: number; baseRecord?: InstallBaseRecord },
  ): Promise<void>;
  abortInstall(): Promise<void>;
  /**
   * Optional, for resuming across restarts of this agent: after `beginInstall({resume: true})`, the
   * point a previous pull saved for the kept staged image; and saving one (the image bytes it names
   * are synced first).
   */
  installResumePoint?(): Promise<InstallResumePoint | undefined>;
  saveInstallResumePoint?(point: InstallResumePoint): Promise<void>;
}

/** What survives between attempts: the image stored so far and its base. */
export interface PullState {
  /** Base LSN of the stored image; undefined until the first chunk of a fresh image. */
  baseLsn: number | undefined;
  /** End of the contiguous image stored so far (bytes from offset 0). */
  storedBytes: number;
  /** Highest LSN staged in the tail (this attempt), the base until then. */
  lastLsn: number;
  /** Some attempt on this image staged tail records (each tail phase resets them). */
  tailStaged: boolean;
  bytesTransferred: number;
}

export interface AttemptParams {
  readonly client: RebuildClient;
  readonly volume: RebuildTargetVolume;
  readonly volumeId: string;
  readonly epoch: number;
  readonly replicaServerId: string;
  readonly rateLimitBytesPerSecond: number;
  readonly chunkSizeBytes: number;
  readonly idleTimeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly state: PullState;
  readonly progress: (stage: "base" | "tail") => void;
  /** More of the image is stored (`state.storedBytes` moved). */
  readonly stored: () => void;
}

/** What a completed attempt pulled: the base, the last LSN and the primary's base record. */
export interface PulledImage {
  readonly baseLsn: number;
  readonly lastLsn: number;
  /** undefined when the primary could not name it. */
  readonly baseRecord: RecordRef | undefined;
}

/** Runs one call to Done (resolves with what it pulled) or throws what broke it. */
export async function runAttempt(p: AttemptParams): Promise<PulledImage> {
  const s = p.state;
  const call: ClientReadableStream<StreamBaseResponse__Output> = p.client.StreamBase({
    volume_id: p.volumeId,
    epoch: numToWire(p.epoch),
    replica_server_id: p.replicaServerId,
    resume_offset_bytes: numToWire(s.baseLsn === undefined ? 0 : s.storedBytes),
    resume_base_lsn: numToWire(s.baseLsn ?? 0),
    rate_limit_bytes_per_second: numToWire(p.rateLimitBytesPerSecond),
    chunk_size_bytes: p.chunkSizeBytes,
  });
  let idle = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      idle = true;
      call.cancel();
    }, p.idleTimeoutMs);
  };
  const onAbort = (): void => call.cancel();
  p.signal?.addEventListener("abort", onAbort, { once: true });
  const m = new MessageRules(p);
  try {
    arm();
    for await (const msg of call as AsyncIterable<StreamBaseResponse__Output>) {
      arm();
      const done = await m.handle(msg);
      if (done !== undefined) return done;
    }
    throw new RebuildError("unavailable", "the stream ended without Done");
  } catch (err) {
    // What was stored decides where the next attempt resumes; a failed local write is fatal.
    const writeFailure = await m.settle();
    if (writeFailure !== undefined) throw writeFailure;
    if (idle)
      throw new RebuildError("idle_timeout", `no message for ${p.idleTimeoutMs} ms`, 0, { cause: err });
    throw err;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    p.signal?.removeEventListener("abort", onAbort);
    call.cancel(); // no-op after the status; frees the call on early exits
  }
}

/** Chunk writes in flight at once: the next one starts while the previous is still in the kernel. */
const WRITE_DEPTH = 2;

/** Per-message validation against what was stored before. */
class MessageRules {
  private readonly size: number;
  private tailStarted = false;
  /** End of the last chunk accepted (written or being written) in this attempt. */
  private acceptedEnd: number;
  /** Chunk writes not yet completed, in offset order; `storedBytes` moves as they complete in order. */
  private readonly writes: Array<{ readonly end: number; readonly done: Promise<void> }> = [];

  constructor(private readonly p: AttemptParams) {
    this.size = p.volume.volumeSizeBytes;
    p.state.lastLsn = p.state.baseLsn ?? 0;
    this.acceptedEnd = p.state.storedBytes;
  }

  /**
   * Waits for every chunk write of this attempt; `storedBytes` ends at the last one that completed
   * with all before it. Resolves with the first write error (a local storage failure), if any.
   */
  async settle(): Promise<unknown> {
    let failure: unknown;
    while (this.writes.length > 0) {
      try {
        await this.completeOldest();
      } catch (err) {
        failure ??= err;
        this.writes.length = 0; // nothing after a failed write counts as stored
      }
    }
    this.acceptedEnd = this.p.state.storedBytes;
    return failure;
  }

  private async completeOldest(): Promise<void> {
    const w = this.writes[0];
    assert(w !== undefined, "a write to complete");
    await w.done;
    this.writes.shift();
    this.p.state.storedBytes = w.end;
    this.p.stored();
    this.p.progress("base");
  }

  private async drainWrites(): Promise<void> {
    const failure = await this.settle();
    if (failure !== undefined) throw failure;
  }

  async handle(msg: StreamBaseResponse__Output): Promise<PulledImage | undefined> {
    if (msg.body === "chunk" && msg.chunk) await this.chunk(msg.chunk.offset_bytes, msg.chunk);
    else if (msg.body === "tail" && msg.tail) await this.tail(msg.tail);
    else if (msg.body === "done" && msg.done) {
      await this.drainWrites();
      return this.done(msg.done);
    } else violation(`unexpected message ${JSON.stringify(msg.body)}`);
    return undefined;
  }

  private async chunk(
    offsetWire: string,
    c: { data: Buffer; total_size_bytes: string; base_lsn: string; data_crc32: number },
  ): Promise<void> {
    const s = this.p.state;
    const offset = wireNum(offsetWire, "chunk.offset_bytes");
    const total = wireNum(c.total_size_bytes, "chunk.total_size_bytes");
    const base = wireNum(c.base_lsn, "chunk.base_lsn");
    if (this.tailStarted) violation("image chunk after the tail started");
    if (total !== this.size)
      violation(`total_size_bytes ${total} differs from this copy's size ${this.size}`);
    if (s.baseLsn === undefined) {
      assert(s.storedBytes === 0, "no base without a fresh image");
      s.baseLsn = base;
      s.lastLsn = base;
    } else if (base !== s.baseLsn) {
      throw new RebuildError(
        "base_changed",
        `the primary sent base ${base}, the stored image has base ${s.baseLsn}`,
      );
    }
    if (offset !== this.acceptedEnd) violation(`chunk at offset ${offset}, expected ${this.acceptedEnd}`);
    const len = c.data.length;
    const bs = this.p.volume.blockSize;
    if (len === 0 || len % bs !== 0 || offset + len > this.size) {
      violation(`chunk of ${len} bytes at ${offset} is not whole blocks within ${this.size} bytes`);
    }
    const crc = crc32(c.data);
    if (crc !== c.data_crc32) {
      // Damaged on the way (or by a faulty primary): never staged; the puller resumes from the last
      // stored offset, within its retry budget.
      throw new RebuildError(
        "chunk_checksum_mismatch",
        `chunk at offset ${offset} (${len} bytes) has CRC ${hex(crc)}, the primary sent ${hex(c.data_crc32)}`,
      );
    }
    s.bytesTransferred += len;
    const done = this.p.volume.writeInstallChunk(offset, c.data);
    done.catch(() => {}); // awaited in order by completeOldest/settle
    this.writes.push({ end: offset + len, done });
    this.acceptedEnd = offset + len;
    if (this.writes.length >= WRITE_DEPTH) await this.completeOldest();
  }

  private async tail(t: WalBatch__Output): Promise<void> {
    await this.drainWrites();
    const s = this.p.state;
    if (s.baseLsn === undefined || s.storedBytes !== this.size) {
      violation(`tail batch before the image was complete (${s.storedBytes} of ${this.size} bytes)`);
    }
    const first = wireNum(t.first_lsn, "tail.first_lsn");
    const last = wireNum(t.last_lsn, "tail.last_lsn");
    if (first !== s.lastLsn + 1) violation(`tail batch starts at LSN ${first}, expected ${s.lastLsn + 1}`);
    if (last < first || t.record_count !== last - first + 1 || t.records.length === 0) {
      violation(`tail batch header ${first}..${last} count ${t.record_count} (${t.records.length} bytes)`);
    }
    s.bytesTransferred += t.records.length;
    // Every tail phase replaces what an earlier, broken phase staged (it starts at base + 1 again).
    const r = await this.p.volume.stageInstallTail(t.records, { reset: !this.tailStarted });
    this.tailStarted = true;
    s.tailStaged = true;
    // Storage answers with everything staged so far: base + 1 .. last.
    if (r.firstLsn !== s.baseLsn + 1 || r.lastLsn !== last || r.count !== last - s.baseLsn) {
      violation(
        `staged tail ${r.firstLsn}..${r.lastLsn} (${r.count}) disagrees with the header ${first}..${last}`,
      );
    }
    s.lastLsn = last;
    this.p.progress("tail");
  }

  private done(d: NonNullable<StreamBaseResponse__Output["done"]>): PulledImage {
    const s = this.p.state;
    const base = wireNum(d.base_lsn, "done.base_lsn");
    const last = wireNum(d.last_lsn, "done.last_lsn");
    const total = wireNum(d.total_size_bytes, "done.total_size_bytes");
    if (s.baseLsn === undefined || s.storedBytes !== this.size) {
      violation(`Done before the image was complete (${s.storedBytes} of ${this.size} bytes)`);
    }
    if (base !== s.baseLsn || total !== this.size || last !== s.lastLsn) {
      violation(
        `Done(base ${base}, last ${last}, size ${total}) disagrees with what arrived (base ${s.baseLsn}, last ${s.lastLsn}, size ${this.size})`,
      );
    }
    if (!this.tailStarted && s.tailStaged) {
      // An earlier attempt staged records after this base; an empty tail now means the primary's
      // head went backwards, and committing would apply the stale records.
      violation("Done with an empty tail after an earlier attempt staged one");
    }
    let baseRecord: RecordRef | undefined;
    try {
      baseRecord = recordRefFromWire(d.base_record, "done.base_record");
    } catch (err) {
      violation(messageOf(err));
    }
    if (baseRecord !== undefined && baseRecord.lsn !== base) {
      violation(`done.base_record names LSN ${baseRecord.lsn}, the base is ${base}`);
    }
    return { baseLsn: base, lastLsn: last, baseRecord };
  }
}

function hex(crc: number): string {
  return crc.toString(16).padStart(8, "0");
}

function violation(message: string): never {
  throw new RebuildError("protocol_violation", message);
}

function wireNum(v: string, field: string): number {
  try {
    return numFromWire(v, field);
  } catch (err) {
    return violation(messageOf(err));
  }
}
