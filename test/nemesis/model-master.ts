// The model master of a fault schedule: it assigns the volume, renews the primary's lease, and when
// the primary is lost it waits until the old lease cannot be live any more (the deadline of the last
// grant it sent plus the TTL), then promotes at epoch + 1 the candidate with the highest durable
// LSN, and rejoins every other copy (the old primary too, once reachable) as a replica; a copy the
// primary reports needs_rebuild is assigned ROLE_REBUILDING. Candidates are the copies it could
// legitimately choose: members the primary has reported IN_SYNC at the current epoch, plus the old
// primary itself; under sync_quorum it promotes only when enough candidates answer to meet every
// quorum, and picks among those at the highest durable LSN.
import {
  type ApplyAssignmentsResponse__Output,
  type Assignment,
  deadlineIn,
  type RenewLeasesResponse__Output,
  unary,
  type VolumeStatus__Output,
} from "@blockship/rpc";
import { allocate, durabilityMode, type Mode } from "../support/master";
import type { Cluster } from "./cluster";

export interface MasterOptions {
  readonly volumeId: string;
  readonly mode: Mode;
  readonly sizeBytes: number;
  readonly walSizeBytes: number;
  readonly leaseTtlMs: number;
  /** gRPC deadline of renewals and assignments; part of the promotion rule. */
  readonly callTimeoutMs: number;
  readonly tickMs: number;
}

/** Called before a promotion with the copies the master could promote and the one it chose. */
export type PromotionHook = (candidates: readonly string[], chosen: string, epoch: number) => Promise<void>;

type Statuses = Map<string, VolumeStatus__Output | undefined>;

export class ModelMaster {
  epoch = 1;
  primary: string;
  /** The primary's replica set. */
  members: string[];
  private inSync = new Set<string>();
  /** Wall-clock deadline of the latest lease grant (renewal or primary assignment) sent. */
  private lastGrantDeadlineMs = 0;
  private lastRenewSentMs = 0;
  /** The master has lost contact with this primary (a schedule fault); it ends at the next promotion. */
  isolated: string | undefined;
  /** The last poll found the primary serving at the current epoch. */
  primaryOk = false;
  readonly log: string[] = [];
  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly t0 = Date.now();

  constructor(
    private readonly cluster: Cluster,
    private readonly o: MasterOptions,
    private readonly onPromote: PromotionHook,
  ) {
    this.primary = cluster.names[0] as string;
    this.members = cluster.names.slice(1);
  }

  /** Allocates the volume everywhere, assigns epoch 1 and waits (bounded) until every replica is in sync. */
  async setUp(timeoutMs: number): Promise<void> {
    for (const name of this.cluster.names) {
      await allocate(this.cluster.get(name).agent, {
        volumeId: this.o.volumeId,
        sizeBytes: this.o.sizeBytes,
        walSizeBytes: this.o.walSizeBytes,
        mode: this.o.mode,
      });
    }
    for (const m of this.members) await this.assign(m, this.replicaOf(this.primary));
    await this.assign(this.primary, this.primaryAssignment());
    const deadline = Date.now() + timeoutMs;
    while (this.inSync.size < this.members.length) {
      if (Date.now() > deadline) throw new Error(`set-up: replicas not in sync after ${timeoutMs} ms`);
      await this.tick();
      await sleep(this.o.tickMs);
    }
  }

