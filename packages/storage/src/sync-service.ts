import type { BlockDevice } from "./device";

/**
 * The one place that calls fdatasync while the volume is open. At most one sync runs at a time;
 * every request gets a sync that starts after the request, and requests that arrive while one runs
 * share the next. Group commit, the flusher and superblock writes all come through here, so the
 * kernel never runs several writebacks of the same file against each other.
 */
export class SyncService {
  private running: Promise<void> | undefined;
  private next: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | undefined;
  count = 0;

  constructor(private readonly device: BlockDevice) {}

  sync(): Promise<void> {
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
    const p = this.device.sync();
    this.running = p;
    const after = (): void => {
      this.running = undefined;
      const n = this.next;
      this.next = undefined;
      if (n) this.start().then(n.resolve, n.reject);
    };
    p.then(after, after);
    return p;
  }
}

/** The device as seen by group commit, flusher and superblock writer: syncs go through the service. */
export class SharedSyncDevice implements BlockDevice {
  readonly service: SyncService;

  constructor(private readonly inner: BlockDevice) {
    this.service = new SyncService(inner);
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

  close(): Promise<void> {
    return this.inner.close();
  }
}
