/**
 * A level-less wake-up: `wait()` resolves at the next `wake()` (or after `timeoutMs`). A wake with
 * nobody waiting is remembered once, so a wake between a check and the wait is never lost.
 */
export class Signal {
  private pending = false;
  private resolve: (() => void) | undefined;

  wake(): void {
    const r = this.resolve;
    if (r === undefined) {
      this.pending = true;
      return;
    }
    this.resolve = undefined;
    r();
  }

  /** Resolves true when woken, false on timeout. */
  wait(timeoutMs?: number): Promise<boolean> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.resolve = () => {
        if (timer !== undefined) clearTimeout(timer);
        resolve(true);
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.resolve = undefined;
          resolve(false);
        }, timeoutMs);
      }
    });
  }
}

/** A sleep that `cancel()` ends early (used for reconnect back-off, which only close interrupts). */
export function cancellableSleep(ms: number): { done: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
    timer = setTimeout(resolve, ms);
  });
  return {
    done,
    cancel: () => {
      if (timer !== undefined) clearTimeout(timer);
      finish();
    },
  };
}
