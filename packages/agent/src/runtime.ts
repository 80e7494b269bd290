// The host loop of one volume's protocol engine (etcd-raft style): assignments and observations go
// in, the engine's commands come out and are executed here; what execution observes is fed back
// as new events. After every event the execution state is re-derived, and the live-shipping policy
// (installed on the ShipperGroup before any shipper starts) reads it at call time.
import {
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
import { CatchUpWatches } from "./catchup-watches";
import type { Clock } from "./clock";
import { engineNeedsRebuildReason, newlyCondemned } from "./engine-verdicts";
import type { Fence } from "./fence";
import { type HandshakeFn, runHandshake } from "./handshake";
import { type LiveEligibility, LiveShippingGate } from "./live-shipping-gate";
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
import { type ResyncFn, ResyncRuns } from "./resync-run";
import { StorageRetention } from "./retention-port";
import { ShipperStatusObserver } from "./shipper-status-observer";

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
  /** Runs a changed-block resync of one replica (Replication.Resync). */
  readonly resync: ResyncFn;
  /** Called after every event (status watchers, health). */
  readonly onChange: () => void;
  /** The policy denied a replica the live tail (counted by metrics). */
  readonly onGateDenied?: (replicaId: string, reason: string | undefined) => void;
  /** A rebuild of this copy committed: the host moves it REBUILDING → REPLICA (under its lock). */
  readonly onRebuildCommitted?: () => void;
  /** Default transfer rate of a rebuild this copy pulls (bytes/s, 0 = the primary's default). */
  readonly rebuildRateLimitBytesPerSecond?: number;
}

/** How many executed command names GetStatus/debugging can look back on. */
const COMMAND_LOG_LIMIT = 64;

export class VolumeRuntime {
  readonly engine: VolumeEngine;
  private execution: VolumeExecutionState;
  private current: PublicationProjection;
  private group: ShipperGroupPort | null = null;
  private receiverPort: ReceiverPort | null = null;
  private readonly catchUps: CatchUpWatches;
  private readonly shipperStatus: ShipperStatusObserver;
  private readonly pull: RebuildPull;
  private readonly resyncs: ResyncRuns;
  /** Replicas the shipper lost: the live tail stays gated for them until a catch-up session. */
  private readonly lost: LostReplicas;
  private closed = false;
  /** Highest LSN known durable under the volume's durability mode. */
  committedLsn: number;
  /** The last applied assignment (what re-deliveries are compared with). */
  assignment: ParsedAssignment | undefined;
  readonly commandLog: string[] = [];

  /** The phase gate (live-shipping-gate.ts), bound once; it reads the latest derived state at call time. */
  private readonly gate: LiveShippingGate;

