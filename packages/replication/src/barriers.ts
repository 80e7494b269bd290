import type { BarrierOutcome } from "./api";

interface Waiter {
  readonly lsn: number;
  /** Barrier id this waiter rides on, once a barrier covering it was sent. */
  sentId: number;
  timer: NodeJS.Timeout | undefined;
  resolve: (outcome: BarrierOutcome) => void;
}

/**
 * The primary's barrier bookkeeping for one replica. Callers wait for "durable >= lsn"; the pump
 * sends one in-band barrier covering every waiter whose entries are already on the stream
 * (coalescing), and only a barrier response moves `durableLsn` (monotonically, late ones too).
 */
export class BarrierBook {
  durableLsn = 0;
  private waiters: Waiter[] = [];
  /** Sent barriers awaiting a response: id -> lsn. */
  private readonly sent = new Map<number, number>();
  private nextId = 1;
  lastSentAtMs = 0;

  constructor(
    private readonly replicaId: string,
    private readonly timeoutMs: number,
  ) {}

  get waiting(): number {
    return this.waiters.length;
  }

  get outstanding(): number {
    return this.sent.size;
  }

  ok(): BarrierOutcome {
    return { replicaId: this.replicaId, ok: true, durableLsn: this.durableLsn };
  }

  failed(reason: string): BarrierOutcome {
    return { replicaId: this.replicaId, ok: false, durableLsn: this.durableLsn, reason };
  }

  /** Registers a waiter for durable >= lsn with the barrier timeout. */
  wait(lsn: number): Promise<BarrierOutcome> {
    return new Promise<BarrierOutcome>((resolve) => {
      const w: Waiter = { lsn, sentId: 0, timer: undefined, resolve };
      w.timer = setTimeout(() => this.settle(w, this.failed("timeout")), this.timeoutMs);
      this.waiters.push(w);
    });
  }

  /**
   * If a waiter is not yet covered by a sent barrier and its LSN is <= `sentThrough` (everything up
   * to it is on the stream), returns a new barrier `{id, lsn: sentThrough}` to send and marks them.
   */
  takeBarrierToSend(sentThrough: number, nowMs: number): { id: number; lsn: number } | undefined {
    let covered = false;
    for (const w of this.waiters) {
      if (w.sentId === 0 && w.lsn <= sentThrough) covered = true;
    }
    if (!covered) return undefined;
    const id = this.nextId++;
    for (const w of this.waiters) if (w.sentId === 0 && w.lsn <= sentThrough) w.sentId = id;
    this.sent.set(id, sentThrough);
    this.lastSentAtMs = nowMs;
    return { id, lsn: sentThrough };
  }

  /**
   * A background barrier nobody waits for (keeps durability and the WAL pin moving): due when
   * durability lags what was sent, none is outstanding, and enough bytes or time passed.
   */
  takeBackgroundBarrier(
    sentThrough: number,
    enoughBytes: boolean,
    idleBarrierMs: number,
    nowMs: number,
  ): { id: number; lsn: number } | undefined {
    if (this.sent.size > 0 || this.durableLsn >= sentThrough) return undefined;
    if (!enoughBytes && nowMs - this.lastSentAtMs < idleBarrierMs) return undefined;
    return this.takeIdleBarrier(sentThrough, nowMs);
  }

  /** A barrier nobody waits for, unconditionally. */
  takeIdleBarrier(sentThrough: number, nowMs: number): { id: number; lsn: number } {
    const id = this.nextId++;
    this.sent.set(id, sentThrough);
    this.lastSentAtMs = nowMs;
    return { id, lsn: sentThrough };
  }

  /** How long an idle pump may sleep before a background barrier is due (undefined: none needed). */
  idleWaitMs(sentThrough: number, idleBarrierMs: number, nowMs: number): number | undefined {
    if (this.durableLsn >= sentThrough) return undefined;
    return Math.max(1, idleBarrierMs - (nowMs - this.lastSentAtMs));
  }

  /** A response arrived; returns true when durableLsn advanced. */
  onResponse(id: number, durableLsn: number, okStatus: boolean, reason: string): boolean {
    const lsn = this.sent.get(id);
    this.sent.delete(id);
    const before = this.durableLsn;
    if (durableLsn > this.durableLsn) this.durableLsn = durableLsn;
    const good = okStatus && lsn !== undefined && durableLsn >= lsn;
    const why = good ? "" : reason || `replica reported durable LSN ${durableLsn} below barrier LSN ${lsn}`;
    for (const w of [...this.waiters]) {
      // Truthful whatever barrier proved it; an LSN-0 waiter still needs its own round trip.
      if (w.lsn <= this.durableLsn && (w.lsn > 0 || w.sentId !== 0)) this.settle(w, this.ok());
      else if (w.sentId === id) this.settle(w, this.failed(why));
    }
    return this.durableLsn > before;
  }

  /** A fresh handshake reported a lower durable LSN (e.g. the replica was re-created). */
  lowerDurable(durableLsn: number): void {
    if (durableLsn < this.durableLsn) this.durableLsn = durableLsn;
  }

  /** Fails waiters not yet covered by a sent barrier whose LSN is >= fromLsn (they cannot be sent now). */
  failUnsent(fromLsn: number, reason: string): void {
    for (const w of [...this.waiters])
      if (w.sentId === 0 && w.lsn >= fromLsn) this.settle(w, this.failed(reason));
  }

  /** The stream is gone: every waiter fails (fail fast), sent barriers are forgotten. */
  failAll(reason: string): void {
    this.sent.clear();
    for (const w of [...this.waiters]) this.settle(w, this.failed(reason));
  }

  private settle(w: Waiter, outcome: BarrierOutcome): void {
    const i = this.waiters.indexOf(w);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    if (w.timer !== undefined) clearTimeout(w.timer);
    w.resolve(outcome);
  }
}
