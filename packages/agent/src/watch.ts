// WatchStatus: an initial snapshot at once, then a report whenever the watched state changes
// (coalesced) and at least every interval. Bounded: while the client does not read (write()
// returned false) nothing more is queued, changes are merged into the next report after 'drain'.
// The stream ends on cancel, or with UNAVAILABLE shutting_down when the agent stops.
import { EventEmitter } from "node:events";
import {
  RpcError,
  requireIntInRange,
  requireList,
  requireVolumeId,
  type StatusReport,
  type StatusTrigger,
  type WatchStatusRequest__Output,
  type WatchStatusResponse,
} from "@blockship/rpc";
import type { ServerWritableStream } from "@grpc/grpc-js";

export const DEFAULT_WATCH_INTERVAL_MS = 5000;
/** Changes closer together than this are merged into one report. */
export const WATCH_COALESCE_MS = 20;

/** Fires 'change' after anything that may alter a status report. */
export class ChangeFeed extends EventEmitter<{ change: [] }> {
  constructor() {
    super();
    this.setMaxListeners(0);
  }
  notify(): void {
    this.emit("change");
  }
}

export interface WatchDeps {
  readonly feed: ChangeFeed;
  readonly stopping: AbortSignal;
  /** A snapshot of the given volumes (all when empty). */
  report(volumeIds: readonly string[]): StatusReport;
  /** What counts as a change worth a report (role, epoch, mode, sender state, session). */
  fingerprint(report: StatusReport): string;
}

export function parseWatchRequest(req: WatchStatusRequest__Output): {
  intervalMs: number;
  volumeIds: string[];
} {
  const intervalMs =
    req.interval_ms === 0
      ? DEFAULT_WATCH_INTERVAL_MS
      : requireIntInRange(req.interval_ms, "interval_ms", 100, 3_600_000);
  const volumeIds = requireList(req.volume_ids, "volume_ids").map((id, i) =>
    requireVolumeId(id, `volume_ids[${i}]`),
  );
  return { intervalMs, volumeIds };
}

export function watchStatus(
  call: ServerWritableStream<WatchStatusRequest__Output, WatchStatusResponse>,
  deps: WatchDeps,
): Promise<void> {
  const { intervalMs, volumeIds } = parseWatchRequest(call.request);
  if (deps.stopping.aborted) return Promise.reject(new RpcError("shutting_down", "the agent is stopping"));
  return new Promise<void>((resolve, reject) => {
    let done = false;
    let blocked = false;
    let dirty = false;
    let lastPrint = "";
    let intervalTimer: NodeJS.Timeout | undefined;
    let coalesceTimer: NodeJS.Timeout | undefined;

    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(intervalTimer);
      clearTimeout(coalesceTimer);
      deps.feed.off("change", onChange);
      deps.stopping.removeEventListener("abort", onStop);
      if (err === undefined) resolve();
      else reject(err);
    };
    const send = (trigger: StatusTrigger): void => {
      if (done) return;
      clearTimeout(intervalTimer);
      dirty = false;
      const report = deps.report(volumeIds);
      lastPrint = deps.fingerprint(report);
      const ok = call.write({ report, trigger });
      if (ok) {
        arm();
        return;
      }
      blocked = true;
      call.once("drain", () => {
        blocked = false;
        if (dirty) considerChange();
        else arm();
      });
    };
    const arm = (): void => {
      intervalTimer = setTimeout(() => send("STATUS_TRIGGER_INTERVAL"), intervalMs);
    };
    const considerChange = (): void => {
      if (done || blocked) return;
      const report = deps.report(volumeIds);
      if (deps.fingerprint(report) !== lastPrint) send("STATUS_TRIGGER_CHANGE");
      else dirty = false;
    };
    const onChange = (): void => {
      dirty = true;
      if (coalesceTimer !== undefined || blocked) return;
      coalesceTimer = setTimeout(() => {
        coalesceTimer = undefined;
        considerChange();
      }, WATCH_COALESCE_MS);
    };
    const onStop = (): void => finish(new RpcError("shutting_down", "the agent is stopping"));

    deps.feed.on("change", onChange);
    deps.stopping.addEventListener("abort", onStop);
    call.on("cancelled", () => finish());
    call.on("error", () => finish());
    send("STATUS_TRIGGER_INITIAL");
  });
}
