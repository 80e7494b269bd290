import {
  type RebuildHandlers,
  RpcError,
  type ServerCallLike,
  type StreamBaseRequest__Output,
  type StreamBaseResponse,
  serverStreamHandler,
} from "@blockship/rpc";
import { isStorageError, type NeedsRebuildEvent, type Volume } from "@blockship/storage";
import { messageOf } from "./errors";
import { Outbox, type StreamBaseCall } from "./rebuild-outbox";
import {
  checkGeometry,
  effectiveRate,
  parseStreamBaseRequest,
  type StreamBaseFields,
} from "./rebuild-request";
import { type ImageStreamProgress, streamImageAndTail } from "./rebuild-stream";
import { type RateClock, realRateClock, TokenBucket, type TokenBucketStats } from "./token-bucket";

/** What the agent knows about a volume it may serve a rebuild from (read at the start and per message). */
export interface RebuildSourceAuthority {
  /** The agent's role for the volume; only "primary" serves rebuilds. */
  readonly role: string;
  /** The agent's current (fenced) epoch of the volume. */
  readonly epoch: number;
  /** Server IDs of the volume's assigned replicas: only they may pull an image. */
  readonly replicaServerIds: ReadonlySet<string>;
}

/** One volume as a rebuild source, given by the agent's `resolve(volumeId)`. */
export interface RebuildSourceHost {
  readonly volume: Volume;
  authority(): RebuildSourceAuthority;
  /** Rate when the request asks for 0; 0 or undefined = unlimited. */
  readonly defaultRateBytesPerSecond?: number;
  /** Cap on any request's rate; 0 or undefined = no cap. */
  readonly maxRateBytesPerSecond?: number;
}

export interface RebuildSourceOptions {
  /** Transport identity check (TLS peer ↔ replica_server_id); throw an RpcError to refuse. */
  readonly authorizeCaller?: (call: ServerCallLike, replicaServerId: string) => void;
  /**
   * The verified TLS identity of a call's peer (mutual TLS), as for replicationServiceHandlers:
   * when given, the identity must equal replica_server_id, and a call without one is refused
   * (`unauthenticated_peer`). Leave it out on plaintext or TLS without client certificates.
   */
  readonly peerIdentity?: (call: ServerCallLike) => string | undefined;
  /** How long a broken (or finished) stream's WAL pin is kept for a resume or the shipper's hand-over (default 60 s). */
  readonly pinGraceMs?: number;
  /**
   * While a stream makes progress its pin cannot advance (the tail starts at base + 1), so storage's
   * max-age budget would release it during a long (rate-limited) copy. The stream renews the pin's
   * age this often (default 10 s); the byte budget still applies.
   */
  readonly pinRefreshMs?: number;
  /** Bytes of WAL records per tail message (default 512 KiB). */
  readonly tailBatchBytes?: number;
  /** Messages handed to grpc-js and not yet written, per stream (default 2). */
  readonly maxInFlightMessages?: number;
  /** Token bucket burst in seconds of the rate (default 0.05 s). */
  readonly burstSeconds?: number;
  readonly rateClock?: RateClock;
  /** Called once per stream that passed validation, when it ends (metrics, tests). */
  readonly onStreamEnd?: (report: RebuildStreamReport) => void;
}

export interface RebuildStreamReport {
  readonly volumeId: string;
  readonly replicaServerId: string;
  readonly outcome: "done" | "cancelled" | "failed";
  /** The error's reason when failed (`not_primary`, `epoch_mismatch`, `wal_recycled`, ...). */
  readonly reason?: string;
  readonly baseLsn: number;
  readonly lastLsn: number;
  readonly resumeOffsetBytes: number;
  readonly imageBytesSent: number;
  readonly tailBytesSent: number;
  readonly chunkSizeBytes: number;
  /** Effective rate limit (0 = unlimited). */
  readonly rateBytesPerSecond: number;
  /** The limiter's own accounting: bytes admitted, time slept, span (>= bytes / rate). */
  readonly throttle?: TokenBucketStats;
}

