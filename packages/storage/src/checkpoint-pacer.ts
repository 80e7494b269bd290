/**
 * When the flusher's timer should start a checkpoint cycle. Checkpointing early gains only WAL room,
 * while each cycle's extent writes and syncs compete with the appends and group commits that writers
 * (or a catching-up replica) wait for. So while appends keep arriving a tick leaves the backlog
 * alone, and checkpoints only:
 *  - under WAL pressure (the flusher watermark; the append path also wakes the flusher for it),
 *  - on a quiet tick (nothing appended since the previous tick: the disk is free), or
 *  - once the backlog has waited `maxDelayMs` since a tick first left it.
 * Deferred cycles are full-size ones, and blocks overwritten meanwhile reach the extent once.
 * Pure: time and volume state are inputs.
 */
export class CheckpointPacer {
  /** appendedLsn at the previous tick (-1: no tick yet). */
  private lastTickAppendedLsn = -1;
  /** When a tick first left un-checkpointed records for later (undefined: it left none). */
  private backlogSinceMs: number | undefined;

  constructor(private readonly maxDelayMs: number) {}

  /** One timer tick: true when a cycle should start now. */
  tick(t: { nowMs: number; appendedLsn: number; checkpointLsn: number; underPressure: boolean }): boolean {
    const quiet = t.appendedLsn === this.lastTickAppendedLsn;
    this.lastTickAppendedLsn = t.appendedLsn;
    if (t.checkpointLsn >= t.appendedLsn) {
      this.backlogSinceMs = undefined;
      return false;
    }
    this.backlogSinceMs ??= t.nowMs;
    if (quiet || t.underPressure || t.nowMs - this.backlogSinceMs >= this.maxDelayMs) {
      this.backlogSinceMs = undefined;
      return true;
    }
    return false;
  }
}
