import type { ReplicationClient, ResyncRequest } from "@blockship/rpc";
import {
  type BlockRange,
  crc32,
  isStorageError,
  type NeedsRebuildEvent,
  type RecordRef,
} from "@blockship/storage";
import { ResyncChannel, ResyncError } from "./resync-channel";
import { countBlocks, pieces, RangeCollector, unionRanges } from "./resync-ranges";
import type { ResyncSourceVolume, WriteTracker } from "./resync-volume";
import { TokenBucket } from "./token-bucket";
import { generationsToWire, numFromWire, numToWire, recordRefToWire } from "./wire";

// The primary side of a changed-block resync (Replication.Resync). One session per replica:
//   begin{fork} → the replica's own changed ranges;
//   pass k: T_k = head, pin the WAL from T_k + 1, send the current content of the set (pass 1: the
//     primary's changes since the fork ∪ the replica's; pass k > 1: blocks written during pass k-1,
//     from a write tracker started at T_1);
//   after a pass whose pin still holds (the retention budget did not release it), commit at T_k:
//     the replica's log ends at the primary's record T_k and the shipper streams from T_k + 1,
//     which the pin keeps for a grace period after success.
// Blocks are idempotent, so a failed session is simply run again (the whole set is re-sent).

export interface ResyncProgress {
  pass: number;
  /** Blocks of the current pass not sent yet. */
  blocksLeft: number;
  blocksSent: number;
  bytesSent: number;
}

export interface RunResyncOptions {
  readonly volume: ResyncSourceVolume;
  readonly client: ReplicationClient;
  readonly volumeId: string;
  readonly epoch: number;
  readonly primaryServerId: string;
  readonly replicaServerId: string;
  /** Pin owner suffix: the pin is `resync:<replicaId>`. */
  readonly replicaId: string;
  readonly forkLsn: number;
  /** 0 or undefined = unlimited. */
  readonly rateBytesPerSecond?: number;
  /** Passes before giving up with resync_passes_exceeded (default 8). */
  readonly maxPasses?: number;
  readonly signal: AbortSignal;
  readonly onProgress?: (p: ResyncProgress) => void;
  /** How long the pin stays after success, for the shipper's hand-over (default 60 s). */
  readonly pinGraceMs?: number;
  /** Bytes per blocks message (a multiple of the block size, default and at most 1 MiB). */
  readonly messageBytes?: number;
  /** Bytes sent and not acknowledged by the replica (default 4 MiB). */
  readonly maxUnackedBytes?: number;
  /** The pin's age is renewed this often while a pass runs (storage's age budget; default 10 s). */
  readonly pinRefreshMs?: number;
}

export interface ResyncResult {
  baseLsn: number;
  consistentLsn: number;
  passes: number;
  blocksSent: number;
  bytesSent: number;
}

export const DEFAULT_RESYNC_MAX_PASSES = 8;
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** The WAL pin owner of a resync towards one replica. */
export function resyncPinOwner(replicaId: string): string {
  return `resync:${replicaId}`;
}

interface Session {
  readonly o: RunResyncOptions;
  readonly v: ResyncSourceVolume;
  readonly ch: ResyncChannel;
  readonly owner: string;
  readonly bucket: TokenBucket | undefined;
  readonly messageBlocks: number;
  readonly maxUnackedBytes: number;
  readonly refreshMs: number;
  pinReleased: boolean;
  blocksSent: number;
  bytesSent: number;
}

