import type { RebuildClient } from "@blockship/rpc";
import { assert, messageOf } from "./errors";
import { type PulledImage, type PullState, type RebuildTargetVolume, runAttempt } from "./rebuild-attempt";
import { classifyAttemptError, RebuildError } from "./rebuild-errors";
import { DEFAULT_CHUNK_BYTES, MAX_CHUNK_BYTES } from "./rebuild-request";
import { ResumePoints } from "./rebuild-resume";
import { cancellableSleep } from "./signal";

export interface RebuildProgress {
  readonly stage: "base" | "tail";
  /** Image bytes stored so far (the whole image once the tail runs). */
  readonly bytesDone: number;
  readonly totalBytes: number;
  readonly baseLsn: number;
  /** Highest tail LSN staged (the base until the tail starts). */
  readonly lastLsn: number;
  readonly resumes: number;
}

export interface PullRebuildOptions {
  /** This copy (role REBUILDING). Its previous state stays readable until the commit. */
  readonly volume: RebuildTargetVolume;
  readonly volumeId: string;
  /** The copy's assigned epoch; a function is re-read before every attempt (a change restarts from 0). */
  readonly epoch: number | (() => number);
  /** This agent's server ID (must be in the primary's replica set). */
  readonly replicaServerId: string;
  readonly primaryAddress: string;
  /**
   * Who serves the image (the primary's server ID): a staged image saved from another source is
   * not resumed after a restart. Default: `primaryAddress`.
   */
  readonly sourceId?: string;
  /** How often a resume point is saved while the image streams (default 1000 ms). */
  readonly resumePointEveryMs?: number;
  /** A fresh client per attempt (credentials are the caller's), e.g. `connectRebuild(addr, {credentials})`. */
  readonly connect: (address: string) => RebuildClient;
  /** Requested rate in bytes/s; 0 or undefined = the primary's default (the primary may cap it). */
  readonly rateLimitBytesPerSecond?: number;
  /** Requested chunk size (block multiple up to 4 MiB); 0 or undefined = the primary's default (1 MiB). */
  readonly chunkSizeBytes?: number;
  readonly retry?: {
    /** Attempts in total (default 20). */
    readonly maxAttempts?: number;
    /** Give up once this much time passed since the start (default: no deadline). */
    readonly deadlineMs?: number;
    /** Back-off between attempts (defaults 200 and 5000 ms; doubles after each failure). */
    readonly backoffMinMs?: number;
    readonly backoffMaxMs?: number;
  };
  /** A stream that delivers nothing for this long counts as broken (default 60 s). */
  readonly idleTimeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: RebuildProgress) => void;
}

export interface PullRebuildResult {
  readonly baseLsn: number;
  readonly lastLsn: number;
  readonly totalBytes: number;
  /** Image and tail bytes received over every attempt (re-sent bytes count again). */
  readonly bytesTransferred: number;
  /** Attempts after the first. */
  readonly resumes: number;
  /** Image bytes kept from a pull interrupted by a restart of this agent (0: pulled from the start). */
  readonly resumedFromBytes: number;
}

/**
 * Pulls a base image and the WAL tail from the primary into this copy and commits both at once
 * (`commitInstall`). A broken stream resumes from the end of the last chunk stored with the same
 * base; only `wal_recycled`, an epoch change or a changed base start over from offset 0. Any final
 * failure or abort calls `abortInstall()`, so the copy's previous state stays intact, and throws a
 * RebuildError with a reason.
 */
