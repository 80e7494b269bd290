// The host loop of one volume's protocol engine (etcd-raft style): assignments and observations go
// in, the engine's commands come out and are executed here; what execution observes is fed back
// as new events. After every event the execution state is re-derived, and the live-shipping policy
// (installed on the ShipperGroup before any shipper starts) reads it at call time.
import {
  decideLiveShipping,
  type EngineCommand,
  type EngineEvent,
  type PublicationProjection,
  type SessionId,
  serverOfReplica,
  VolumeEngine,
  type VolumeExecutionState,
} from "@blockship/engine";
import type { Volume } from "@blockship/storage";
import type { ParsedAssignment } from "./assignment";
import type { Clock } from "./clock";
import type { Fence } from "./fence";
import { type HandshakeFn, runHandshake } from "./handshake";
import type { Logger } from "./log";
import { LostReplicas } from "./lost-replicas";
import { RebuildPull } from "./rebuild-pull";
import type {
  LiveShippingPolicy,
  RebuildProgressView,
  ReceiverAuthority,
  ReceiverPort,
  ReplicationBinding,
  ShipperGroupPort,
  ShipperStatusView,
} from "./replication-port";
import { StorageRetention } from "./retention-port";

export type { HandshakeFn };

export interface RuntimeDeps {
  readonly volumeId: string;
  readonly volume: Volume;
  readonly fence: Fence;
  readonly localServerId: string;
  readonly binding: ReplicationBinding;
  readonly barrierTimeoutMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly handshake: HandshakeFn;
  /** Called after every event (status watchers, health). */
  readonly onChange: () => void;
  /** The policy denied a replica the live tail (counted by metrics). */
  readonly onGateDenied?: (replicaId: string, reason: string | undefined) => void;
  /** A rebuild of this copy committed: the host moves it REBUILDING → REPLICA (under its lock). */
  readonly onRebuildCommitted?: () => void;
  /** Default transfer rate of a rebuild this copy pulls (bytes/s, 0 = the primary's default). */
  readonly rebuildRateLimitBytesPerSecond?: number;
}

interface CatchUpWatch {
  readonly sessionId: SessionId;
  readonly targetLsn: number;
  reported: number;
}

/** How many executed command names GetStatus/debugging can look back on. */
const COMMAND_LOG_LIMIT = 64;

export class VolumeRuntime {
  readonly engine: VolumeEngine;
  private execution: VolumeExecutionState;
  private current: PublicationProjection;
  private group: ShipperGroupPort | null = null;
  private receiverPort: ReceiverPort | null = null;
  private readonly catchUps = new Map<string, CatchUpWatch>();
  private readonly connected = new Set<string>();
  private readonly needsRebuild = new Map<string, string>();
  private readonly pull: RebuildPull;
  /** Replicas the shipper lost: the live tail stays gated for them until a catch-up session. */
  private readonly lost: LostReplicas;
  private closed = false;
  /** Highest LSN known durable under the volume's durability mode. */
  committedLsn: number;
  /** The last applied assignment (what re-deliveries are compared with). */
  assignment: ParsedAssignment | undefined;
  readonly commandLog: string[] = [];

  /**
   * The phase gate, bound once; it reads the latest derived state at call time. A replica with an
   * active session gets nothing until the engine planned its catch-up from the replica's real
   * durable LSN (handshake). The planned catch-up is then executed BY the cursor shipper (it
   * replays from the replica's durable LSN and runs on into the tail in one ordered stream, so
   * no entry can be skipped — DESIGN §4), hence the window for a session in phase `catchup`
   * that this host is executing.
   */
  readonly policy: LiveShippingPolicy = (replicaId, lsn) => {
    const state = this.execution.replicas.get(replicaId);
    const watch = this.catchUps.get(replicaId);
    if (
      state?.sessionActive &&
      state.sessionPhase === "catchup" &&
      watch !== undefined &&
      lsn <= watch.targetLsn
    ) {
      return { allow: true }; // the session's own gap, up to its frozen target
    }
    let d = decideLiveShipping(this.execution, replicaId, BigInt(lsn));
    if (d.allow && this.lost.has(replicaId)) {
      d = {
        allow: false,
        reason: `awaiting_catchup_session: ${replicaId} was disconnected; its gap is planned first`,
      };
    }
    if (d.allow) return { allow: true };
    this.deps.onGateDenied?.(replicaId, d.reason);
    return { allow: false, reason: d.reason };
  };

