// The last line of defence of the agent process: an unhandled rejection or an uncaught exception
// is logged (event `unhandled_rejection` / `uncaught_exception`), counted, and the process keeps
// serving. Every RPC path catches its own errors and answers with a code and reason; this guard
// exists so that a bug we missed fails one request (and, where its state is in doubt, one volume)
// instead of taking every volume of the agent down at once.
//
// Attribution: an error that names a volume (a `volumeId` property on it or on an error in its
// `cause` chain), or that was raised inside volume-scoped work (`inVolumeScope`: the volume's
// lock, its Volume RPCs, its housekeeping tick), fails that volume the way a failed fsync does
// (sticky `volume_failed` until the volume is reopened), because its in-memory state may no
// longer match what it persisted. An error that cannot be attributed is logged and counted only:
// the state every volume persists is guarded by storage itself, which fails a volume on its own
// I/O errors, and exiting would turn one bug into an outage of every volume on the agent.
import { AsyncLocalStorage } from "node:async_hooks";
import type { Logger } from "./log";

export type GuardEventKind = "unhandled_rejection" | "uncaught_exception";
/** What the guard did: failed the attributed volume, or (no volume, or not hosted) only logged it. */
export type GuardAction = "volume_failed" | "logged";

const volumeScope = new AsyncLocalStorage<string>();

/** Runs fn with `volumeId` as the volume that any error escaping it asynchronously is blamed on. */
export function inVolumeScope<T>(volumeId: string, fn: () => T): T {
  return volumeScope.run(volumeId, fn);
}

/** The volume an escaped error belongs to: named by the error (or its causes), else the scope. */
export function attributedVolume(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && typeof e === "object" && e !== null; depth++) {
    const id = (e as { volumeId?: unknown }).volumeId;
    if (typeof id === "string" && id !== "") return id;
    e = (e as { cause?: unknown }).cause;
  }
  return volumeScope.getStore();
}

export interface ProcessGuardDeps {
  readonly log: Logger;
  /** Counts one event (a prom-client counter). */
  readonly count: (kind: GuardEventKind, action: GuardAction) => void;
  /** Fails the hosted volume `volumeId` (sticky); false when this agent does not host it. */
  readonly failVolume: (volumeId: string, err: unknown) => boolean;
  /** The process to guard (tests pass an EventEmitter). */
  readonly target?: NodeJS.EventEmitter;
}

/** Installs both handlers; returns the function that removes them again. */
export function installProcessGuard(deps: ProcessGuardDeps): () => void {
  const target = deps.target ?? process;
  const handle = (kind: GuardEventKind, err: unknown): void => {
    try {
      const volumeId = attributedVolume(err);
      let action: GuardAction = "logged";
      if (volumeId !== undefined && deps.failVolume(volumeId, err)) action = "volume_failed";
      deps.count(kind, action);
      deps.log.error(
        { event: kind, action, ...(volumeId === undefined ? {} : { volumeId }), err: describe(err) },
        kind === "unhandled_rejection"
          ? "process guard: unhandled rejection (the agent keeps serving)"
          : "process guard: uncaught exception (the agent keeps serving)",
      );
    } catch {
      // The guard itself must never throw: that would be a second uncaught exception.
    }
  };
  const onRejection = (reason: unknown): void => handle("unhandled_rejection", reason);
  const onException = (err: unknown): void => handle("uncaught_exception", err);
  target.on("unhandledRejection", onRejection);
  target.on("uncaughtException", onException);
  return () => {
    target.off("unhandledRejection", onRejection);
    target.off("uncaughtException", onException);
  };
}

/** pino's err serializer keeps an Error's name, message, stack and own fields (reason, volumeId). */
function describe(err: unknown): unknown {
  return err instanceof Error ? err : { message: String(err) };
}
