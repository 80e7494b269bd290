import {
  deadlineIn,
  type HandshakeRequest,
  type HandshakeResponse__Output,
  type ReplicationClient,
  reasonOf,
  type ShipRequest,
  type ShipResponse__Output,
  shipBatchInPlace,
} from "@blockship/rpc";
import type { ClientDuplexStream, ClientUnaryCall } from "@grpc/grpc-js";
import type { LiveShippingPolicy } from "./api";
import { messageOf } from "./errors";
import type { PrimaryFacts, ReplicaFacts } from "./handshake";
import { generationsFromWire, numFromWire, numToWire, recordRefFromWire, resyncStateFromWire } from "./wire";

// The gRPC edge of a cursor shipper (shipper.ts): the handshake call, the Ship stream's events and
// messages, and the live-shipping gate. The shipper's loop owns every decision; this file only
// translates between it and the wire.

export type ShipCall = ClientDuplexStream<ShipRequest, ShipResponse__Output>;

/** Ends a connection attempt or stream with a reason (degraded, reconnect). */
export class Disconnect extends Error {}
/** The replica cannot be served by this shipper any more (sticky until reconfigured). */
export class NeedsRebuild extends Error {}

/** Who talks to whom on a stream (the identity every handshake and stream carries). */
export interface ShipIdentity {
  readonly volumeId: string;
  readonly primaryServerId: string;
  readonly replicaServerId: string;
}

/**
 * Handshake: tells the replica what the primary has and returns the replica's facts. `started`
 * receives the pending call (so close() can cancel it), then undefined once it answered.
 */
export async function handshake(
  client: ReplicationClient,
  id: ShipIdentity,
  primary: Omit<PrimaryFacts, "recordAt">,
  timeoutMs: number,
  started: (call: ClientUnaryCall | undefined) => void,
): Promise<ReplicaFacts> {
  const hs = await callHandshake(
    client,
    {
      volume_id: id.volumeId,
      epoch: numToWire(primary.epoch),
      primary_server_id: id.primaryServerId,
      replica_server_id: id.replicaServerId,
      primary_head_lsn: numToWire(primary.headLsn),
      primary_retained_start_lsn: numToWire(primary.tailLsn + 1),
    },
    timeoutMs,
    started,
  );
  return replicaFactsFromWire(hs);
}

/** The replica's handshake answer as facts; throws invalid_argument on malformed numbers. */
export function replicaFactsFromWire(hs: HandshakeResponse__Output): ReplicaFacts {
  return {
    epoch: numFromWire(hs.epoch, "epoch"),
    headLsn: numFromWire(hs.head_lsn, "head_lsn"),
    durableLsn: numFromWire(hs.durable_lsn, "durable_lsn"),
    headRecord: recordRefFromWire(hs.head_record, "head_record"),
    durableRecord: recordRefFromWire(hs.durable_record, "durable_record"),
    generations: generationsFromWire(hs.generations, "generations"),
    changeBaseLsn: numFromWire(hs.change_base_lsn, "change_base_lsn"),
    changeTracking: hs.change_tracking === true,
    resync: resyncStateFromWire(hs.resync, "resync"),
  };
}

function callHandshake(
  client: ReplicationClient,
  req: HandshakeRequest,
  timeoutMs: number,
  started: (call: ClientUnaryCall | undefined) => void,
): Promise<HandshakeResponse__Output> {
  return new Promise((resolve, reject) => {
    const call = client.Handshake(req, deadlineIn(timeoutMs), (err, res) => {
      started(undefined);
      if (err !== null || res === undefined) {
        const reason = reasonOf(err);
        reject(new Disconnect(`handshake failed${reason ? ` (${reason})` : ""}: ${messageOf(err)}`));
      } else resolve(res);
    });
    started(call);
  });
}

/** What the shipper hears from its stream; `current()` false means the stream was replaced. */
export interface ShipStreamEvents {
  current(): boolean;
  response(msg: ShipResponse__Output): void;
  /** The stream failed or ended (only while current and not already dead). */
  dead(why: string): void;
  /** The replica refused a batch as too large for its WAL (ship smaller ones). */
  batchRefused(): void;
  /** log_mismatch / record_epoch: no cursor position can fix the replica. */
  stickyNeedsRebuild(reason: string): void;
  drain(): void;
}