  constructor(private readonly deps: RuntimeDeps) {
    this.lost = new LostReplicas(deps.log, (id) => this.startCatchUpSession(id));
    this.catchUps = new CatchUpWatches({
      clock: deps.clock,
      observe: (event) => this.observe(event),
      shipperStatus: (replicaId) => this.group?.statuses().find((s) => s.replicaId === replicaId),
      isClosed: () => this.closed,
    });
    this.shipperStatus = new ShipperStatusObserver({
      log: deps.log,
      lost: this.lost,
      engineTracks: (replicaId) => this.execution.replicas.has(replicaId),
      observe: (event) => this.observe(event),
      startCatchUpSession: (replicaId) => this.startCatchUpSession(replicaId),
      sessionActive: (replicaId) => this.execution.replicas.get(replicaId)?.sessionActive === true,
      engineState: (replicaId) => this.execution.replicas.get(replicaId)?.senderState,
      checkCatchUp: (replicaId) => this.catchUps.check(replicaId),
      onChange: () => deps.onChange(),
    });
    this.gate = new LiveShippingGate({
      execution: () => this.execution,
      catchUps: this.catchUps,
      lost: this.lost,
      needsRebuildReason: (id) => this.needsRebuildReason(id),
      onDenied: (replicaId, reason) => deps.onGateDenied?.(replicaId, reason),
    });
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
    this.resyncs = new ResyncRuns({
      volumeId: deps.volumeId,
      volume: deps.volume,
      epoch: () => deps.fence.masterEpoch,
      clock: deps.clock,
      log: deps.log,
      resync: deps.resync,
      rateBytesPerSecond: deps.rebuildRateLimitBytesPerSecond ?? 0,
      observe: (event) => this.observe(event),
      // The engine answered resync_committed with the session's catch-up phase (start_catchup):
      // the cursor shipper streams from the copy's new head, which its probe sees now.
      onCommitted: (replicaId) => this.group?.reprobe(replicaId),
      onProgress: () => deps.onChange(),
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

  /** The policy installed on the shipper group (the gate's per-LSN answer). */
  get policy(): LiveShippingPolicy {
    return this.gate.policy;
  }

  /** The gate's one answer for a replica: what the shipper is told and what every report shows. */
  liveEligibility(replicaId: string): LiveEligibility {
    return this.gate.eligibility(replicaId);
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
    return this.shipperStatus.needsRebuildReason(replicaId);
  }

  /** Progress of the rebuild this copy is pulling, if any. */
  rebuildProgress(): RebuildProgressView | undefined {
    return this.pull.progress;
  }

  /** The resyncs this primary is sending, and the last committed one per replica. */
  get resyncRuns(): ResyncRuns {
    return this.resyncs;
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
    if (a.role !== "primary") this.shipperStatus.forgetRebuildVerdicts();
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
    this.catchUps.tick();
  }

  /** Stops shipping (demotion, delete, shutdown). */
  async stopShipping(): Promise<void> {
    const group = this.group;
    this.group = null;
    this.catchUps.clear();
    this.resyncs.clear();
    this.shipperStatus.forgetConnections();
    this.lost.clear();
    if (group !== null) await group.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pull.close();
    this.resyncs.close();
    await this.stopShipping();
    const receiver = this.receiverPort;
    this.receiverPort = null;
    await receiver?.close?.();
  }

  private run(first: EngineEvent): string[] {
    const before = this.execution;
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
      this.condemnForEngine(before, this.group);
      this.lost.reconcile(this.execution.replicas);
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
        if (c.replicas.length === 0 && this.group === null) {
          queue.push({ type: "shipper_configured" });
          return;
        }
        const group = this.ensureGroup();
        group.setReplicas(
          c.replicas.map((r) => ({
            replicaId: r.replicaId,
            serverId: serverOfReplica(r.replicaId),
            address: r.endpoint.dataAddr,
          })),
        );
        this.shipperStatus.retainConnected(c.replicas.map((r) => r.replicaId));
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
        this.catchUps.begin(c.replicaId, c.sessionId, Number(c.fromLsn), Number(c.targetLsn));
        // A shipper that only probes the copy (its pin was released, or a resync just committed)
        // streams the planned gap as soon as its probe sees the copy servable: probe now.
        if (this.group?.statuses().some((s) => s.replicaId === c.replicaId && s.state === "needs_rebuild"))
          this.group.reprobe(c.replicaId);
        return;
      case "start_resync": {
        const address = this.replicaAddress(c.replicaId);
        if (address === undefined) {
          this.later({
            type: "recovery_failed",
            replicaId: c.replicaId,
            sessionId: c.sessionId,
            reason: "resync_failed: the replica is not in the assignment",
          });
          return;
        }
        this.resyncs.start(c.replicaId, c.sessionId, Number(c.forkLsn), address);
        return;
      }
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
        this.catchUps.stop(c.replicaId, c.sessionId);
        this.resyncs.stop(c.replicaId, c.sessionId);
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

  /**
   * The engine decided in this run that no catch-up can bring a replica back: the shipper must
   * know it too (it reports NEEDS_REBUILD and probes), or the lost replica stays gated forever.
   */
  private condemnForEngine(before: VolumeExecutionState, group: ShipperGroupPort): void {
    const shipperKnows = (id: string): boolean =>
      this.shipperStatus.awaitingRebuild(id) ||
      group.statuses().some((s) => s.replicaId === id && s.state === "needs_rebuild");
    for (const id of newlyCondemned(before, this.execution, shipperKnows)) {
      const reason = engineNeedsRebuildReason(this.engine.log.forReplica(id), id);
      this.deps.log.warn({ replicaId: id, reason }, "no catch-up can bring the replica back");
      group.historyDiverged(id, reason);
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
        if (this.group === group && !this.closed) this.shipperStatus.onStateChange(status);
      });
    });
    group.on("durableAdvanced", (replicaId: string) => {
      // A catch-up completes on its last barrier's answer: read its progress now, not on the tick.
      queueMicrotask(() => {
        if (this.group === group && !this.closed) this.catchUps.check(replicaId);
      });
    });
    group.on("needsRebuild", (replicaId: string, reason: string) => {
      queueMicrotask(() => {
        if (this.group === group && !this.closed) this.shipperStatus.onNeedsRebuild(replicaId, reason);
      });
    });
    this.group = group;
    return group;
  }

  private connectReplica(replicaId: string, sessionId: SessionId, address: string): void {
    runHandshake(this.deps, { replicaId, sessionId, address }, (event) => {
      // A divergent copy: the shipper must not stream to it either (it probes until rebuilt).
      if (event.type === "replica_needs_rebuild") this.group?.historyDiverged(replicaId, event.reason);
      this.observe(event);
      // The engine planned the copy from fresh facts (zero gap, catch-up or resync): a shipper
      // that only probes it (its pin was released) looks again now instead of after its back-off.
      if (event.type === "handshake") this.group?.reprobe(replicaId);
    });
  }

  private replicaAddress(replicaId: string): string | undefined {
    const serverId = serverOfReplica(replicaId);
    return this.assignment?.replicas.find((r) => r.serverId === serverId)?.address;
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