/** Runs one resync session to its commit; throws a ResyncError (stable reason) on failure. */
export async function runResync(o: RunResyncOptions): Promise<ResyncResult> {
  const v = o.volume;
  const maxPasses = o.maxPasses ?? DEFAULT_RESYNC_MAX_PASSES;
  const messageBytes = o.messageBytes ?? MAX_MESSAGE_BYTES;
  if (!(Number.isSafeInteger(maxPasses) && maxPasses >= 1)) throw new RangeError("maxPasses must be >= 1");
  if (!(messageBytes >= v.blockSize && messageBytes <= MAX_MESSAGE_BYTES && messageBytes % v.blockSize === 0))
    throw new RangeError(`messageBytes must be a multiple of ${v.blockSize} up to ${MAX_MESSAGE_BYTES}`);
  const rate = o.rateBytesPerSecond ?? 0;
  const s: Session = {
    o,
    v,
    ch: new ResyncChannel(o.client, o.signal),
    owner: resyncPinOwner(o.replicaId),
    bucket: rate > 0 ? new TokenBucket(rate, rate * 0.05) : undefined,
    messageBlocks: messageBytes / v.blockSize,
    maxUnackedBytes: o.maxUnackedBytes ?? 4 * MAX_MESSAGE_BYTES,
    refreshMs: o.pinRefreshMs ?? 10_000,
    pinReleased: false,
    blocksSent: 0,
    bytesSent: 0,
  };
  const onRelease = (ev: NeedsRebuildEvent): void => {
    if (ev.owner === s.owner) s.pinReleased = true;
  };
  v.on("needsRebuild", onRelease);
  let tracker: WriteTracker | undefined;
  let ok = false;
  try {
    await s.ch.send(request(o, { begin: { fork_lsn: numToWire(o.forkLsn) } }));
    const theirs = await receiveRanges(s);
    let pass = 1;
    let base = startPass(s);
    tracker = v.trackWrites();
    const first = changesSince(v, o.forkLsn);
    await sendPass(s, 1, () => unionRanges(first.ranges(), theirs.runs));
    while (s.pinReleased) {
      if (pass >= maxPasses) {
        throw new ResyncError(
          "resync_passes_exceeded",
          `writes outran the resync for ${pass} passes (the WAL could not retain a pass's writes)`,
        );
      }
      pass++;
      base = startPass(s);
      const written = tracker.drain();
      await sendPass(s, pass, () => written.ranges());
    }
    const consistentLsn = v.headLsn;
    await commit(s, base, consistentLsn);
    ok = true;
    return {
      baseLsn: base.lsn,
      consistentLsn,
      passes: pass,
      blocksSent: s.blocksSent,
      bytesSent: s.bytesSent,
    };
  } catch (err) {
    s.ch.cancel();
    throw err instanceof ResyncError ? err : toResyncError(err);
  } finally {
    tracker?.close();
    v.off("needsRebuild", onRelease);
    afterSession(s, ok, o.pinGraceMs ?? 60_000);
  }
}

/** The primary's changes since the fork; below its tracking base they are unknown. */
function changesSince(
  v: ResyncSourceVolume,
  forkLsn: number,
): ReturnType<ResyncSourceVolume["changedBlocks"]> {
  try {
    return v.changedBlocks(forkLsn);
  } catch (err) {
    if (isStorageError(err, "out_of_range")) {
      throw new ResyncError("resync_untracked", `the primary: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

function request(o: RunResyncOptions, body: Omit<ResyncRequest, "volume_id">): ResyncRequest {
  return {
    volume_id: o.volumeId,
    epoch: numToWire(o.epoch),
    primary_server_id: o.primaryServerId,
    replica_server_id: o.replicaServerId,
    ...body,
  };
}

/** ranges… then ranges_done: the replica's own changes since the fork, validated. */
async function receiveRanges(s: Session): Promise<RangeCollector> {
  const volumeBlocks = s.v.volumeSizeBytes / s.v.blockSize;
  const c = new RangeCollector(volumeBlocks);
  for (;;) {
    const m = await s.ch.next();
    if (m.body === "ranges") {
      for (const r of m.ranges?.ranges ?? []) {
        const bad = c.add(
          numFromWire(r.first_block, "first_block"),
          numFromWire(r.block_count, "block_count"),
        );
        if (bad !== undefined) throw new ResyncError("invalid_argument", `the replica's ranges: ${bad}`);
      }
    } else if (m.body === "ranges_done") {
      const bs = m.ranges_done?.block_size_bytes;
      if (bs !== s.v.blockSize)
        throw new ResyncError("invalid_argument", `the replica's block size ${bs} is not ${s.v.blockSize}`);
      return c;
    } else {
      throw new ResyncError("invalid_argument", `unexpected ${m.body ?? "empty"} before ranges_done`);
    }
  }
}

interface PassBase {
  readonly lsn: number;
  readonly record: RecordRef;
  readonly history: ReturnType<ResyncSourceVolume["history"]>;
}

/** T = head, pinned from T + 1, with its record and history: all taken without yielding. */
function startPass(s: Session): PassBase {
  const lsn = s.v.headLsn;
  s.v.unpinWal(s.owner);
  s.v.pinWal(s.owner, lsn + 1);
  s.pinReleased = false;
  const record = s.v.recordAt(lsn);
  if (record === undefined)
    throw new ResyncError("internal", `the primary cannot name its record at head ${lsn}`);
  const history = s.v.history().filter((g) => g.firstLsn <= lsn);
  return { lsn, record, history };
}

