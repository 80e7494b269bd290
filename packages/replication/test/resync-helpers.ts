import {
  type HandshakeResponse__Output,
  type ReplicationClient,
  type ResyncRequest,
  type ResyncResponse__Output,
  unary,
} from "@blockship/rpc";
import type { Volume } from "@blockship/storage";
import type { ClientDuplexStream } from "@grpc/grpc-js";
import { findForkPoint } from "../src/fork-point";
import { type RunResyncOptions, runResync } from "../src/resync-source";
import { replicaFactsFromWire } from "../src/ship-stream";
import { PRIMARY_ID, type ReplicaNode, VOLUME_ID } from "./helpers";

/** The replica's facts as the primary's handshake gets them, and the fork point they give. */
export async function forkOf(
  client: ReplicationClient,
  primary: Volume,
  node: ReplicaNode,
): Promise<number | undefined> {
  const hs = await unary<HandshakeResponse__Output>((cb) =>
    client.Handshake(
      {
        volume_id: VOLUME_ID,
        epoch: String(primary.epoch),
        primary_server_id: PRIMARY_ID,
        replica_server_id: node.serverId,
      },
      cb,
    ),
  );
  const facts = replicaFactsFromWire(hs);
  return findForkPoint(
    { generations: primary.history(), headLsn: primary.headLsn, recordAt: (l) => primary.recordAt(l) },
    {
      generations: facts.generations ?? [],
      headLsn: facts.headLsn,
      headRecord: facts.headRecord,
      durableLsn: facts.durableLsn,
      durableRecord: facts.durableRecord,
    },
  );
}

export function resyncOptions(
  primary: Volume,
  client: ReplicationClient,
  node: ReplicaNode,
  forkLsn: number,
  over: Partial<RunResyncOptions> = {},
): RunResyncOptions {
  return {
    volume: primary,
    client,
    volumeId: VOLUME_ID,
    epoch: primary.epoch,
    primaryServerId: PRIMARY_ID,
    replicaServerId: node.serverId,
    replicaId: node.replicaId,
    forkLsn,
    signal: new AbortController().signal,
    pinGraceMs: 60_000,
    ...over,
  };
}

export function resync(
  primary: Volume,
  client: ReplicationClient,
  node: ReplicaNode,
  forkLsn: number,
  over: Partial<RunResyncOptions> = {},
): ReturnType<typeof runResync> {
  return runResync(resyncOptions(primary, client, node, forkLsn, over));
}

type Call = ClientDuplexStream<ResyncRequest, ResyncResponse__Output>;

/** A hand-driven Resync stream: collects responses and the final status. */
export class RawResync {
  readonly responses: ResyncResponse__Output[] = [];
  readonly ended: Promise<unknown>;
  private waiters: Array<() => void> = [];
  readonly call: Call;

  constructor(
    client: ReplicationClient,
    private readonly id: Partial<ResyncRequest> = {},
  ) {
    this.call = client.Resync() as Call;
    this.call.on("data", (m: ResyncResponse__Output) => {
      this.responses.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
    this.ended = new Promise((resolve) => {
      this.call.on("error", (err) => resolve(err));
      this.call.on("end", () => resolve(null));
    });
  }

  send(body: Partial<ResyncRequest>): this {
    this.call.write({
      volume_id: VOLUME_ID,
      epoch: "1",
      primary_server_id: PRIMARY_ID,
      replica_server_id: "srv-b",
      ...this.id,
      ...body,
    });
    return this;
  }

  /** The first response matching `pred`, waiting for "data" events (one deadline, no polling). */
  async next(
    pred: (m: ResyncResponse__Output) => boolean,
    timeoutMs = 10_000,
  ): Promise<ResyncResponse__Output> {
    const found = this.responses.find(pred);
    if (found) return found;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error("timed out waiting for a Resync response"));
      }, timeoutMs);
      const check = (): void => {
        const m = this.responses.find(pred);
        if (m === undefined) {
          this.waiters.push(check);
          return;
        }
        clearTimeout(timer);
        resolve(m);
      };
      this.waiters.push(check);
    });
  }
}