/** Opens the Ship stream and sends its identity message. */
export function openShipStream(
  client: ReplicationClient,
  id: ShipIdentity,
  epoch: number,
  ev: ShipStreamEvents,
): ShipCall {
  const call = client.Ship();
  call.on("data", (msg: ShipResponse__Output) => {
    if (ev.current()) ev.response(msg);
  });
  call.on("error", (err) => {
    // A replica refuses a batch its WAL cannot hold as invalid_argument: ship smaller batches
    // from now on (at least one record still goes per batch).
    if (ev.current() && reasonOf(err) === "invalid_argument") ev.batchRefused();
    const sticky = /(log_mismatch|record_epoch)/.exec(messageOf(err));
    if (ev.current() && reasonOf(err) === "needs_rebuild" && sticky !== null) {
      // Divergent history or records with impossible epochs: no cursor position can fix either; a
      // gap, by contrast, is re-found by the next handshake.
      ev.stickyNeedsRebuild(`${sticky[1]}: ${messageOf(err)}`);
      return;
    }
    ev.dead(`stream failed (${reasonOf(err) ?? "?"}): ${messageOf(err)}`);
  });
  call.on("end", () => ev.dead("stream ended by the replica"));
  call.on("close", () => ev.dead("stream closed"));
  call.on("drain", () => ev.drain());
  call.write({
    volume_id: id.volumeId,
    epoch: numToWire(epoch),
    primary_server_id: id.primaryServerId,
    replica_server_id: id.replicaServerId,
  });
  return call;
}

/** Cancels a stream we no longer want (its CANCELLED error is expected and swallowed). */
export function cancelShipStream(call: ShipCall): void {
  call.removeAllListeners("data");
  call.on("error", () => {});
  call.cancel();
}

/**
 * Writes one batch of raw WAL records; false when the stream wants a drain first. `bytes` must have
 * been read with SHIP_BATCH_HEADROOM_BYTES of headroom (readBatch does): the message header is
 * encoded there, in front of the records, instead of copying them into a new message.
 */
export function writeBatch(
  call: ShipCall,
  bytes: Buffer,
  firstLsn: number,
  lastLsn: number,
  count: number,
): boolean {
  return call.write(shipBatchInPlace(bytes, firstLsn, lastLsn, count));
}

/** Tiny; ordered behind the batches it covers by the stream itself. */
export function writeBarrier(call: ShipCall, id: number, lsn: number): void {
  call.write({ barrier: { barrier_id: numToWire(id), lsn: numToWire(lsn) } });
}

export type ShipReply =
  | { readonly kind: "ack"; readonly receivedLsn: number }
  | {
      readonly kind: "barrier";
      readonly id: number;
      readonly durableLsn: number;
      readonly ok: boolean;
      readonly reason: string;
    }
  | { readonly kind: "other" };

/** Decodes a response; throws on malformed numbers (the caller ends the stream). */
export function parseShipResponse(msg: ShipResponse__Output): ShipReply {
  if (msg.body === "ack" && msg.ack) {
    return { kind: "ack", receivedLsn: numFromWire(msg.ack.received_lsn, "received_lsn") };
  }
  if (msg.body === "barrier" && msg.barrier) {
    const r = msg.barrier;
    const ok = (r.status?.code ?? 0) === 0;
    return {
      kind: "barrier",
      id: numFromWire(r.barrier_id, "barrier_id"),
      durableLsn: numFromWire(r.durable_lsn, "durable_lsn"),
      ok,
      reason: ok ? "" : `${r.status?.reason || "barrier_failed"}: ${r.status?.message ?? ""}`,
    };
  }
  return { kind: "other" };
}

/** Asks the live-shipping policy; returns undefined when allowed, else the reason. Fails closed. */
export function gateDenial(
  policy: LiveShippingPolicy | null,
  replicaId: string,
  lsn: number,
): string | undefined {
  if (policy === null) return undefined;
  try {
    const d = policy(replicaId, lsn);
    if (d.allow === true) return undefined;
    return d.reason ?? `live_tail_not_allowed lsn=${lsn}`;
  } catch (err) {
    // A broken policy fails closed: the entries stay in the WAL.
    return `policy_error: ${messageOf(err)}`;
  }
}
