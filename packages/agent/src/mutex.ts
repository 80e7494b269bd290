// Per-key serialization: operations on one volume (allocate, delete, assignments, engine events)
// run one at a time, in arrival order; different volumes proceed in parallel.

export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** `scope` wraps each run (the volume host attributes escaped errors to the key's volume). */
  constructor(private readonly scope?: <T>(key: string, fn: () => Promise<T>) => Promise<T>) {}

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.scope === undefined ? this.locked(key, fn) : this.scope(key, () => this.locked(key, fn));
  }

  private async locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