/** The WAL pin owner of a rebuild towards one replica. */
export function rebuildPinOwner(replicaServerId: string): string {
  return `rebuild:${replicaServerId}`;
}

interface Slot {
  /** The stream currently serving this replica; a new one supersedes it. */
  active: AbortController | undefined;
  graceTimer: NodeJS.Timeout | undefined;
}

/** Abort reason of a stream whose caller went away (nobody to tell). */
const CALLER_CANCELLED = Symbol("caller cancelled");

/** Reasons after which a resume is pointless: the pin goes at once. */
const DROP_PIN_REASONS = new Set(["not_primary", "epoch_mismatch", "unauthenticated_peer", "wal_recycled"]);

/**
 * The primary side of Rebuild.StreamBase. Per (volume, replica) one stream at a time and one WAL
 * pin (`rebuild:<replicaServerId>`), kept for `pinGraceMs` after a stream breaks so that a resume
 * continues with the same base, and after Done (moved to last + 1) so the shipper can take over.
 */
export class RebuildSource {
  private readonly slots = new WeakMap<Volume, Map<string, Slot>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pinGraceMs: number;
  private readonly pinRefreshMs: number;
  private readonly tailBatchBytes: number;
  private readonly maxInFlight: number;
  private readonly burstSeconds: number;

  constructor(
    private readonly resolve: (volumeId: string) => RebuildSourceHost,
    private readonly opts: RebuildSourceOptions = {},
  ) {
    this.pinGraceMs = opts.pinGraceMs ?? 60_000;
    this.pinRefreshMs = opts.pinRefreshMs ?? 10_000;
    this.tailBatchBytes = opts.tailBatchBytes ?? 512 * 1024;
    this.maxInFlight = opts.maxInFlightMessages ?? 2;
    this.burstSeconds = opts.burstSeconds ?? 0.05;
    if (!(this.pinGraceMs >= 0)) throw new RangeError("pinGraceMs must be >= 0");
    if (!(this.pinRefreshMs > 0)) throw new RangeError("pinRefreshMs must be > 0");
    if (!(Number.isSafeInteger(this.tailBatchBytes) && this.tailBatchBytes > 0))
      throw new RangeError("tailBatchBytes must be > 0");
    if (!(Number.isSafeInteger(this.maxInFlight) && this.maxInFlight >= 1))
      throw new RangeError("maxInFlightMessages must be >= 1");
  }

  handlers(): Pick<RebuildHandlers, "StreamBase"> {
    return {
      StreamBase: serverStreamHandler<StreamBaseRequest__Output, StreamBaseResponse>((call) =>
        this.serve(call as unknown as StreamBaseCall & { request: StreamBaseRequest__Output }),
      ),
    };
  }

