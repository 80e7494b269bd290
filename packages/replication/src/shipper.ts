import type { ReplicationClient, ShipResponse__Output } from "@blockship/rpc";
import type { NeedsRebuildEvent, Volume } from "@blockship/storage";
import type { ClientUnaryCall } from "@grpc/grpc-js";
import type { BarrierOutcome, LiveShippingPolicy, ReplicaTarget, ShipperState, ShipperStatus } from "./api";
import { BarrierBook } from "./barriers";
import type { ShipperConfig } from "./config";
import { assert, messageOf } from "./errors";
import { classifyHandshake, type ReplicaFacts, sameFacts } from "./handshake";
import { InFlightWindow } from "./in-flight";
import {
  cancelShipStream,
  Disconnect,
  gateDenial,
  handshake,
  NeedsRebuild,
  openShipStream,
  parseShipResponse,
  type ShipCall,
  type ShipIdentity,
  writeBarrier,
  writeBatch,
} from "./ship-stream";
import { cancellableSleep, Signal } from "./signal";
import { clipBatch, pinForward, pinFromTail, readBatch } from "./wal-cursor";

export interface ShipperDeps {
  readonly volume: Volume;
  /** Makes a fresh client per connection attempt, so our back-off (not the channel's) decides retries. */
  readonly connect: (address: string, serverId: string) => ReplicationClient;
  readonly policy: () => LiveShippingPolicy | null;
  readonly emitState: (status: ShipperStatus) => void;
  readonly emitNeedsRebuild: (replicaId: string, reason: string) => void;
}

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
  private gateReason: string | undefined;
  private lastError: string | undefined;
  private readonly barriers: BarrierBook;
  private readonly identity: ShipIdentity;
  private readonly signal = new Signal();
  private call: ShipCall | undefined;
  private callDead = false;
  private needDrain = false;
  private handshakeCall: ClientUnaryCall | undefined;
  private client: ReplicationClient | undefined;
  private readonly window = new InFlightWindow();
  private bytesSinceBarrier = 0;
  /** Batch size in use: halved when a replica refuses a batch as too large for its WAL. */
  private batchBytes: number;
  private closed = false;
  private backoff: { cancel: () => void } | undefined;
  private loop: Promise<void> | undefined;
  /** The replica's facts at the last handshake, and (divergent history) when needs_rebuild began. */
  private lastReplicaFacts: ReplicaFacts | undefined;
  private factsAtNeedsRebuild: ReplicaFacts | undefined;
  batchesSent = 0;
  private readonly onAppended = (): void => this.signal.wake();

  constructor(
    readonly target: ReplicaTarget,
    private readonly cfg: ShipperConfig,
    private readonly deps: ShipperDeps,
  ) {
    this.barriers = new BarrierBook(target.replicaId, cfg.barrierTimeoutMs);
    this.identity = {
      volumeId: cfg.volumeId,
      primaryServerId: cfg.primaryServerId,
      replicaServerId: target.serverId,
    };
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
      ...(this.gateReason === undefined ? {} : { gateReason: this.gateReason }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** Make everything <= lsn durable on the replica; never rejects. */
  barrier(lsn: number): Promise<BarrierOutcome> {
    assert(Number.isSafeInteger(lsn) && lsn >= 0, `barrier LSN ${lsn}`);
    const b = this.barriers;
    if (this.closed) return Promise.resolve(b.failed("shipper_stopped"));
    if (this.state === "needs_rebuild") return Promise.resolve(b.failed("needs_rebuild"));
    if (this.call === undefined || this.callDead || this.state === "connecting") {
      // Even if an earlier barrier proved lsn durable: while we cannot see the replica, it may have
      // lost its disk; sync_all must not succeed on old knowledge.
      const why = this.lastError === undefined ? "" : `: ${this.lastError}`;
      return Promise.resolve(b.failed(`unavailable (${this.state}${why})`));
    }
    if (lsn > 0 && b.durableLsn >= lsn) return Promise.resolve(b.ok());
    if (this.gateReason !== undefined && this.cursor <= lsn) {
      return Promise.resolve(b.failed(`live_shipping_blocked: ${this.gateReason}`));
    }
    const p = b.wait(lsn);
    this.signal.wake();
    return p;
  }

  /** Storage released this replica's WAL pin over budget: it must be rebuilt. */
  retentionReleased(ev: NeedsRebuildEvent): void {
    this.enterNeedsRebuild(
      `retention_${ev.reason}: pin at LSN ${ev.pinnedLsn} held ${ev.heldBytes} bytes for ${ev.ageMs} ms`,
      false,
    );
  }

  async close(opts: { keepPin: boolean }): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deps.volume.off("appended", this.onAppended);
    if (!opts.keepPin) this.deps.volume.unpinWal(this.target.replicaId);
    this.backoff?.cancel();
    this.handshakeCall?.cancel();
    this.dropCall("shipper_stopped");
    this.signal.wake();
    await this.loop;
    this.closeClient();
  }

  // ---- the loop ---------------------------------------------------------------------------------

  private async run(): Promise<void> {
    let backoffMs = this.cfg.reconnectMinMs;
    while (!this.closed) {
      // needs_rebuild: probe with a handshake only (no stream, so no gate) every reconnectMaxMs
      // until the replica was rebuilt; then this same loop catches it up from its new head.
      const probing = this.needsRebuild();
      if (probing) {
        await this.sleep(this.cfg.reconnectMaxMs);
        if (this.closed) break;
      } else if (!this.gateAllows(this.barriers.durableLsn + 1)) {
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
        this.closeClient();
        continue;
      }
      this.dropCall(`unavailable: ${this.lastError ?? "disconnected"}`);
      if (this.state === "disconnected") continue; // left needs_rebuild, held by the gate
      this.setState("degraded");
      if (streamed) backoffMs = this.cfg.reconnectMinMs;
      await this.sleep(backoffMs);
      backoffMs = Math.min(backoffMs * 2, this.cfg.reconnectMaxMs);
    }
  }

  /** Back-off or probe interval; only close() (or entering needs_rebuild) ends it early. */
  private async sleep(ms: number): Promise<void> {
    const sleep = cancellableSleep(ms);
    this.backoff = sleep;
    await sleep.done;
    this.backoff = undefined;
  }

  /**
   * Handshake, open the stream, pump until it ends. Resolves true if the stream got going. While
   * `probing` (needs_rebuild) the handshake alone decides: still unrecoverable → false, state kept.
   */
  private async session(probing: boolean): Promise<boolean> {
    if (!probing) this.setState("connecting");
    this.closeClient();
    this.client = this.deps.connect(this.target.address, this.target.serverId);
    const v = this.deps.volume;
    const epoch = this.cfg.epoch();
    if (epoch !== v.epoch)
      throw new Disconnect(`epoch_mismatch: assigned epoch ${epoch}, volume epoch ${v.epoch}`);
    assert(this.client !== undefined, "handshake without a client");
    const replica = await handshake(
      this.client,
      this.identity,
      { epoch, headLsn: v.headLsn, tailLsn: v.tailLsn },
      this.cfg.handshakeTimeoutMs,
      (call) => {
        this.handshakeCall = call;
      },
    );
    if (this.closed) return false;
    const verdict = classifyHandshake({ epoch, headLsn: v.headLsn, tailLsn: v.tailLsn }, replica);
    // The replica's own word on what it has fsynced now: knowledge from an earlier connection
    // must not outlive a replica that lost its data (only lowered here; barriers raise it).
    if (verdict.kind !== "retry") this.barriers.lowerDurable(replica.durableLsn);
    if (verdict.kind === "retry") throw new Disconnect(verdict.reason);
    if (verdict.kind === "needs_rebuild") {
      if (probing) return false;
      throw new NeedsRebuild(verdict.reason);
    }
    const rebuiltFacts = this.factsAtNeedsRebuild;
    this.lastReplicaFacts = replica;
    if (probing) {
      // Divergent history passes the handshake: only a changed replica (rebuilt) is worth a stream.
      if (rebuiltFacts !== undefined && sameFacts(rebuiltFacts, replica)) return false;
      this.factsAtNeedsRebuild = undefined;
      this.lastError = undefined;
      this.setState("connecting"); // out of needs_rebuild: the agent may start a catch-up session
      if (!this.gateAllows(verdict.cursor)) {
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
    const client = this.client;
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
      this.sendDueBarriers(call);
      if (this.needDrain) {
        await this.signal.wait();
        continue;
      }
      if (this.cursor > v.headLsn) {
        this.setState("in_sync");
        this.setGate(undefined);
        this.maybeBackgroundBarrier(call);
        await this.signal.wait(this.barriers.idleWaitMs(this.cursor - 1, this.cfg.idleBarrierMs, Date.now()));
        continue;
      }
      if (!this.gateAllows(this.cursor)) {
        // Barriers that need gated entries cannot succeed: fail them now rather than at timeout.
        this.barriers.failUnsent(this.cursor, `live_shipping_blocked: ${this.gateReason ?? ""}`);
        // What went out before the gate closed must still become durable: a catch-up session
        // stops at its frozen target and completes on this barrier's answer.
        const b = this.barriers.takeBackgroundBarrier(this.cursor - 1, true, cfg.idleBarrierMs, Date.now());
        if (b !== undefined) this.sendBarrier(call, b.id, b.lsn);
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
      if (batch.firstLsn !== this.cursor || !this.gateAllows(batch.firstLsn)) continue;
      // A catch-up session's gate ends at its frozen target: never send past it in one batch.
      const allowed = this.gateAllows(batch.lastLsn)
        ? batch
        : clipBatch(batch, v.blockSize, (lsn) => this.policyAllows(lsn));
      if (allowed === undefined) continue;
      this.send(call, allowed.bytes, allowed.firstLsn, allowed.lastLsn, allowed.count);
    }
    if (this.callDead) throw new Disconnect(this.lastError ?? "stream ended");
  }

  private send(call: ShipCall, bytes: Buffer, firstLsn: number, lastLsn: number, count: number): void {
    const ok = writeBatch(call, bytes, firstLsn, lastLsn, count);
    this.batchesSent++;
    this.window.add(lastLsn, bytes.length);
    this.bytesSinceBarrier += bytes.length;
    this.cursor = lastLsn + 1;
    if (!ok) this.needDrain = true;
    // Barriers covering what was just sent go right behind it.
    this.sendDueBarriers(call);
    this.maybeBackgroundBarrier(call);
  }

  private sendDueBarriers(call: ShipCall): void {
    const b = this.barriers.takeBarrierToSend(this.cursor - 1, Date.now());
    if (b !== undefined) this.sendBarrier(call, b.id, b.lsn);
  }

  private maybeBackgroundBarrier(call: ShipCall): void {
    const { backgroundBarrierBytes, idleBarrierMs } = this.cfg;
    const t = this.barriers.takeBackgroundBarrier(
      this.cursor - 1,
      this.bytesSinceBarrier >= backgroundBarrierBytes,
      idleBarrierMs,
      Date.now(),
    );
    if (t !== undefined) this.sendBarrier(call, t.id, t.lsn);
  }

  private sendBarrier(call: ShipCall, id: number, lsn: number): void {
    this.bytesSinceBarrier = 0;
    writeBarrier(call, id, lsn);
  }

  private onResponse(msg: ShipResponse__Output): void {
    try {
      const r = parseShipResponse(msg);
      if (r.kind === "ack") {
        this.onAck(r.receivedLsn);
      } else if (r.kind === "barrier") {
        // Durable implies received: the answer also frees in-flight room.
        this.onAck(r.durableLsn);
        const advanced = this.barriers.onResponse(r.id, r.durableLsn, r.ok, r.reason);
        if (advanced && !this.pinAt(this.barriers.durableLsn + 1)) {
          this.enterNeedsRebuild("wal_recycled: the replica's pin was recycled", false);
        }
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

  /** The policy's answer without touching the shipper's gate state. */
  private policyAllows(lsn: number): boolean {
    return gateDenial(this.deps.policy(), this.target.replicaId, lsn) === undefined;
  }

  private gateAllows(lsn: number): boolean {
    const denial = gateDenial(this.deps.policy(), this.target.replicaId, lsn);
    this.setGate(denial);
    return denial === undefined;
  }

  private setGate(reason: string | undefined): void {
    if (reason === this.gateReason) return;
    this.gateReason = reason;
    this.deps.emitState(this.status());
  }

  /** Moves the WAL pin forward to `lsn` (never backward); false when `lsn` is already recycled. */
  private pinAt(lsn: number): boolean {
    if (this.closed || this.state === "needs_rebuild") return true;
    const r = pinForward(this.deps.volume, this.target.replicaId, lsn);
    if (r === "recycled") return false;
    if (r !== undefined) this.lastError = r;
    return true;
  }

  private closeClient(): void {
    const c = this.client;
    this.client = undefined;
    c?.close();
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
    this.factsAtNeedsRebuild = /^(log_mismatch|record_epoch)/.test(reason)
      ? this.lastReplicaFacts
      : undefined;
    if (unpin) this.deps.volume.unpinWal(this.target.replicaId);
    this.setState("needs_rebuild");
    this.dropCall(`needs_rebuild: ${reason}`);
    this.backoff?.cancel();
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
    this.deps.emitState(this.status());
  }
}