  start(): void {
    this.stopping = false;
    this.loop = (async () => {
      while (!this.stopping) {
        try {
          await this.tick();
        } catch (err) {
          this.note(`tick failed: ${String(err)}`);
        }
        await sleep(this.o.tickMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  /** True when every member is in sync at the current epoch and the primary holds its lease. */
  async settled(): Promise<boolean> {
    const s = await this.cluster.status(this.primary, this.o.volumeId);
    if (s === undefined || s.role !== "ROLE_PRIMARY" || s.epoch !== String(this.epoch) || !s.writable)
      return false;
    return (
      s.replicas.length === this.members.length &&
      s.replicas.every((r) => r.sender_state === "SENDER_STATE_IN_SYNC" && r.live_eligible)
    );
  }

  /** Copies the master could promote right now if the primary were lost (reads statuses). */
  async promotable(): Promise<string[]> {
    const statuses = await this.poll();
    return this.choose(statuses, this.primary)?.checkSet ?? [];
  }

  get isInSync(): ReadonlySet<string> {
    return this.inSync;
  }

  async tick(): Promise<void> {
    const statuses = await this.poll();
    const ps = statuses.get(this.primary);
    const primaryOk = ps !== undefined && ps.role === "ROLE_PRIMARY" && ps.epoch === String(this.epoch);
    this.primaryOk = primaryOk;
    if (primaryOk && this.isolated !== this.primary) {
      await this.renewIfDue();
      for (const r of ps.replicas) {
        if (r.sender_state === "SENDER_STATE_IN_SYNC" && r.live_eligible) this.inSync.add(r.server_id);
      }
      await this.rebuildWhereNeeded(ps, statuses);
    } else if (Date.now() >= this.lastGrantDeadlineMs + this.o.leaseTtlMs) {
      await this.failover(statuses);
    }
    await this.reconcile(statuses);
  }

  private async poll(): Promise<Statuses> {
    const statuses: Statuses = new Map();
    await Promise.all(
      this.cluster.names.map(async (n) => {
        if (n === this.isolated) return;
        statuses.set(n, await this.cluster.status(n, this.o.volumeId));
      }),
    );
    return statuses;
  }

  private async renewIfDue(): Promise<void> {
    const now = Date.now();
    if (now - this.lastRenewSentMs < this.o.leaseTtlMs / 3) return;
    this.lastRenewSentMs = now;
    this.lastGrantDeadlineMs = Math.max(this.lastGrantDeadlineMs, now + this.o.callTimeoutMs);
    try {
      await unary<RenewLeasesResponse__Output>((cb) =>
        this.cluster.control(this.primary).RenewLeases(
          {
            grants: [
              { volume_id: this.o.volumeId, epoch: String(this.epoch), lease_ttl_ms: this.o.leaseTtlMs },
            ],
          },
          deadlineIn(this.o.callTimeoutMs),
          cb,
        ),
      );
    } catch {
      // unreachable: the lease runs out and the promotion rule takes over
    }
  }

  private async rebuildWhereNeeded(ps: VolumeStatus__Output, statuses: Statuses): Promise<void> {
    for (const r of ps.replicas) {
      if (r.sender_state !== "SENDER_STATE_NEEDS_REBUILD") continue;
      const s = statuses.get(r.server_id);
      if (s === undefined || s.role === "ROLE_REBUILDING" || s.role === "ROLE_PRIMARY") continue;
      this.inSync.delete(r.server_id);
      await this.assign(r.server_id, this.rebuildFrom(this.primary));
    }
  }

  /** The candidates that answer, whether they are enough, the chosen one and the set to check. */
  private choose(statuses: Statuses, oldPrimary: string) {
    const answering = [oldPrimary, ...this.members.filter((m) => this.inSync.has(m))].filter((n) => {
      const s = statuses.get(n);
      return s !== undefined && s.role !== "ROLE_REBUILDING" && Number(s.epoch) <= this.epoch;
    });
    const copies = this.members.length + 1;
    const quorum = this.o.mode === "sync_quorum" ? Math.floor(copies / 2) + 1 : copies;
    // The old primary holds every flush it acknowledged: when it answers, it alone is enough.
    // Without it, enough copies must answer that every flush quorum has one among them.
    const needed = this.o.mode === "sync_quorum" && !answering.includes(oldPrimary) ? copies - quorum + 1 : 1;
    if (answering.length < needed) return undefined;
    const durable = (n: string) => BigInt(statuses.get(n)?.durable_lsn ?? "0");
    let best = 0n;
    for (const n of answering) if (durable(n) > best) best = durable(n);
    const top = answering.filter((n) => durable(n) === best);
    const chosen = top.find((n) => n !== oldPrimary) ?? (top[0] as string);
    const checkSet = this.o.mode === "sync_quorum" ? top : answering;
    return { chosen, checkSet, durableLsn: best };
  }

  private async failover(statuses: Statuses): Promise<void> {
    const old = this.primary;
    const pick = this.choose(statuses, old);
    if (pick === undefined) return;
    const { chosen, checkSet } = pick;
    const epoch = this.epoch + 1;
    this.note(
      `promote ${chosen} at epoch ${epoch} (durable ${pick.durableLsn}; candidates ${checkSet.join(",")})`,
    );
    await this.onPromote(checkSet, chosen, epoch);
    this.epoch = epoch;
    this.primary = chosen;
    this.members = this.cluster.names.filter((n) => n !== chosen);
    this.inSync = new Set();
    this.isolated = undefined;
    this.primaryOk = false;
    for (const m of this.members) {
      const s = statuses.get(m);
      if (s !== undefined) await this.rejoin(m, s);
    }
    await this.assign(chosen, this.primaryAssignment());
  }

  /** Every member must be a replica (or rebuilding) of the primary at the current epoch. */
  private async reconcile(statuses: Statuses): Promise<void> {
    for (const m of this.members) {
      const s = statuses.get(m);
      if (s === undefined) continue;
      const atEpoch = s.epoch === String(this.epoch);
      if (atEpoch && s.role === "ROLE_REBUILDING") continue;
      if (atEpoch && s.role === "ROLE_REPLICA" && s.primary_server_id === this.primary) continue;
      await this.rejoin(m, s);
    }
  }

  private async rejoin(m: string, s: VolumeStatus__Output): Promise<void> {
    if (s.role === "ROLE_PRIMARY" || s.role === "ROLE_DRAINING") {
      await this.assign(m, { volume_id: this.o.volumeId, epoch: String(this.epoch), role: "ROLE_STALE" });
    }
    // A copy whose rebuild did not commit (its source failed over) holds no consistent image: it
    // may only become a replica through a committed rebuild, so it rebuilds from the new primary.
    if (s.role === "ROLE_REBUILDING") {
      await this.assign(m, this.rebuildFrom(this.primary));
      return;
    }
    await this.assign(m, this.replicaOf(this.primary));
  }

  private rebuildFrom(primary: string): Assignment {
    return {
      volume_id: this.o.volumeId,
      epoch: String(this.epoch),
      role: "ROLE_REBUILDING",
      primary_server_id: primary,
      primary_address: this.cluster.peerAddress(primary),
    };
  }

  private replicaOf(primary: string): Assignment {
    return {
      volume_id: this.o.volumeId,
      epoch: String(this.epoch),
      role: "ROLE_REPLICA",
      primary_server_id: primary,
    };
  }

  private primaryAssignment(): Assignment {
    return {
      volume_id: this.o.volumeId,
      epoch: String(this.epoch),
      role: "ROLE_PRIMARY",
      lease_ttl_ms: this.o.leaseTtlMs,
      durability_mode: durabilityMode(this.o.mode),
      replicas: this.members.map((m) => ({ server_id: m, address: this.cluster.peerAddress(m) })),
    };
  }

  /** One assignment; failures are noted (the next tick retries), never thrown. */
  private async assign(name: string, a: Assignment): Promise<boolean> {
    if (!this.cluster.reachable(name)) return false;
    if (a.role === "ROLE_PRIMARY") {
      this.lastGrantDeadlineMs = Math.max(this.lastGrantDeadlineMs, Date.now() + this.o.callTimeoutMs);
      this.lastRenewSentMs = Date.now();
    }
    try {
      const res = await unary<ApplyAssignmentsResponse__Output>((cb) =>
        this.cluster
          .control(name)
          .ApplyAssignments({ assignments: [a] }, deadlineIn(this.o.callTimeoutMs), cb),
      );
      const status = res.results[0]?.status;
      if (status?.code !== 0) {
        this.note(`assign ${name} ${a.role}@${a.epoch}: ${status?.reason ?? "?"} ${status?.message ?? ""}`);
        return false;
      }
      if (res.results[0]?.unchanged !== true) this.note(`assigned ${name} ${a.role}@${a.epoch}`);
      return true;
    } catch (err) {
      this.note(`assign ${name} ${a.role}@${a.epoch}: ${String(err).slice(0, 120)}`);
      return false;
    }
  }

  note(line: string): void {
    this.log.push(`+${Date.now() - this.t0}ms ${line}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