export async function pullRebuild(o: PullRebuildOptions): Promise<PullRebuildResult> {
  const cfg = resolveOptions(o);
  const v = o.volume;
  const epochNow = typeof o.epoch === "function" ? o.epoch : () => o.epoch as number;
  const startedMs = Date.now();
  const state: PullState = {
    baseLsn: undefined,
    storedBytes: 0,
    lastLsn: 0,
    tailStaged: false,
    bytesTransferred: 0,
  };
  let imageEpoch = 0;
  let installOpen = false;
  let attempts = 0;
  let backoffMs = cfg.backoffMinMs;
  let resumedFromBytes = 0;
  const points = new ResumePoints(v, o.sourceId ?? o.primaryAddress, cfg.resumePointEveryMs);
  const fresh = async (): Promise<void> => {
    await points.settle();
    if (installOpen) await v.abortInstall();
    installOpen = false;
    await v.beginInstall({ resume: false });
    installOpen = true;
    points.reset();
    Object.assign(state, { baseLsn: undefined, storedBytes: 0, lastLsn: 0, tailStaged: false });
  };
  /** Continues the staged image a previous life of this agent saved a point for, if it may. */
  const resumeSaved = async (epoch: number): Promise<void> => {
    if (v.installResumePoint === undefined) return;
    await v.beginInstall({ resume: true });
    installOpen = true;
    const p = await points.usable(epoch);
    if (p === undefined) return await fresh();
    Object.assign(state, {
      baseLsn: p.baseLsn,
      storedBytes: p.imageBytes,
      lastLsn: p.baseLsn,
      tailStaged: false,
    });
    imageEpoch = epoch;
    resumedFromBytes = p.imageBytes;
  };
  const fail = async (reason: string, message: string, cause?: unknown): Promise<never> => {
    await points.settle();
    if (installOpen) await v.abortInstall().catch(() => undefined);
    throw new RebuildError(reason, message, attempts, cause === undefined ? undefined : { cause });
  };
  const commit = async (r: PulledImage, epoch: number): Promise<PullRebuildResult> => {
    try {
      await points.settle();
      // The primary's base record anchors the installed log's CRC chain (even with an empty tail).
      const base = r.baseRecord;
      await v.commitInstall(r.baseLsn, epoch, {
        imageHighLsn: r.lastLsn,
        ...(base === undefined ? {} : { baseRecord: { crc: base.crc, epoch: base.epoch } }),
      });
    } catch (err) {
      installOpen = false; // storage ended the install (before its commit point the old state stands)
      const c = classifyAttemptError(err);
      return fail(c.reason, `commit failed: ${c.message}`, err);
    }
    installOpen = false;
    return {
      baseLsn: r.baseLsn,
      lastLsn: r.lastLsn,
      totalBytes: v.volumeSizeBytes,
      bytesTransferred: state.bytesTransferred,
      resumes: attempts - 1,
      resumedFromBytes,
    };
  };
  try {
    await resumeSaved(epochNow());
    for (;;) {
      if (o.signal?.aborted) return await fail("cancelled", "the rebuild was cancelled");
      const epoch = epochNow();
      if (!installOpen || (state.baseLsn !== undefined && epoch !== imageEpoch)) await fresh();
      imageEpoch = epoch;
      attempts++;
      const progressBefore = state.bytesTransferred;
      const client = o.connect(o.primaryAddress);
      let pulled: PulledImage | undefined;
      let verdict: ReturnType<typeof classifyAttemptError> | undefined;
      try {
        pulled = await runAttempt({
          client,
          volume: v,
          volumeId: o.volumeId,
          epoch,
          replicaServerId: o.replicaServerId,
          rateLimitBytesPerSecond: cfg.rate,
          chunkSizeBytes: cfg.chunk,
          idleTimeoutMs: cfg.idleTimeoutMs,
          signal: o.signal,
          state,
          stored: () => points.stored(state, epoch),
          progress: (stage) =>
            o.onProgress?.({
              stage,
              bytesDone: state.storedBytes,
              totalBytes: v.volumeSizeBytes,
              baseLsn: state.baseLsn ?? 0,
              lastLsn: state.lastLsn,
              resumes: attempts - 1,
            }),
        });
      } catch (err) {
        if (o.signal?.aborted) return await fail("cancelled", "the rebuild was cancelled", err);
        verdict = classifyAttemptError(err);
        if (verdict.verdict === "fatal") return await fail(verdict.reason, verdict.message, err);
      } finally {
        client.close();
      }
      if (o.signal?.aborted) return await fail("cancelled", "the rebuild was cancelled");
      if (pulled !== undefined) {
        if (epochNow() === epoch) return await commit(pulled, epoch);
        // Re-assigned meanwhile: an image pulled at the old epoch must not be committed.
        verdict = { verdict: "restart", reason: "epoch_changed", message: `epoch moved from ${epoch}` };
      }
      assert(verdict !== undefined, "an attempt ends with a result or a verdict");
      if (verdict.verdict === "restart") {
        await points.settle();
        if (installOpen) await v.abortInstall();
        installOpen = false;
        resumedFromBytes = 0;
      }
      if (attempts >= cfg.maxAttempts || Date.now() - startedMs + backoffMs > cfg.deadlineMs) {
        return await fail(verdict.reason, `gave up after ${attempts} attempts: ${verdict.message}`);
      }
      // An attempt that moved data restarts the back-off; a changed base is not a connection
      // failure at all: start over at once.
      if (state.bytesTransferred > progressBefore) backoffMs = cfg.backoffMinMs;
      if (verdict.reason !== "base_changed") {
        const sleep = cancellableSleep(backoffMs);
        const stop = (): void => sleep.cancel();
        o.signal?.addEventListener("abort", stop, { once: true });
        await sleep.done;
        o.signal?.removeEventListener("abort", stop);
        backoffMs = Math.min(backoffMs * 2, cfg.backoffMaxMs);
      }
    }
  } catch (err) {
    if (err instanceof RebuildError) throw err;
    // A local failure outside an attempt (beginInstall, abortInstall): keep the old state.
    return fail(classifyAttemptError(err).reason, messageOf(err), err);
  }
}

