import type { DurabilityMode, Volume } from "@blockship/storage";
import type { BarrierOutcome } from "./api";
import { ReplicationError } from "./errors";

/** What a distributed flush needs of the shipper group (ShipperGroup implements it). */
export interface BarrierTargets {
  readonly size: number;
  barrierAll(lsn: number): Promise<BarrierOutcome[]>;
}

/**
 * Decides a flush from the local result and the replicas' barrier outcomes (DESIGN §4):
 * best_effort = local only; sync_all = every replica durable >= lsn; sync_quorum = a majority of
 * the copies, the primary included: 1 + ok >= floor((n+1)/2) + 1. No replicas → local only.
 * Throws `durability_barrier_failed` / `durability_quorum_lost` otherwise.
 */
export function decideDurability(
  mode: DurabilityMode,
  lsn: number,
  outcomes: readonly BarrierOutcome[],
): void {
  const n = outcomes.length;
  if (n === 0 || mode === "best_effort") return;
  const failed = outcomes.filter((o) => !o.ok);
  const detail = failed.map((o) => `${o.replicaId}: ${o.reason ?? "failed"}`).join("; ");
  if (mode === "sync_all") {
    if (failed.length === 0) return;
    throw new ReplicationError(
      "durability_barrier_failed",
      `${failed.length} of ${n} barriers failed for LSN ${lsn}: ${detail}`,
    );
  }
  const okCopies = 1 + (n - failed.length);
  const needed = Math.floor((n + 1) / 2) + 1;
  if (okCopies >= needed) return;
  throw new ReplicationError(
    "durability_quorum_lost",
    `${okCopies} of ${n + 1} copies durable at LSN ${lsn}, ${needed} needed: ${detail}`,
  );
}

interface Round {
  promise: Promise<number>;
}

/**
 * Group commit for distributed flushes of one volume. A round captures lsn = head, runs the local
 * fsync and the replicas' barriers concurrently, then applies the mode rule. Calls that arrive
 * while a round runs share the next round (one barrier per replica for the whole batch).
 */
export class DurabilityCoordinator {
  private running: Round | undefined;
  private next: Round | undefined;
  rounds = 0;

  constructor(
    private readonly volume: Volume,
    private readonly group: () => BarrierTargets | null,
    private readonly mode: () => DurabilityMode,
  ) {}

  /** Resolves with an LSN durable under the volume's mode and covering every write before the call. */
  flush(): Promise<number> {
    if (this.running === undefined && this.next === undefined) {
      this.running = this.startRound();
      return this.running.promise;
    }
    if (this.next === undefined) {
      const current = this.running;
      if (current === undefined) throw new Error("unreachable: no running round");
      const after = current.promise.then(
        () => undefined,
        () => undefined,
      );
      const round: Round = {
        promise: after.then(() => {
          this.running = round;
          this.next = undefined;
          return this.runRound(round);
        }),
      };
      this.next = round;
    }
    return this.next.promise;
  }

  private startRound(): Round {
    const round: Round = { promise: Promise.resolve(0) };
    round.promise = this.runRound(round);
    return round;
  }

  private async runRound(round: Round): Promise<number> {
    this.rounds++;
    try {
      return await flushOnce(this.volume, this.group(), this.mode());
    } finally {
      if (this.running === round) this.running = undefined;
    }
  }
}

/**
 * One distributed flush (no batching across calls beyond what storage's group commit and the
 * shippers' barrier coalescing do): local fsync and barriers concurrently, then the mode rule.
 * A local failure always fails. best_effort does not wait for barriers (they still run, so the
 * shippers learn durability), sync_all never silently downgrades.
 */
export async function flushOnce(
  volume: Volume,
  group: BarrierTargets | null,
  mode: DurabilityMode,
): Promise<number> {
  const lsn = volume.headLsn;
  const local = volume.flush();
  if (group === null || group.size === 0) {
    await local;
    return lsn;
  }
  const barriers = group.barrierAll(lsn);
  if (mode === "best_effort") {
    void barriers.catch(() => {});
    await local;
    return lsn;
  }
  // A local failure wins at once (barrierAll never rejects, so Promise.all only fails on it).
  const [, outcomes] = await Promise.all([local, barriers]);
  decideDurability(mode, lsn, outcomes);
  return lsn;
}

interface Shared {
  coordinator: DurabilityCoordinator;
  group: BarrierTargets | null;
  mode: DurabilityMode;
}

const shared = new WeakMap<Volume, Shared>();

/**
 * Flush `volume` under `mode` with the replicas of `group` (null: local only). Concurrent calls on
 * one volume share rounds (see DurabilityCoordinator); a round uses the group and mode of the latest
 * call made before it started.
 */
export function durableFlush(
  volume: Volume,
  group: BarrierTargets | null,
  mode: DurabilityMode,
): Promise<number> {
  let s = shared.get(volume);
  if (s === undefined) {
    const created: Shared = { coordinator: undefined as unknown as DurabilityCoordinator, group, mode };
    created.coordinator = new DurabilityCoordinator(
      volume,
      () => created.group,
      () => created.mode,
    );
    shared.set(volume, created);
    s = created;
  }
  s.group = group;
  s.mode = mode;
  return s.coordinator.flush();
}