  constructor(private readonly deps: RuntimeDeps) {
    this.lost = new LostReplicas(deps.log, (id) => this.startCatchUpSession(id));
    this.pull = new RebuildPull({
      volumeId: deps.volumeId,
      volume: deps.volume,
      fence: deps.fence,
      localServerId: deps.localServerId,
      binding: deps.binding,
      clock: deps.clock,
      log: deps.log,
      assignment: () => this.assignment,
      defaultRateBytesPerSecond: deps.rebuildRateLimitBytesPerSecond ?? 0,
      observe: (event) => this.observe(event),
      onProgress: () => deps.onChange(),
      onCommitted: () => deps.onRebuildCommitted?.(),
    });
    this.committedLsn = deps.volume.durableLsn;
    this.engine = new VolumeEngine({
      volumeId: deps.volumeId,
      retention: new StorageRetention(deps.volume, () => deps.fence.role === "rebuilding"),
    });
    const snap = this.engine.snapshot();
    this.execution = snap.execution;
    this.current = snap.projection;
  }

  get projection(): PublicationProjection {
    return this.current;
  }

  get executionState(): VolumeExecutionState {
    return this.execution;
  }

  get shippers(): ShipperGroupPort | null {
    return this.group;
  }

  get receiver(): ReceiverPort | null {
    return this.receiverPort;
  }

  shipperStatuses(): readonly ShipperStatusView[] {
    return this.group?.statuses() ?? [];
  }

  needsRebuildReason(replicaId: string): string | undefined {
    return this.needsRebuild.get(replicaId);
  }

  /** Progress of the rebuild this copy is pulling, if any. */
  rebuildProgress(): RebuildProgressView | undefined {
    return this.pull.progress;
  }

  /** The last rebuild of this copy that committed. */
  get lastRebuild(): RebuildPull["last"] {
    return this.pull.last;
  }

  /** Feeds an applied assignment (fence already updated) and runs the resulting commands. */
  deliver(a: ParsedAssignment): string[] {
    const replicas =
      a.role === "primary"
        ? a.replicas.map((r) => ({ serverId: r.serverId, dataAddr: r.address, ctrlAddr: r.address }))
        : a.role === "replica" || a.role === "rebuilding"
          ? [{ serverId: this.deps.localServerId, dataAddr: "", ctrlAddr: "" }]
          : [];
    if (a.role !== "primary") this.needsRebuild.clear();
    return this.run({ type: "assignment", epoch: BigInt(a.epoch), role: a.role, replicas });
  }

  /** An observation from the data plane or a background task. */
  observe(event: EngineEvent): void {
    if (this.closed) return;
    this.run(event);
  }

  /** A durable flush finished (or failed): the engine's boundary follows. */
  flushed(result: { ok: true; lsn: number } | { ok: false; reason: string }): void {
    if (result.ok) {
      if (result.lsn > this.committedLsn) this.committedLsn = result.lsn;
      if (this.group !== null && this.group.statuses().length > 0) {
        this.observe({ type: "barrier_accepted", flushedLsn: BigInt(result.lsn) });
      }
      this.observe({ type: "committed_advanced", committedLsn: BigInt(this.committedLsn) });
    } else if (this.group !== null && this.group.statuses().length > 0) {
      this.observe({ type: "barrier_rejected", reason: result.reason });
    }
  }

  /** Budget clock for catch-ups (the engine never reads a clock). */
  tick(): void {
    if (this.catchUps.size === 0) return;
    // Barrier progress does not raise stateChange: poll it for the catch-ups being executed.
    for (const id of [...this.catchUps.keys()]) this.checkCatchUp(id);
    if (this.catchUps.size > 0) this.observe({ type: "budget_tick", nowMs: this.deps.clock.now() });
  }

  /** Stops shipping (demotion, delete, shutdown). */
  async stopShipping(): Promise<void> {
    const group = this.group;
    this.group = null;
    this.catchUps.clear();
    this.connected.clear();
    this.lost.clear();
    if (group !== null) await group.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pull.close();
    await this.stopShipping();
    const receiver = this.receiverPort;
    this.receiverPort = null;
    await receiver?.close?.();
  }

  private run(first: EngineEvent): string[] {
    const queue: EngineEvent[] = [first];
    const executed: string[] = [];
    while (queue.length > 0) {
      const event = queue.shift() as EngineEvent;
      const out = this.engine.apply(event);
      this.execution = out.execution;
      this.current = out.projection;
      if (out.rejected !== null)
        this.deps.log.debug({ event: event.type, rejected: out.rejected }, "engine refused event");
      for (const c of out.commands) {
        executed.push(c.type);
        this.execute(c, queue);
      }
    }
    if (executed.length > 0) {
      this.commandLog.push(...executed);
      if (this.commandLog.length > COMMAND_LOG_LIMIT)
        this.commandLog.splice(0, this.commandLog.length - COMMAND_LOG_LIMIT);
    }
    if (this.deps.fence.role === "primary" && this.group !== null) {
      this.lost.reconcile(this.execution.replicas, (id) => this.needsRebuild.has(id));
    }
    // The derived state may have changed the gate's answers: gated shippers ask again now.
    this.group?.policyChanged();
    this.deps.onChange();
    return executed;
  }

