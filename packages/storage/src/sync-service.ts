import type { BlockDevice } from "./device";
import { StorageError, wrapIoError } from "./errors";

/**
 * The one place that calls fdatasync while the volume is open. At most one sync runs at a time;
 * every request gets a sync that starts after the request, and requests that arrive while one runs
 * share the next. Group commit, the flusher and superblock writes all come through here, so the
 * kernel never runs several writebacks of the same file against each other.
 *
 * A failed sync is sticky ("fsyncgate"): after a failed fdatasync the kernel may have dropped the
 * dirty pages it could not write and marked them clean, so a later sync that succeeds proves
 * nothing about them. From the first failure on, the sync queued behind it and every later one
 * reject with that failure (`io_error: sync failed: …`) without touching the device; only
 * reopening the volume (which re-derives its state from what is on disk) clears it.
 */
export class SyncService {
  private running: Promise<void> | undefined;
  private next: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | undefined;
  private failure: StorageError | undefined;
  count = 0;

  constructor(
    private readonly device: BlockDevice,
    /** Called once, with the first sync failure (the volume fails itself). */
    private readonly onFailure: (err: StorageError) => void = () => undefined,
  ) {}

  /** The sticky sync failure, if a sync has failed. */
  get failed(): StorageError | undefined {
    return this.failure;
  }

  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.running) return this.start();
    if (!this.next) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.next = { promise, resolve, reject };
    }
    return this.next.promise;
  }

  private start(): Promise<void> {
    this.count++;
    const p = this.device.sync().catch((err: unknown) => {
      throw this.noteFailure(err);
    });
    this.running = p;
    const after = (): void => {
      this.running = undefined;
      const n = this.next;
      this.next = undefined;
      if (!n) return;
      if (this.failure) n.reject(this.failure);
      else this.start().then(n.resolve, n.reject);
    };
    p.then(after, after);
    return p;
  }

  private noteFailure(err: unknown): StorageError {
    if (this.failure) return this.failure;
    const e = wrapIoError(err, "sync failed");
    this.failure = e.reason === "io_error" ? e : new StorageError("io_error", `sync failed: ${e.message}`);
    this.onFailure(this.failure);
    return this.failure;
  }
}

/** The device as seen by group commit, flusher and superblock writer: syncs go through the service. */
export class SharedSyncDevice implements BlockDevice {
  readonly service: SyncService;

  constructor(
    private readonly inner: BlockDevice,
    onSyncFailure?: (err: StorageError) => void,
  ) {
    this.service = new SyncService(inner, onSyncFailure);
  }

  get sizeBytes(): number {
    return this.inner.sizeBytes;
  }

  read(buf: Buffer, offsetBytes: number): Promise<void> {
    return this.inner.read(buf, offsetBytes);
  }

  writev(bufs: readonly Buffer[], offsetBytes: number): Promise<void> {
    return this.inner.writev(bufs, offsetBytes);
  }

  sync(): Promise<void> {
    return this.service.sync();
  }

  get writevDurable(): ((bufs: readonly Buffer[], offsetBytes: number) => Promise<void>) | undefined {
    const inner = this.inner;
    if (!inner.writevDurable) return undefined;
    return (bufs, offsetBytes) => inner.writevDurable!(bufs, offsetBytes);
  }

  get discard(): ((offsetBytes: number, lengthBytes: number) => Promise<void>) | undefined {
    const inner = this.inner;
    if (!inner.discard) return undefined;
    return (offsetBytes, lengthBytes) => inner.discard!(offsetBytes, lengthBytes);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