function resolveOptions(o: PullRebuildOptions) {
  const rate = o.rateLimitBytesPerSecond ?? 0;
  const chunk = o.chunkSizeBytes ?? 0;
  const maxAttempts = o.retry?.maxAttempts ?? 20;
  const backoffMinMs = o.retry?.backoffMinMs ?? 200;
  const backoffMaxMs = o.retry?.backoffMaxMs ?? 5_000;
  const idleTimeoutMs = o.idleTimeoutMs ?? 60_000;
  const deadlineMs = o.retry?.deadlineMs ?? Number.POSITIVE_INFINITY;
  const resumePointEveryMs = o.resumePointEveryMs ?? 1000;
  if (!(resumePointEveryMs > 0)) throw new RangeError("resumePointEveryMs must be > 0");
  if (!(Number.isSafeInteger(rate) && rate >= 0)) throw new RangeError(`rateLimitBytesPerSecond ${rate}`);
  const bs = o.volume.blockSize;
  if (!(Number.isSafeInteger(chunk) && chunk >= 0 && chunk <= MAX_CHUNK_BYTES && chunk % bs === 0)) {
    throw new RangeError(`chunkSizeBytes ${chunk} must be a block multiple <= ${MAX_CHUNK_BYTES}`);
  }
  if (!(Number.isSafeInteger(maxAttempts) && maxAttempts >= 1))
    throw new RangeError("retry.maxAttempts must be >= 1");
  if (!(backoffMinMs > 0 && backoffMaxMs >= backoffMinMs)) throw new RangeError("retry back-off bounds");
  if (!(idleTimeoutMs > 0)) throw new RangeError("idleTimeoutMs must be > 0");
  if (!(deadlineMs > 0)) throw new RangeError("retry.deadlineMs must be > 0");
  assert(DEFAULT_CHUNK_BYTES <= MAX_CHUNK_BYTES, "chunk limits");
  return {
    rate,
    chunk,
    maxAttempts,
    backoffMinMs,
    backoffMaxMs,
    idleTimeoutMs,
    deadlineMs,
    resumePointEveryMs,
  };
}
