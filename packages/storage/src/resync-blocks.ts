import { EXTENT_WRITE_CONCURRENCY } from "./config";
import type { BlockDevice } from "./device";

/** Most bytes of resync blocks held in memory before they go to the extent. */
export const RESYNC_WRITE_BEHIND_BYTES = 32 * 1024 * 1024;

interface Pending {
  offsetBytes: number;
  data: Buffer;
}

/**
 * Write-behind for resync blocks. A block may reach the device only after its change mark is
 * durable (a resumed session learns what an earlier one changed only from the marks), and one
 * durable bitmap write per block message would cost a device flush each. So blocks are held in
 * memory (bounded) and written in batches: one `persistMarks()` (their marks were set when they
 * arrived), then the batch's extent writes, in arrival order where they overlap. Nothing reads the
 * extent meanwhile (reads are refused in transfer); blocks lost in a crash are resent by the
 * resumed session. Holds a view of each `data` until it is written.
 */
export class ResyncWriteBehind {
  private queue: Pending[] = [];
  private queuedBytes = 0;
  /** The batch being written (at most one, while the next one fills). */
  private writing: Promise<void> | undefined;
  private error: unknown;

  constructor(
    private readonly device: BlockDevice,
    private readonly extentOffsetBytes: number,
    private readonly persistMarks: () => Promise<void>,
    private readonly limitBytes: number,
    /** Enters the volume's gate shared now, if no exclusive operation waits (Gate.tryShared). */
    private readonly tryHold: () => (() => void) | undefined,
  ) {}

  /**
   * Queues one block run (its marks already set); the caller holds the gate shared. A full queue
   * becomes the batch written in the background, holding a shared slot of its own so an install or
   * a commit (exclusive) never overlaps it; the caller waits only while the previous batch is still
   * being written, or writes the batch itself when an exclusive operation is waiting.
   */
  async add(offsetBytes: number, data: Buffer): Promise<void> {
    if (this.error !== undefined) throw this.error;
    this.queue.push({ offsetBytes, data });
    this.queuedBytes += data.length;
    if (this.queuedBytes < this.limitBytes) return;
    await this.writing;
    if (this.error !== undefined) throw this.error;
    if (this.writing || this.queuedBytes < this.limitBytes) return;
    const release = this.tryHold();
    const batch = this.startBatch(release);
    if (!release) await batch;
    if (this.error !== undefined) throw this.error;
  }

  /** Under the caller's own gate hold: writes everything queued (marks durable first), then resolves. */
  async flush(): Promise<void> {
    await this.writing;
    if (this.error === undefined && this.queue.length > 0) await this.startBatch(undefined);
    if (this.error !== undefined) throw this.error;
  }

  /** Resolves once no batch is being written (failures stay for the next add or flush). */
  async idle(): Promise<void> {
    await this.writing;
  }

  /** Forgets what is queued (the volume failed or the transfer ended without a commit). */
  discard(): void {
    this.queue = [];
    this.queuedBytes = 0;
  }

  /** One batch at a time, in arrival order (an overlapping resend must land after what it replaces). */
  private startBatch(release: (() => void) | undefined): Promise<void> {
    const p: Promise<void> = this.writeBatch(release).finally(() => {
      if (this.writing === p) this.writing = undefined;
    });
    this.writing = p;
    return p;
  }

  /** Never rejects: a failure is kept and thrown by every later call. */
  private async writeBatch(release: (() => void) | undefined): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    try {
      if (batch.length > 0) {
        await this.persistMarks();
        for (const segment of ascendingSegments(batch)) await this.writeSegment(segment);
      }
    } catch (err) {
      this.error = err;
    } finally {
      release?.();
    }
  }

  /** Disjoint ascending runs: written side by side, adjacent ones as one writev. */
  private async writeSegment(segment: Pending[]): Promise<void> {
    const groups: Array<{ at: number; bufs: Buffer[]; end: number }> = [];
    for (const p of segment) {
      const last = groups[groups.length - 1];
      if (last && last.end === p.offsetBytes && last.bufs.length < 1024) {
        last.bufs.push(p.data);
        last.end += p.data.length;
      } else groups.push({ at: p.offsetBytes, bufs: [p.data], end: p.offsetBytes + p.data.length });
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < groups.length) {
        const g = groups[next++]!;
        await this.device.writev(g.bufs, this.extentOffsetBytes + g.at);
      }
    };
    await Promise.all(Array.from({ length: Math.min(EXTENT_WRITE_CONCURRENCY, groups.length) }, worker));
  }
}

/** Splits the batch where a run does not start past the previous one's end (a later pass's resend). */
function ascendingSegments(batch: Pending[]): Pending[][] {
  const out: Pending[][] = [];
  let cur: Pending[] = [];
  let end = -1;
  for (const p of batch) {
    if (p.offsetBytes < end) {
      out.push(cur);
      cur = [];
    }
    cur.push(p);
    end = p.offsetBytes + p.data.length;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
