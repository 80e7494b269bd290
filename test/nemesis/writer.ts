// The writers of a fault schedule: writes (self-identifying blocks), small trims, whole-volume trims
// and flushes, sent to whichever copy the model master currently names primary, at its epoch. Every
// op is recorded in the history before it is sent and marked acknowledged only on success; a flush
// covers the ops acknowledged before it was sent, and only when it succeeds.
import {
  deadlineIn,
  type FlushResponse__Output,
  reasonOf,
  type TrimResponse__Output,
  unary,
  type WriteResponse__Output,
} from "@blockship/rpc";
import { prng } from "../support/io";
import { BLOCK_BYTES, writeContent } from "./block-content";
import type { Cluster } from "./cluster";
import type { History } from "./history";
import type { ModelMaster } from "./model-master";

export interface WriterStats {
  acked: number;
  failed: number;
  flushesOk: number;
  flushesFailed: number;
  readonly reasons: Map<string, number>;
}

export class Writer {
  readonly stats: WriterStats = { acked: 0, failed: 0, flushesOk: 0, flushesFailed: 0, reasons: new Map() };

  constructor(
    private readonly cluster: Cluster,
    private readonly master: ModelMaster,
    private readonly history: History,
    private readonly volumeId: string,
    /** Writes land in blocks [0, hotBlocks). */
    private readonly hotBlocks: number,
    private readonly sizeBytes: number,
    private readonly ioTimeoutMs: number,
    private readonly concurrency: number,
  ) {}

  /** `count` ops (about 15 % small trims) with up to `concurrency` in flight, never two on one block. */
  async ops(count: number, seed: number): Promise<void> {
    const rand = prng(seed);
    const busy = new Set<number>();
    const running = new Set<Promise<void>>();
    for (let i = 0; i < count; i++) {
      while (running.size >= this.concurrency) await Promise.race(running);
      const blocks = 1 + Math.floor(rand() ** 2 * 8);
      let lba = Math.floor(rand() * (this.hotBlocks - blocks + 1));
      for (let tries = 0; tries < 16 && overlaps(busy, lba, blocks); tries++) {
        lba = Math.floor(rand() * (this.hotBlocks - blocks + 1));
      }
      if (overlaps(busy, lba, blocks)) await Promise.all(running);
      const kind = rand() < 0.15 ? "trim" : "write";
      for (let b = lba; b < lba + blocks; b++) busy.add(b);
      const p = this.one(kind, lba, blocks).finally(() => {
        for (let b = lba; b < lba + blocks; b++) busy.delete(b);
        running.delete(p);
      });
      running.add(p);
    }
    await Promise.all(running);
  }

  /** A trim of the whole volume (what mkfs and fstrim send). */
  async bigTrim(): Promise<void> {
    await this.one("trim", 0, this.sizeBytes / BLOCK_BYTES);
  }

  /**
   * Waits (bounded) until the master names a primary the client can reach: the serving one, or
   * the one the master lost contact with (the client still reaches it and keeps writing).
   */
  async awaitPrimary(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const ready = () =>
      this.cluster.reachable(this.master.primary) &&
      (this.master.primaryOk || this.master.isolated === this.master.primary);
    while (!ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return ready();
  }

  async flush(): Promise<string> {
    const target = this.target();
    if (target === undefined) return "no primary";
    const ticket = this.history.flushStarted(target.epoch);
    try {
      const res = await unary<FlushResponse__Output>((cb) =>
        target.volume.Flush(
          { volume_id: this.volumeId, expected_epoch: String(target.epoch) },
          deadlineIn(this.ioTimeoutMs),
          cb,
        ),
      );
      this.history.flushAcknowledged(ticket);
      this.stats.flushesOk += 1;
      return `ok durable_lsn=${res.durable_lsn} on ${target.name}@${target.epoch}`;
    } catch (err) {
      this.stats.flushesFailed += 1;
      return `failed on ${target.name}@${target.epoch}: ${this.reason(err)}`;
    }
  }

  private target() {
    const name = this.master.primary;
    if (!this.cluster.reachable(name)) return undefined;
    return { name, volume: this.cluster.volume(name), epoch: this.master.epoch };
  }

  private async one(kind: "write" | "trim", lba: number, blocks: number): Promise<void> {
    const target = this.target();
    if (target === undefined) return;
    const op = this.history.begin(kind, lba, blocks);
    const common = { volume_id: this.volumeId, lba: String(lba), expected_epoch: String(target.epoch) };
    try {
      if (kind === "write") {
        const data = writeContent(lba, blocks, op.id);
        await unary<WriteResponse__Output>((cb) =>
          target.volume.Write({ ...common, data }, deadlineIn(this.ioTimeoutMs), cb),
        );
      } else {
        await unary<TrimResponse__Output>((cb) =>
          target.volume.Trim(
            { ...common, length_bytes: String(blocks * BLOCK_BYTES) },
            deadlineIn(this.ioTimeoutMs),
            cb,
          ),
        );
      }
      op.acked = true;
      op.ackedEpoch = target.epoch;
      this.stats.acked += 1;
    } catch (err) {
      this.stats.failed += 1;
      this.reason(err);
    }
  }

  private reason(err: unknown): string {
    const r = reasonOf(err) ?? String(err).slice(0, 60);
    this.stats.reasons.set(r, (this.stats.reasons.get(r) ?? 0) + 1);
    return r;
  }
}

function overlaps(busy: ReadonlySet<number>, lba: number, blocks: number): boolean {
  for (let b = lba; b < lba + blocks; b++) if (busy.has(b)) return true;
  return false;
}