  private execute(c: EngineCommand, queue: EngineEvent[]): void {
    const log = this.deps.log;
    switch (c.type) {
      case "apply_role": {
        // The fence already took the role and persisted the epoch (before this command existed).
        const role = this.deps.fence.role;
        const matches =
          c.role === "primary" ? role === "primary" : role === "replica" || role === "rebuilding";
        if (matches && BigInt(this.deps.fence.masterEpoch) === c.epoch) queue.push({ type: "role_applied" });
        else
          log.warn(
            { engineRole: c.role, role, epoch: String(c.epoch) },
            "apply_role does not match the fence",
          );
        return;
      }
      case "start_receiver":
        if (this.receiverPort === null) {
          this.receiverPort = this.deps.binding.createReceiver({
            volume: this.deps.volume,
            volumeId: this.deps.volumeId,
            localServerId: this.deps.localServerId,
            authority: () => this.authority(),
          });
        }
        queue.push({ type: "receiver_ready" });
        return;
      case "configure_shipper": {
        const group = this.ensureGroup();
        group.setReplicas(
          c.replicas.map((r) => ({
            replicaId: r.replicaId,
            serverId: serverOfReplica(r.replicaId),
            address: r.endpoint.dataAddr,
          })),
        );
        for (const id of [...this.connected]) {
          if (!c.replicas.some((r) => r.replicaId === id)) this.connected.delete(id);
        }
        queue.push({ type: "shipper_configured" });
        if (group.statuses().some((s) => s.state === "in_sync")) queue.push({ type: "shipper_connected" });
        return;
      }
      case "connect_replica":
        this.connectReplica(c.replicaId, c.sessionId, c.endpoint.dataAddr);
        return;
      case "start_catchup":
        log.info(
          {
            replicaId: c.replicaId,
            sessionId: c.sessionId,
            fromLsn: String(c.fromLsn),
            targetLsn: String(c.targetLsn),
          },
          "catch-up planned",
        );
        if (c.truncateToLsn > 0n) {
          // The copy holds history beyond this primary's head (a failed-over old primary's tail).
          // Cutting it back is not supported here: it is rebuilt instead, never resurrected.
          this.later({ type: "truncation_unsafe", replicaId: c.replicaId, sessionId: c.sessionId });
          return;
        }
        this.catchUps.set(c.replicaId, {
          sessionId: c.sessionId,
          targetLsn: Number(c.targetLsn),
          // The replica already holds everything up to the session's start.
          reported: Number(c.fromLsn),
        });
        queueMicrotask(() => this.checkCatchUp(c.replicaId));
        return;
      case "start_rebuild":
        if (this.deps.fence.role !== "rebuilding") {
          // Rebuilds are pulled by the copy itself (Rebuild.StreamBase); a primary cannot push one.
          this.later({
            type: "recovery_failed",
            replicaId: c.replicaId,
            sessionId: c.sessionId,
            reason: "rebuild_is_pulled_by_the_copy: assign ROLE_REBUILDING to the replica",
          });
          return;
        }
        this.pull.start(c.replicaId, c.sessionId);
        return;
      case "stop_recovery":
        if (this.catchUps.get(c.replicaId)?.sessionId === c.sessionId) this.catchUps.delete(c.replicaId);
        if (this.pull.isRunning(c.sessionId)) this.pull.stop();
        log.debug({ replicaId: c.replicaId, sessionId: c.sessionId, reason: c.reason }, "recovery stopped");
        return;
      case "publish_projection":
        log.debug({ mode: c.projection.mode.name, reason: c.projection.mode.reason }, "projection");
        return;
      default: {
        const never: never = c;
        throw new Error(`unhandled engine command ${JSON.stringify(never)}`);
      }
    }
  }

  /** The receiver's view of our fencing: only the assigned primary at our epoch, only as REPLICA. */
  private authority(): ReceiverAuthority {
    const role = this.deps.fence.role;
    return {
      epoch: this.deps.fence.masterEpoch,
      primaryServerId: this.assignment?.primaryServerId ?? "",
      accepting: role === "replica",
      role,
    };
  }

