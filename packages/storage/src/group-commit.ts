import type { Appender } from "./appender";
import type { BlockDevice } from "./device";
import { type StorageError, wrapIoError } from "./errors";
import type { Gate } from "./gate";
import type { VolumeState } from "./state";

interface Waiter {
  target: number;
  resolve: (durableLsn: number) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitHooks {
  failure(): StorageError | undefined;
  fail(err: StorageError): void;
}

/**
 * flush() = group commit. All flush() calls that arrive while a sync is in flight wait together for
 * the next one; one fdatasync covers every record appended before it started. Resolves with the
 * durable LSN.
 */
export class GroupCommit {
  private waiting: Waiter[] = [];
  private running = false;
  syncs = 0;

  constructor(
    private readonly state: VolumeState,
    private readonly device: BlockDevice,
    private readonly appender: Appender,
    private readonly gate: Gate,
    private readonly hooks: GroupCommitHooks,
  ) {}

  flush(): Promise<number> {
    const failure = this.hooks.failure();
    if (failure) return Promise.reject(failure);
    const target = this.state.nextLsn - 1;
    if (this.state.durableLsn >= target) return Promise.resolve(this.state.durableLsn);
    return new Promise((resolve, reject) => {
      this.waiting.push({ target, resolve, reject });
      if (!this.running) void this.run();
    });
  }

  /** A sync done by someone else (flusher, superblock write) also made `lsn` durable. */
  noteDurable(lsn: number): void {
    // After any I/O failure nothing more is durable: a sync that succeeds after a failed one does not
    // prove the pages the failed one dropped reached the disk.
    if (this.hooks.failure()) return;
    if (lsn > this.state.durableLsn) this.state.durableLsn = lsn;
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting;
      this.waiting = [];
      // Shared with appends and the flusher; WAL resets (exclusive) cannot interleave with a sync.
      const release = await this.gate.shared();
      try {
        const target = batch.reduce((m, w) => Math.max(m, w.target), 0);
        // Records assigned before the flush call must be written before the sync starts.
        while (this.state.appendedLsn < target) {
          const failure = this.hooks.failure();
          if (failure) throw failure;
          await this.appender.drain();
          if (this.state.appendedLsn < target && this.state.nextLsn - 1 < target) break; // rolled back
        }
        const failure = this.hooks.failure();
        if (failure) throw failure;
        const covered = this.state.appendedLsn;
        if (this.state.durableLsn < covered) {
          try {
            this.syncs++;
            await this.device.sync();
          } catch (err) {
            const e = wrapIoError(err, "fdatasync");
            this.hooks.fail(e);
            throw e;
          }
          // Our sync succeeded, but another one (flusher, superblock) may have failed meanwhile.
          const failedMeanwhile = this.hooks.failure();
          if (failedMeanwhile) throw failedMeanwhile;
          this.noteDurable(covered);
        }
        const durable = this.state.durableLsn;
        for (const w of batch) {
          if (durable >= w.target) w.resolve(durable);
          else w.reject(this.hooks.failure() ?? wrapIoError(new Error("append rolled back"), "flush"));
        }
      } catch (err) {
        for (const w of batch) w.reject(err);
      } finally {
        release();
      }
    }
    this.running = false;
  }
}
