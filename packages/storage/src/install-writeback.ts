import type { BlockDevice } from "./device";
import { assert } from "./errors";

/**
 * Background writeback of a staging image while its chunks arrive: after every `everyBytes`
 * written, an fdatasync starts without being awaited, so the kernel writes the image out during the
 * transfer and the commit's final sync finds little left. Writers wait only when more than
 * `maxLagBytes` were written since the running sync started (bounding the dirty backlog). A failed
 * background sync is reported by the next `wrote()` or `idle()`.
 */
export class StagingWriteback {
  private sinceSyncBytes = 0;
  private running: Promise<void> | undefined;
  private error: unknown;
  syncs = 0;

  constructor(
    private readonly device: BlockDevice,
    private readonly everyBytes: number,
    private readonly maxLagBytes: number,
  ) {
    assert(everyBytes > 0 && maxLagBytes >= everyBytes, "writeback limits");
  }

  /** Accounts `bytes` just written; may start a sync, and waits for one when too far behind. */
  async wrote(bytes: number): Promise<void> {
    this.throwIfFailed();
    this.sinceSyncBytes += bytes;
    if (this.running && this.sinceSyncBytes > this.maxLagBytes) await this.running;
    this.throwIfFailed();
    if (!this.running && this.sinceSyncBytes >= this.everyBytes) this.start();
  }

  /** Resolves when no background sync runs; throws if one failed. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
    this.throwIfFailed();
  }

  private start(): void {
    this.sinceSyncBytes = 0;
    this.syncs++;
    const p: Promise<void> = this.device.sync().then(
      () => {
        if (this.running === p) this.running = undefined;
      },
      (err: unknown) => {
        this.error ??= err;
        if (this.running === p) this.running = undefined;
      },
    );
    this.running = p;
  }

  private throwIfFailed(): void {
    if (this.error !== undefined) throw this.error;
  }
}
