/**
 * Shared/exclusive gate. Normal I/O (appends, reads, flusher cycles, syncs) runs shared; operations
 * that reset WAL state (truncate, base-image commit, close) run exclusive. Exclusive requests are
 * preferred: once one waits, new shared requests queue behind it, so resets cannot starve.
 */
export class Gate {
  private sharedCount = 0;
  private exclusiveActive = false;
  private exclusiveWaiters: Array<() => void> = [];
  private sharedWaiters: Array<() => void> = [];

  /** Enters shared mode now if possible; returns the release function or undefined. */
  tryShared(): (() => void) | undefined {
    if (this.exclusiveActive || this.exclusiveWaiters.length > 0) return undefined;
    this.sharedCount++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.sharedCount--;
      this.dispatch();
    };
  }

  async shared(): Promise<() => void> {
    for (;;) {
      const release = this.tryShared();
      if (release) return release;
      await new Promise<void>((resolve) => this.sharedWaiters.push(resolve));
    }
  }

  /** Runs `fn` in shared mode. */
  async withShared<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.shared();
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Calls `fn` once the gate is shared-enterable again (used by the append pump). */
  whenOpen(fn: () => void): void {
    if (this.isExclusive) this.sharedWaiters.push(fn);
    else queueMicrotask(fn);
  }

  async exclusive(): Promise<() => void> {
    if (this.exclusiveActive || this.sharedCount > 0 || this.exclusiveWaiters.length > 0) {
      await new Promise<void>((resolve) => this.exclusiveWaiters.push(resolve));
    } else {
      this.exclusiveActive = true;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.exclusiveActive = false;
      this.dispatch();
    };
  }

  get isExclusive(): boolean {
    return this.exclusiveActive || this.exclusiveWaiters.length > 0;
  }

  private dispatch(): void {
    if (this.exclusiveActive) return;
    if (this.exclusiveWaiters.length > 0) {
      if (this.sharedCount > 0) return;
      this.exclusiveActive = true;
      this.exclusiveWaiters.shift()!();
      return;
    }
    const waiters = this.sharedWaiters;
    this.sharedWaiters = [];
    for (const w of waiters) w();
  }
}