  /** Clears grace timers (their pins stay until the volume closes or the agent unpins). */
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async serve(call: StreamBaseCall & { request: StreamBaseRequest__Output }): Promise<void> {
    const f = parseStreamBaseRequest(call.request);
    const host = this.resolve(f.volumeId);
    this.opts.authorizeCaller?.(call, f.replicaServerId);
    if (this.opts.peerIdentity !== undefined) {
      const peer = this.opts.peerIdentity(call);
      if (peer !== f.replicaServerId) {
        throw new RpcError(
          "unauthenticated_peer",
          `the caller's certificate identity ${JSON.stringify(peer ?? null)} is not replica_server_id ${f.replicaServerId}`,
        );
      }
    }
    checkAuthority(host.authority(), f);
    const v = host.volume;
    const chunkBytes = checkGeometry(f, v.volumeSizeBytes, v.blockSize);
    const owner = rebuildPinOwner(f.replicaServerId);
    const slot = this.slotOf(v, owner);
    slot.active?.abort(
      new RpcError("shutting_down", "superseded: a newer StreamBase from the same replica took over"),
    );
    this.cancelGrace(slot);
    const ac = new AbortController();
    slot.active = ac;
    let baseLsn: number;
    try {
      baseLsn = this.pinBase(v, owner, f);
    } catch (err) {
      // Refused before streaming (wal_recycled, ...): whatever pin this replica had ages out.
      slot.active = undefined;
      this.startGrace(v, owner, slot);
      throw err;
    }

    const rate = effectiveRate(
      f.rateLimitBytesPerSecond,
      host.defaultRateBytesPerSecond,
      host.maxRateBytesPerSecond,
    );
    const bucket =
      rate > 0
        ? new TokenBucket(rate, rate * this.burstSeconds, this.opts.rateClock ?? realRateClock)
        : undefined;
    const onCancelled = (): void => ac.abort(CALLER_CANCELLED);
    call.on("cancelled", onCancelled);
    const onRelease = (ev: NeedsRebuildEvent): void => {
      if (ev.owner === owner) {
        ac.abort(
          new RpcError(
            "wal_recycled",
            `the rebuild's WAL pin at LSN ${ev.pinnedLsn} was released (${ev.reason})`,
          ),
        );
      }
    };
    v.on("needsRebuild", onRelease);
    const outbox = new Outbox(call, this.maxInFlight, ac.signal);
    let outcome: RebuildStreamReport["outcome"] = "failed";
    let reason: string | undefined;
    const refresh = { atMs: Date.now() };
    const progress: ImageStreamProgress = { imageBytes: 0, tailBytes: 0, tailBatches: 0, lastLsn: baseLsn };
    try {
      const finished = await streamImageAndTail({
        volume: v,
        baseLsn,
        fromOffsetBytes: f.resumeOffsetBytes,
        chunkBytes,
        tailBatchBytes: this.tailBatchBytes,
        bucket,
        outbox,
        signal: ac.signal,
        check: () => {
          checkAuthority(host.authority(), f);
          this.renewPinAge(v, owner, refresh);
        },
        progress,
      });
      if (!finished) {
        const why: unknown = ac.signal.reason;
        if (why !== CALLER_CANCELLED) throw why; // superseded, or the pin was released
        outcome = "cancelled";
        return;
      }
      outcome = "done";
    } catch (err) {
      reason = reasonOfError(err);
      throw isStorageError(err, "wal_recycled") ? new RpcError("wal_recycled", messageOf(err)) : err;
    } finally {
      call.off("cancelled", onCancelled);
      v.off("needsRebuild", onRelease);
      if (slot.active === ac) slot.active = undefined;
      this.afterStream(v, owner, slot, outcome, reason);
      this.report({
        volumeId: f.volumeId,
        replicaServerId: f.replicaServerId,
        outcome,
        ...(reason === undefined ? {} : { reason }),
        baseLsn,
        lastLsn: progress.lastLsn,
        resumeOffsetBytes: f.resumeOffsetBytes,
        imageBytesSent: progress.imageBytes,
        tailBytesSent: progress.tailBytes,
        chunkSizeBytes: chunkBytes,
        rateBytesPerSecond: rate,
        ...(bucket === undefined ? {} : { throttle: bucket.stats() }),
      });
    }
  }

  /** A throwing observer must not change the stream's outcome. */
  private report(r: RebuildStreamReport): void {
    try {
      this.opts.onStreamEnd?.(r);
    } catch (err) {
      process.emitWarning(`RebuildSource onStreamEnd threw: ${messageOf(err)}`);
    }
  }

  /** A fresh stream pins a new base; a resume re-pins the base it was given (if still retained). */
  private pinBase(v: Volume, owner: string, f: StreamBaseFields): number {
    if (f.resumeOffsetBytes === 0) return v.pinBaseImage(owner).baseLsn;
    const base = f.resumeBaseLsn;
    if (base > v.checkpointLsn) {
      throw new RpcError(
        "invalid_argument",
        `resume_base_lsn: ${base} is beyond this primary's checkpoint ${v.checkpointLsn} (not a base it gave)`,
      );
    }
    const pinned = v.pinnedLsn(owner);
    if (pinned !== undefined && pinned <= base + 1) return base;
    try {
      v.pinWal(owner, base + 1);
    } catch (err) {
      if (isStorageError(err, "wal_recycled")) {
        throw new RpcError(
          "wal_recycled",
          `resume_base_lsn ${base}: the WAL after it is no longer retained (tail LSN ${v.tailLsn}); restart from offset 0`,
        );
      }
      throw err;
    }
    return base;
  }