  /** Policy first, then replicas: no shipper can start before the gate is in place. */
  private ensureGroup(): ShipperGroupPort {
    if (this.group !== null) return this.group;
    const group = this.deps.binding.createShipperGroup({
      volume: this.deps.volume,
      volumeId: this.deps.volumeId,
      primaryServerId: this.deps.localServerId,
      epoch: () => this.deps.fence.masterEpoch,
      durabilityMode: () => this.deps.volume.durabilityMode,
      barrierTimeoutMs: this.deps.barrierTimeoutMs,
    });
    group.setPolicy(this.policy);
    group.on("stateChange", (status: ShipperStatusView) => {
      // Deferred: a data-plane callback must never re-enter the engine mid-command.
      queueMicrotask(() => {
        if (this.group === group && !this.closed) this.onShipperState(status);
      });
    });
    group.on("needsRebuild", (replicaId: string, reason: string) => {
      queueMicrotask(() => {
        if (this.group === group && !this.closed) this.onNeedsRebuild(replicaId, reason);
      });
    });
    this.group = group;
    return group;
  }

  private onNeedsRebuild(replicaId: string, reason: string): void {
    this.needsRebuild.set(replicaId, reason);
    this.deps.log.warn({ replicaId, reason }, "replica needs a rebuild");
    // The engine's sender follows the data plane's verdict (its session, if any, ends).
    if (this.execution.replicas.has(replicaId))
      this.observe({ type: "replica_needs_rebuild", replicaId, reason });
    else this.deps.onChange();
  }

  private onShipperState(status: ShipperStatusView): void {
    const wasNeedsRebuild = this.needsRebuild.has(status.replicaId);
    if (status.state !== "needs_rebuild") this.needsRebuild.delete(status.replicaId);
    if (
      wasNeedsRebuild &&
      status.state !== "needs_rebuild" &&
      this.execution.replicas.has(status.replicaId)
    ) {
      // The copy was rebuilt (the shipper's probe found it within the retained WAL again): a fresh
      // catch-up session brings the engine's sender back to in_sync through the normal path.
      this.deps.log.info({ replicaId: status.replicaId }, "replica is back within the retained WAL");
      this.observe({ type: "start_recovery", replicaId: status.replicaId, kind: "catchup" });
    }
    if (status.state === "in_sync" && !this.connected.has(status.replicaId)) {
      this.connected.add(status.replicaId);
      this.observe({ type: "shipper_connected" });
    } else if (status.state !== "in_sync" && status.state !== "catching_up") {
      // Lost (disconnected, degraded, needs_rebuild): whatever it missed is planned by a session.
      const wasConnected = this.connected.delete(status.replicaId);
      if (
        wasConnected &&
        this.execution.replicas.has(status.replicaId) &&
        this.lost.markLost(status.replicaId)
      ) {
        this.deps.log.info(
          { replicaId: status.replicaId, state: status.state },
          "replica lost: live tail gated until a catch-up",
        );
        if (status.state !== "needs_rebuild") this.startCatchUpSession(status.replicaId);
      }
    }
    this.checkCatchUp(status.replicaId);
    this.deps.onChange();
  }

  /** The cursor shipper replays the gap itself; a barrier-confirmed durable LSN is the progress. */
  private checkCatchUp(replicaId: string): void {
    const watch = this.catchUps.get(replicaId);
    if (watch === undefined || this.closed) return;
    const status = this.group?.statuses().find((s) => s.replicaId === replicaId);
    if (status === undefined) return;
    const durable = Math.min(status.durableLsn, watch.targetLsn);
    const nowMs = this.deps.clock.now();
    if (durable > watch.reported) {
      watch.reported = durable;
      this.observe({
        type: "catchup_progress",
        replicaId,
        sessionId: watch.sessionId,
        durableLsn: BigInt(durable),
        nowMs,
      });
    }
    if (durable >= watch.targetLsn && this.catchUps.get(replicaId) === watch) {
      this.catchUps.delete(replicaId);
      this.observe({ type: "catchup_done", replicaId, sessionId: watch.sessionId });
    }
  }

  private connectReplica(replicaId: string, sessionId: SessionId, address: string): void {
    runHandshake(this.deps, { replicaId, sessionId, address }, (event) => this.observe(event));
  }

  /** A fresh catch-up session for a lost replica (the engine dials it: handshake first). */
  private startCatchUpSession(replicaId: string): void {
    if (this.closed || this.deps.fence.role !== "primary") return;
    if (this.execution.replicas.get(replicaId)?.sessionActive) return;
    this.observe({ type: "start_recovery", replicaId, kind: "catchup" });
  }

  /** Feed an event after the current run finished (never re-entrant into the engine). */
  private later(event: EngineEvent): void {
    queueMicrotask(() => this.observe(event));
  }
}
