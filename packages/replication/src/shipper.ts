import type { ShipResponse__Output } from "@blockship/rpc";
import type { NeedsRebuildEvent } from "@blockship/storage";
import type { BarrierOutcome, ReplicaTarget, ShipperState, ShipperStatus } from "./api";
import { type BarrierAdmissionView, immediateBarrierOutcome } from "./barrier-admission";
import { BarrierPacer } from "./barrier-pacer";
import { BarrierBook } from "./barriers";
import type { ShipperConfig } from "./config";
import { assert, messageOf } from "./errors";
import type { HandshakeVerdict } from "./handshake";
import { InFlightWindow } from "./in-flight";
import { InterruptibleWait } from "./interruptible-wait";
import { LiveGate } from "./live-gate";
import { RebuildProbe, retentionReleasedReason } from "./rebuild-probe";
import { ReplicaDialer } from "./replica-dialer";
import {
  cancelShipStream,
  Disconnect,
  NeedsRebuild,
  openShipStream,
  parseShipResponse,
  type ShipCall,
  type ShipIdentity,
  writeBatch,
} from "./ship-stream";
import type { ShipperDeps } from "./shipper-deps";
import { Signal } from "./signal";
import { traceStage } from "./stage-trace";
import { clipBatch, pinForward, pinFromTail, readBatch } from "./wal-cursor";

/**
 * The primary side for one replica: a cursor (next LSN to send) and one loop that connects
 * (handshake → cursor = replica head + 1), then streams the WAL from the cursor in batches of raw
 * records. Catch-up, live shipping and the handoff between them are this same loop, so nothing
 * appended meanwhile can be skipped. Barriers travel in-band after the entries they cover.
 */
export class ReplicaShipper {
  private state: ShipperState = "disconnected";
  /** Next LSN to send; 0 until a handshake told us where the replica is. */
  private cursor = 0;
  private receivedLsn = 0;
  private lastError: string | undefined;
  private readonly barriers: BarrierBook;
  private readonly pacer: BarrierPacer;
  private readonly gate: LiveGate;
  private readonly dialer: ReplicaDialer;
  private readonly identity: ShipIdentity;
  private readonly signal = new Signal();
  private call: ShipCall | undefined;
  private callDead = false;
  private needDrain = false;
  private readonly window = new InFlightWindow();
  /** Batch size in use: halved when a replica refuses a batch as too large for its WAL. */
  private batchBytes: number;
  private closed = false;
  private readonly backoff = new InterruptibleWait();
  private loop: Promise<void> | undefined;
  private readonly probe = new RebuildProbe();
  batchesSent = 0;
  private readonly onAppended = (): void => this.signal.wake();

  constructor(
    readonly target: ReplicaTarget,
    private readonly cfg: ShipperConfig,
    private readonly deps: ShipperDeps,
  ) {
    this.barriers = new BarrierBook(target.replicaId, cfg.barrierTimeoutMs);
    this.pacer = new BarrierPacer(this.barriers, cfg.backgroundBarrierBytes, cfg.idleBarrierMs);
    this.gate = new LiveGate(deps.policy, target.replicaId, () => deps.emitState(this.status()));
    this.identity = {
      volumeId: cfg.volumeId,
      primaryServerId: cfg.primaryServerId,
      replicaServerId: target.serverId,
    };
    this.dialer = new ReplicaDialer(deps.connect, target, this.identity, cfg.handshakeTimeoutMs);
    this.batchBytes = cfg.batchBytes;
  }

  start(): void {
    assert(this.loop === undefined, "shipper started twice");
    const v = this.deps.volume;
    // Retain everything still in the WAL until the handshake says what the replica has: a replica
    // that is down keeps its entries (until storage's retention budget gives up on it).
    const pinError = pinFromTail(v, this.target.replicaId);
    if (pinError !== undefined) this.lastError = pinError;
    v.on("appended", this.onAppended);
    this.loop = this.run().catch((err: unknown) => {
      // Only a bug gets here (every expected failure is handled in the loop): stay visible.
      this.lastError = `shipper loop failed: ${messageOf(err)}`;
      this.state = "degraded";
    });
  }

  wake(): void {
    this.signal.wake();
  }

