// The sender registry of ONE volume. REF-QUIRK decided: the reference keeps one
// registry per server and reconciles it wholesale, so volume A's assignment stops volume B's senders.
// Here a registry is bound to its volume and rejects any replica ID outside it.
import { belongsToVolume, type SessionIdSource } from "./identity";
import { Sender, type SenderSnapshot } from "./sender";
import type { SessionOptions } from "./session";
import { type Endpoint, type Epoch, endpointChanged, ProtocolError, type SessionKind } from "./types";

export interface ReplicaTarget {
  readonly replicaId: string;
  readonly endpoint: Endpoint;
}

/** What the registry should look like after an assignment (never LSNs or plans: those are ours). */
export interface AssignmentIntent {
  readonly volumeId: string;
  readonly epoch: Epoch;
  readonly replicas: readonly ReplicaTarget[];
  /** Replica ID → the kind of session the assignment asks for. Absent = reconcile only. */
  readonly recoveryTargets?: Readonly<Record<string, SessionKind>>;
}

export interface ReconcileResult {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Senders whose session died because their endpoint or epoch changed. */
  readonly invalidated: readonly string[];
}

export interface AssignmentResult extends ReconcileResult {
  readonly sessionsCreated: readonly string[];
  readonly sessionsSuperseded: readonly string[];
  readonly sessionsFailed: readonly string[];
  /** Re-delivered targets that are identical to the last applied one: left alone (no new session). */
  readonly sessionsUnchanged: readonly string[];
}

export interface StatusCounts {
  readonly inSync: number;
  readonly recovering: number;
  readonly degraded: number;
  readonly rebuilding: number;
  readonly disconnected: number;
}

interface AppliedTarget {
  readonly epoch: Epoch;
  readonly kind: SessionKind;
}

export class Registry {
  readonly volumeId: string;
  private readonly ids: SessionIdSource;
  private readonly senders = new Map<string, Sender>();
  /** The last target applied per replica: what makes a re-delivered assignment a no-op. */
  private readonly applied = new Map<string, AppliedTarget>();
  private readonly sessionOptions: SessionOptions;

  constructor(volumeId: string, ids: SessionIdSource, sessionOptions: SessionOptions = {}) {
    this.volumeId = volumeId;
    this.ids = ids;
    this.sessionOptions = sessionOptions;
  }

  get(replicaId: string): Sender | undefined {
    return this.senders.get(replicaId);
  }

  /** Senders in replica-ID order (deterministic, unlike the reference's map iteration). */
  all(): readonly Sender[] {
    return [...this.senders.keys()].sort().map((id) => this.senders.get(id)!);
  }

  snapshot(): readonly SenderSnapshot[] {
    return this.all().map((s) => s.snapshot());
  }

  size(): number {
    return this.senders.size;
  }

  /** Stop and remove missing senders, update endpoint then epoch of kept ones, create new ones. */
  reconcile(replicas: readonly ReplicaTarget[], epoch: Epoch): ReconcileResult {
    const target = new Map<string, Endpoint>();
    for (const r of replicas) {
      this.checkOwnership(r.replicaId);
      target.set(r.replicaId, r.endpoint); // duplicate IDs: last wins
    }
    const removed: string[] = [];
    const added: string[] = [];
    const invalidated: string[] = [];
    for (const [id, sender] of this.senders) {
      if (target.has(id)) continue;
      sender.stop();
      this.senders.delete(id);
      this.applied.delete(id);
      removed.push(id);
    }
    for (const [id, endpoint] of target) {
      const existing = this.senders.get(id);
      if (existing === undefined) {
        this.senders.set(id, new Sender(id, endpoint, epoch, this.ids));
        added.push(id);
        continue;
      }
      const moved = endpointChanged(existing.endpoint, endpoint);
      const killedByEndpoint = existing.updateEndpoint(endpoint);
      const killedByEpoch = existing.updateEpoch(epoch);
      // A new address means the last target no longer describes this replica: allow a fresh session.
      if (moved) this.applied.delete(id);
      if (killedByEndpoint || killedByEpoch) invalidated.push(id);
    }
    return { added: added.sort(), removed: removed.sort(), invalidated: invalidated.sort() };
  }

  applyAssignment(intent: AssignmentIntent): AssignmentResult {
    if (intent.volumeId !== this.volumeId) {
      throw new ProtocolError("wrong_volume", `intent for ${intent.volumeId} applied to ${this.volumeId}`);
    }
    const reconciled = this.reconcile(intent.replicas, intent.epoch);
    const created: string[] = [];
    const superseded: string[] = [];
    const failed: string[] = [];
    const unchanged: string[] = [];
    const targets = intent.recoveryTargets ?? {};
    for (const id of [...this.senders.keys()]) {
      if (!(id in targets)) this.applied.delete(id);
    }
    for (const id of Object.keys(targets).sort()) {
      const kind = targets[id]!;
      const sender = this.senders.get(id);
      if (sender === undefined || intent.epoch < sender.epoch) {
        failed.push(id); // unknown replica, or a stale assignment fenced by epoch
        continue;
      }
      const last = this.applied.get(id);
      if (last !== undefined && last.epoch === intent.epoch && last.kind === kind) {
        unchanged.push(id);
        continue;
      }
      const options = this.sessionOptionsFor(kind);
      if (!sender.hasActiveSession()) {
        sender.attachSession(intent.epoch, kind, options);
        created.push(id);
      } else {
        sender.supersedeSession(kind, "assignment_intent", options);
        superseded.push(id);
      }
      this.applied.set(id, { epoch: intent.epoch, kind });
    }
    return {
      ...reconciled,
      sessionsCreated: created,
      sessionsSuperseded: superseded,
      sessionsFailed: failed,
      sessionsUnchanged: unchanged,
    };
  }

  /** Budgets apply to WAL catch-up sessions only; a rebuild is bounded by its own transfer. */
  sessionOptionsFor(kind: SessionKind): SessionOptions {
    return kind === "rebuild" ? {} : this.sessionOptions;
  }

  /** Epoch sweep: every session older than `epoch` dies. Returns how many were invalidated. */
  invalidateEpoch(epoch: Epoch): readonly string[] {
    const hit: string[] = [];
    for (const sender of this.all()) {
      const session = sender.sessionSnapshot();
      if (session !== null && session.epoch < epoch) {
        sender.invalidateSession("epoch_bump", "disconnected");
        hit.push(sender.replicaId);
      }
    }
    return hit;
  }

  stopAll(): void {
    for (const sender of this.senders.values()) sender.stop();
    this.senders.clear();
    this.applied.clear();
  }

  status(): StatusCounts {
    const counts = { inSync: 0, recovering: 0, degraded: 0, rebuilding: 0, disconnected: 0 };
    for (const s of this.senders.values()) {
      if (s.state === "in_sync") counts.inSync += 1;
      else if (s.state === "catching_up" || s.state === "connecting") counts.recovering += 1;
      else if (s.state === "degraded") counts.degraded += 1;
      else if (s.state === "needs_rebuild") counts.rebuilding += 1;
      else counts.disconnected += 1;
    }
    return counts;
  }

  private checkOwnership(replicaId: string): void {
    if (!belongsToVolume(replicaId, this.volumeId)) {
      throw new ProtocolError("wrong_volume", `replica ${replicaId} is not in volume ${this.volumeId}`);
    }
  }
}