  /**
   * Storage keeps a pin's age unless the pin moves; re-pinning at the same LSN right after unpinning
   * (synchronously: nothing can recycle in between) starts a new age for a stream that is alive.
   */
  private renewPinAge(v: Volume, owner: string, refresh: { atMs: number }): void {
    const now = Date.now();
    if (now - refresh.atMs < this.pinRefreshMs) return;
    refresh.atMs = now;
    const lsn = v.pinnedLsn(owner);
    if (lsn === undefined) return; // released: the needsRebuild listener ends the stream
    v.unpinWal(owner);
    v.pinWal(owner, lsn);
  }

  private afterStream(
    v: Volume,
    owner: string,
    slot: Slot,
    outcome: RebuildStreamReport["outcome"],
    reason: string | undefined,
  ): void {
    if (slot.active !== undefined) return; // a newer stream owns the pin now
    if (outcome === "failed" && reason !== undefined && DROP_PIN_REASONS.has(reason)) {
      v.unpinWal(owner);
      return;
    }
    // Done or not, the pin stays at base + 1 for the grace period: Done on the stream does not mean
    // the copy committed (it may restart and resume from base + 1), and it keeps everything the
    // copy lacks until the shipper's own pin takes over (hand-over without a recycled gap).
    this.startGrace(v, owner, slot);
  }

  private startGrace(v: Volume, owner: string, slot: Slot): void {
    this.cancelGrace(slot);
    const t = setTimeout(() => {
      this.timers.delete(t);
      slot.graceTimer = undefined;
      if (slot.active === undefined) v.unpinWal(owner);
    }, this.pinGraceMs);
    t.unref();
    slot.graceTimer = t;
    this.timers.add(t);
  }

  private cancelGrace(slot: Slot): void {
    if (slot.graceTimer === undefined) return;
    clearTimeout(slot.graceTimer);
    this.timers.delete(slot.graceTimer);
    slot.graceTimer = undefined;
  }

  private slotOf(v: Volume, owner: string): Slot {
    let m = this.slots.get(v);
    if (m === undefined) {
      m = new Map();
      this.slots.set(v, m);
    }
    let s = m.get(owner);
    if (s === undefined) {
      s = { active: undefined, graceTimer: undefined };
      m.set(owner, s);
    }
    return s;
  }
}

/** `Rebuild` service handlers for @blockship/rpc's startServer (`handlers: { rebuild: ... }`). */
export function rebuildServiceHandlers(
  resolve: (volumeId: string) => RebuildSourceHost,
  opts: RebuildSourceOptions = {},
): Pick<RebuildHandlers, "StreamBase"> {
  return new RebuildSource(resolve, opts).handlers();
}

/** Role, epoch and membership; read at the start and again before every message. */
function checkAuthority(a: RebuildSourceAuthority, f: StreamBaseFields): void {
  if (a.role !== "primary")
    throw new RpcError("not_primary", `volume ${f.volumeId} is ${a.role} here, not primary`);
  if (a.epoch !== f.epoch) {
    throw new RpcError("epoch_mismatch", `request epoch ${f.epoch}, primary epoch ${a.epoch}`);
  }
  if (!a.replicaServerIds.has(f.replicaServerId)) {
    throw new RpcError(
      "unauthenticated_peer",
      `${f.replicaServerId} is not in the replica set of ${f.volumeId} at epoch ${a.epoch}`,
    );
  }
}

function reasonOfError(err: unknown): string {
  if (err instanceof RpcError) return err.reason;
  const r = (err as { reason?: unknown } | null)?.reason;
  return typeof r === "string" ? r : "internal";
}