  status(): ShipperStatus {
    const t = this.target;
    return {
      replicaId: t.replicaId,
      serverId: t.serverId,
      address: t.address,
      state: this.state,
      cursorLsn: this.cursor,
      receivedLsn: this.receivedLsn,
      durableLsn: this.barriers.durableLsn,
      inFlightBytes: this.window.bytes,
      peakInFlightBytes: this.window.peakBytes,
      ...(this.gate.reason === undefined ? {} : { gateReason: this.gate.reason }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** Make everything <= lsn durable on the replica; never rejects. */
  barrier(lsn: number): Promise<BarrierOutcome> {
    assert(Number.isSafeInteger(lsn) && lsn >= 0, `barrier LSN ${lsn}`);
    const b = this.barriers;
    const now = immediateBarrierOutcome(b, this.barrierView(), lsn);
    if (now !== undefined) return Promise.resolve(now);
    const p = b.wait(lsn);
    this.signal.wake();
    return p;
  }

  /** Another handshake (the host's recovery session) found the replica's history divergent. */
  historyDiverged(reason: string): void {
    this.enterNeedsRebuild(reason, true);
  }

  /** The copy was repaired outside the stream (a resync committed): probe it now, not after the back-off. */
  reprobe(): void {
    if (this.state === "needs_rebuild") this.backoff.interrupt();
  }

  /** Storage released this replica's WAL pin over budget: it must be rebuilt. */
  retentionReleased(ev: NeedsRebuildEvent): void {
    this.enterNeedsRebuild(retentionReleasedReason(ev), false);
  }

  async close(opts: { keepPin: boolean }): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deps.volume.off("appended", this.onAppended);
    if (!opts.keepPin) this.deps.volume.unpinWal(this.target.replicaId);
    this.backoff.interrupt();
    this.dialer.cancelHandshake();
    this.dropCall("shipper_stopped");
    this.signal.wake();
    await this.loop;
    this.dialer.close();
  }

  // ---- the loop ---------------------------------------------------------------------------------

  private async run(): Promise<void> {
    let backoffMs = this.cfg.reconnectMinMs;
    while (!this.closed) {
      // needs_rebuild: probe with a handshake only (no stream, so no gate) every reconnectMaxMs
      // until the replica was rebuilt; then this same loop catches it up from its new head.
      const probing = this.needsRebuild();
      if (probing) {
        await this.backoff.sleep(this.cfg.reconnectMaxMs);
        if (this.closed) break;
      } else if (!this.gate.allows(this.barriers.durableLsn + 1)) {
        // The phase gate comes before any dial. Asked for the first entry the replica may lack: a
        // catch-up session's window (up to its frozen target) opens the dial, the live tail not.
        await this.signal.wait(this.cfg.gateRecheckMs);
        continue;
      }
      let streamed = false;
      try {
        streamed = await this.session(probing);
      } catch (err) {
        if (err instanceof NeedsRebuild) {
          this.enterNeedsRebuild(err.message, true);
          continue;
        }
        if (!this.needsRebuild()) this.lastError = messageOf(err); // a failed probe keeps the reason
      }
      if (this.needsRebuild() || this.closed) {
        this.dropCall(`needs_rebuild: ${this.lastError ?? ""}`);
        this.dialer.close();
        continue;
      }
      this.dropCall(`unavailable: ${this.lastError ?? "disconnected"}`);
      if (this.state === "disconnected") continue; // left needs_rebuild, held by the gate
      this.setState("degraded");
      if (streamed) backoffMs = this.cfg.reconnectMinMs;
      await this.backoff.sleep(backoffMs);
      backoffMs = Math.min(backoffMs * 2, this.cfg.reconnectMaxMs);
    }
  }

  /**
   * Handshake, open the stream, pump until it ends. Resolves true if the stream got going. While
   * `probing` (needs_rebuild) the handshake alone decides: still unrecoverable → false, state kept.
   */
  private async session(probing: boolean): Promise<boolean> {
    if (!probing) this.setState("connecting");
    const v = this.deps.volume;
    const epoch = this.cfg.epoch();
    const { replica, verdict } = await this.dialer.dial(v, epoch);
    if (this.closed) return false;
    // The replica's own word on what it has fsynced now: knowledge from an earlier connection
    // must not outlive a replica that lost its data (only lowered here; barriers raise it). A
    // divergent copy holds nothing of ours from the divergent LSN on.
    if (verdict.kind !== "retry") this.barriers.lowerDurable(trustedDurable(replica.durableLsn, verdict));
    if (verdict.kind === "retry") throw new Disconnect(verdict.reason);
    if (verdict.kind === "needs_rebuild") {
      if (probing) return false;
      throw new NeedsRebuild(verdict.reason);
    }
    const sameCopy = this.probe.recordHandshake(replica);
    if (probing) {
      // Divergent history passes the handshake: only a changed replica (rebuilt) is worth a stream.
      if (sameCopy) return false;
      this.probe.left();
      this.lastError = undefined;
      this.setState("connecting"); // out of needs_rebuild: the agent may start a catch-up session
      if (!this.gate.allows(verdict.cursor)) {
        this.setState("disconnected");
        return false;
      }
    }
    this.cursor = verdict.cursor;
    this.receivedLsn = verdict.cursor - 1;
    if (!this.pinAt(verdict.pinFromLsn)) {
      throw new NeedsRebuild(`wal_recycled: the WAL moved past LSN ${this.cursor} during the handshake`);
    }
    this.openStream(epoch);
    this.setState(this.cursor > v.headLsn ? "in_sync" : "catching_up");
    this.lastError = undefined;
    await this.pump(epoch);
    return true;
  }

  private openStream(epoch: number): void {
    const client = this.dialer.current;
    assert(client !== undefined, "stream without a client");
    this.callDead = false;
    this.needDrain = false;
    const call: ShipCall = openShipStream(client, this.identity, epoch, {
      current: () => this.call === call,
      response: (msg) => this.onResponse(msg),
      dead: (why) => {
        if (this.call !== call || this.callDead) return;
        this.callDead = true;
        this.lastError = why;
        this.signal.wake();
      },
      batchRefused: () => {
        this.batchBytes = Math.max(4096, Math.floor(this.batchBytes / 2));
      },
      stickyNeedsRebuild: (reason) => this.enterNeedsRebuild(reason, true),
      drain: () => {
        this.needDrain = false;
        this.signal.wake();
      },
    });
    this.call = call;
  }

  /** Streams from the cursor until the stream dies or the shipper closes. */
  private async pump(epoch: number): Promise<void> {
    const v = this.deps.volume;
    const cfg = this.cfg;
    const call = this.call;
    assert(call !== undefined, "pump without a stream");
    while (!this.closed && this.call === call && !this.callDead) {
      if (cfg.epoch() !== epoch || v.epoch !== epoch) {
        throw new Disconnect(`epoch_changed: stream epoch ${epoch}, now ${cfg.epoch()}/${v.epoch}`);
      }
      this.pacer.sendDue(call, this.cursor - 1);
      if (this.needDrain) {
        await this.signal.wait();
        continue;
      }
      if (this.cursor > v.headLsn) {
        this.setState("in_sync");
        this.gate.clear();
        // A catch-up session whose frozen target is the head completes on the answer to a barrier
        // covering it: that barrier goes now (or when the one in flight is answered), not after
        // the idle delay of background barriers.
        if (!this.gate.peek(this.cursor)) this.pacer.sendBeforeGate(call, this.cursor - 1);
        else this.pacer.sendBackground(call, this.cursor - 1);
        await this.signal.wait(this.barriers.idleWaitMs(this.cursor - 1, this.cfg.idleBarrierMs, Date.now()));
        continue;
      }
      if (!this.gate.allows(this.cursor)) {
        // Barriers that need gated entries cannot succeed: fail them now rather than at timeout.
        this.barriers.failUnsent(this.cursor, `live_shipping_blocked: ${this.gate.reason ?? ""}`);
        this.pacer.sendBeforeGate(call, this.cursor - 1);
        await this.signal.wait(cfg.gateRecheckMs);
        continue;
      }
      const room = cfg.maxInFlightBytes - this.window.bytes;
      if (this.window.bytes > 0 && room < this.batchBytes) {
        await this.signal.wait(); // an ack frees room
        continue;
      }
      const batch = await readBatch(v, this.cursor, Math.min(this.batchBytes, room));
      if (batch === undefined || this.closed || this.call !== call || this.callDead) continue;
      // A single record larger than the room waits for every ack (it travels alone).
      while (this.window.bytes > 0 && batch.bytes.length > cfg.maxInFlightBytes - this.window.bytes) {
        if (this.closed || this.callDead || this.call !== call) break;
        await this.signal.wait();
      }
      if (this.closed || this.callDead || this.call !== call) continue;
      if (batch.firstLsn !== this.cursor || !this.gate.allows(batch.firstLsn)) continue;
      // A catch-up session's gate ends at its frozen target: never send past it in one batch.
      const allowed = this.gate.allows(batch.lastLsn)
        ? batch
        : clipBatch(batch, v.blockSize, (lsn) => this.gate.peek(lsn));
      if (allowed === undefined) continue;
      this.send(call, allowed.bytes, allowed.firstLsn, allowed.lastLsn, allowed.count);
    }
    if (this.callDead) throw new Disconnect(this.lastError ?? "stream ended");
  }

  private send(call: ShipCall, bytes: Buffer, firstLsn: number, lastLsn: number, count: number): void {
    const ok = writeBatch(call, bytes, firstLsn, lastLsn, count);
    this.batchesSent++;
    this.window.add(lastLsn, bytes.length);
    this.pacer.noteSent(bytes.length);
    this.cursor = lastLsn + 1;
    if (!ok) this.needDrain = true;
    // Barriers covering what was just sent go right behind it.
    this.pacer.sendDue(call, this.cursor - 1);
    this.pacer.sendBackground(call, this.cursor - 1);
  }

  private onResponse(msg: ShipResponse__Output): void {
    try {
      const r = parseShipResponse(msg);
      if (r.kind === "ack") {
        this.onAck(r.receivedLsn);
      } else if (r.kind === "barrier") {
        traceStage("primary_barrier_answered", r.id, r.durableLsn);
        // Durable implies received: the answer also frees in-flight room.
        this.onAck(r.durableLsn);
        const advanced = this.barriers.onResponse(r.id, r.durableLsn, r.ok, r.reason);
        // The pump may hold a barrier back while this one was in flight (one at a time).
        this.signal.wake();
        if (advanced && !this.pinAt(this.barriers.durableLsn + 1)) {
          this.enterNeedsRebuild("wal_recycled: the replica's pin was recycled", false);
        } else if (advanced) this.deps.emitDurable(this.target.replicaId, this.barriers.durableLsn);
      }
    } catch (err) {
      this.lastError = `bad response: ${messageOf(err)}`;
      this.callDead = true;
      this.signal.wake();
    }
  }

  private onAck(receivedLsn: number): void {
    if (receivedLsn > this.receivedLsn) this.receivedLsn = receivedLsn;
    if (this.window.ack(receivedLsn)) this.signal.wake();
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private barrierView(): BarrierAdmissionView {
    const streamLive = this.call !== undefined && !this.callDead;
    const { closed, state, lastError, cursor } = this;
    return { closed, state, streamLive, lastError, gateReason: this.gate.reason, cursor };
  }

  /**
   * Throttle before dropping: while this replica streams (in_sync / catching_up) under a mode that
   * counts it for durability, its pin is exempt from the byte budget, so a faster writer is slowed
   * and then blocked by admission instead of getting a live replica released; best_effort keeps the
   * budget (the writer never waits for a replica there).
   */
  private markPinLive(): void {
    const v = this.deps.volume;
    const streaming = this.state === "in_sync" || this.state === "catching_up";
    const counted = v.durabilityMode === "sync_all" || v.durabilityMode === "sync_quorum";
    v.setPinLive(this.target.replicaId, streaming && counted && !this.closed);
  }

  /** Moves the WAL pin forward to `lsn` (never backward); false when `lsn` is already recycled. */
  private pinAt(lsn: number): boolean {
    if (this.closed || this.state === "needs_rebuild") return true;
    const r = pinForward(this.deps.volume, this.target.replicaId, lsn);
    if (r === "recycled") return false;
    if (r !== undefined) this.lastError = r;
    return true;
  }

  private dropCall(reason: string): void {
    const call = this.call;
    this.call = undefined;
    this.callDead = false;
    this.needDrain = false;
    this.window.clear();
    this.barriers.failAll(reason);
    if (call !== undefined) cancelShipStream(call);
  }

  private enterNeedsRebuild(reason: string, unpin: boolean): void {
    if (this.state === "needs_rebuild" || this.closed) return;
    this.lastError = reason;
    // A divergent replica looks fine to a handshake; the probe waits until its facts change.
    this.probe.entered(reason);
    if (unpin) this.deps.volume.unpinWal(this.target.replicaId);
    this.setState("needs_rebuild");
    this.dropCall(`needs_rebuild: ${reason}`);
    this.backoff.interrupt();
    this.signal.wake();
    this.deps.emitNeedsRebuild(this.target.replicaId, reason);
  }

  /** A method, not a field read, so TypeScript does not narrow it across awaits. */
  private needsRebuild(): boolean {
    return this.state === "needs_rebuild";
  }

  private setState(s: ShipperState): void {
    if (s === this.state) return;
    this.state = s;
    this.markPinLive();
    this.deps.emitState(this.status());
  }
}

/** What of the replica's durable LSN may count: nothing from a divergent LSN on. */
function trustedDurable(durableLsn: number, verdict: HandshakeVerdict): number {
  if (verdict.kind !== "needs_rebuild" || verdict.divergentAt === undefined) return durableLsn;
  return Math.min(durableLsn, verdict.divergentAt - 1);
}