/**
 * Sends the current content of every block in `set()` (iterated twice: once to count). The next
 * piece is read while the current one is sent (one read ahead: memory stays at a few messages).
 */
async function sendPass(s: Session, pass: number, set: () => Iterable<BlockRange>): Promise<void> {
  let blocksLeft = countBlocks(set());
  const bs = s.v.blockSize;
  let refreshAt = Date.now() + s.refreshMs;
  report(s, pass, blocksLeft);
  const it = pieces(set(), s.messageBlocks)[Symbol.iterator]();
  const readNext = (): { p: BlockRange; data: Promise<Buffer> } | undefined => {
    const r = it.next();
    if (r.done) return undefined;
    const data = s.v.read(r.value.lba, r.value.blocks * bs);
    data.catch(() => {}); // awaited below; a failure after an abort is nobody's business
    return { p: r.value, data };
  };
  let cur = readNext();
  while (cur !== undefined) {
    const { p } = cur;
    const data = await cur.data;
    const next = readNext();
    await s.bucket?.take(data.length, s.o.signal);
    await s.ch.awaitAcks(s.bytesSent, s.maxUnackedBytes);
    await s.ch.send(
      request(s.o, { blocks: { offset_bytes: numToWire(p.lba * bs), data, data_crc32: crc32(data) } }),
    );
    s.blocksSent += p.blocks;
    s.bytesSent += data.length;
    blocksLeft -= p.blocks;
    report(s, pass, blocksLeft);
    if (Date.now() >= refreshAt) {
      refreshAt = Date.now() + s.refreshMs;
      renewPinAge(s);
    }
    cur = next;
  }
  await s.ch.awaitAcks(s.bytesSent, 0);
}

/** Storage keeps a pin's age unless it moves: re-pin at the same LSN (synchronously) while alive. */
function renewPinAge(s: Session): void {
  if (s.pinReleased) return;
  const lsn = s.v.pinnedLsn(s.owner);
  if (lsn === undefined) return;
  s.v.unpinWal(s.owner);
  s.v.pinWal(s.owner, lsn);
}

async function commit(s: Session, base: PassBase, consistentLsn: number): Promise<void> {
  const baseRecord = recordRefToWire(base.record);
  await s.ch.send(
    request(s.o, {
      commit: {
        base_lsn: numToWire(base.lsn),
        ...(baseRecord === undefined ? {} : { base_record: baseRecord }),
        generations: generationsToWire(base.history),
        consistent_lsn: numToWire(consistentLsn),
      },
    }),
  );
  const m = await s.ch.next();
  if (m.body !== "committed" || m.committed?.base_lsn !== String(base.lsn)) {
    throw new ResyncError(
      "invalid_argument",
      `expected committed at ${base.lsn}, got ${m.body ?? "nothing"}`,
    );
  }
  await s.ch.finish();
}

function report(s: Session, pass: number, blocksLeft: number): void {
  try {
    s.o.onProgress?.({ pass, blocksLeft, blocksSent: s.blocksSent, bytesSent: s.bytesSent });
  } catch (err) {
    process.emitWarning(`runResync onProgress threw: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Success: the pin stays for the grace period (hand-over); failure: it goes at once. */
function afterSession(s: Session, ok: boolean, graceMs: number): void {
  const pinned = s.v.pinnedLsn(s.owner);
  if (pinned === undefined) return;
  if (!ok) {
    s.v.unpinWal(s.owner);
    return;
  }
  const t = setTimeout(() => {
    try {
      // A newer session of the same replica may have re-pinned: leave its pin alone.
      if (s.v.pinnedLsn(s.owner) === pinned) s.v.unpinWal(s.owner);
    } catch {
      // The volume closed meanwhile: its pins went with it.
    }
  }, graceMs);
  t.unref();
}

function toResyncError(err: unknown): ResyncError {
  const reason = (err as { reason?: unknown } | null)?.reason;
  const detail = err instanceof Error ? err.message : String(err);
  return new ResyncError(typeof reason === "string" && reason !== "" ? reason : "internal", detail, {
    cause: err,
  });
}
