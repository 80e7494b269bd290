// The client-side history of one volume under a fault schedule, and the oracle that judges what a
// copy serves. Every write/trim the writers issue is an op (in issue order; ops on the same block
// never overlap in time); an op becomes acknowledged when its RPC answered OK, and covered once a
// flush issued after its acknowledgement succeeded. For each block the floor is the latest covered
// op: a copy the master could promote must serve the floor's content or that of a later op
// (acknowledged or not), never an older one; no copy may serve content that no op produced.
// A flush covers only the ops acknowledged at its own epoch: a write the old primary acknowledged
// but never flushed may be lost in a failover, and a flush on the new primary cannot vouch for it
// (the new primary may never have received it).
import type { BlockIdentity } from "./block-content";

export type OpKind = "write" | "trim";

export interface Op {
  /** 1-based; also the write id inside the blocks a write produced. */
  readonly id: number;
  readonly kind: OpKind;
  readonly lba: number;
  readonly blocks: number;
  acked: boolean;
  /** The epoch of the primary that acknowledged it (0 until acknowledged). */
  ackedEpoch: number;
  covered: boolean;
}

export interface FlushTicket {
  readonly ackedOps: readonly Op[];
}

export interface BlockVerdict {
  readonly ok: boolean;
  readonly detail: string;
}

export class History {
  private readonly ops: Op[] = [];

  get size(): number {
    return this.ops.length;
  }

  begin(kind: OpKind, lba: number, blocks: number): Op {
    const op: Op = {
      id: this.ops.length + 1,
      kind,
      lba,
      blocks,
      acked: false,
      ackedEpoch: 0,
      covered: false,
    };
    this.ops.push(op);
    return op;
  }

  /** Taken when a flush is sent at `epoch`: the ops acknowledged so far at that epoch are the ones it covers. */
  flushStarted(epoch: number): FlushTicket {
    return { ackedOps: this.ops.filter((op) => op.acked && !op.covered && op.ackedEpoch === epoch) };
  }

  flushAcknowledged(ticket: FlushTicket): void {
    for (const op of ticket.ackedOps) op.covered = true;
  }

  /** Every block any op touched (the blocks worth reading back), sorted. */
  touchedBlocks(limitBlocks: number): number[] {
    const seen = new Set<number>();
    for (const op of this.ops) {
      for (let b = op.lba; b < op.lba + op.blocks && b < limitBlocks; b++) seen.add(b);
    }
    return [...seen].sort((x, y) => x - y);
  }

  /**
   * Judges one block read from a copy. `promotable`: the copy is one the master could promote
   * next, so it must hold the floor (or later); otherwise only "some op wrote it" is checked.
   */
  judge(lba: number, found: BlockIdentity, promotable: boolean): BlockVerdict {
    if (found.kind === "garbage") return { ok: false, detail: `content no history wrote (${found.why})` };
    const onBlock = this.ops.filter((op) => lba >= op.lba && lba < op.lba + op.blocks);
    let floor = -1;
    onBlock.forEach((op, i) => {
      if (op.covered) floor = i;
    });
    const floorOp = floor >= 0 ? onBlock[floor] : undefined;
    const floorText = floorOp === undefined ? "nothing flushed" : `floor ${describe(floorOp)}`;
    if (found.kind === "write") {
      const at = onBlock.findIndex((op) => op.kind === "write" && op.id === found.writeId);
      if (at < 0)
        return { ok: false, detail: `content of write #${found.writeId}, which never wrote this block` };
      if (promotable && at < floor) {
        return { ok: false, detail: `older content: ${describe(onBlock[at] as Op)} but ${floorText}` };
      }
      return { ok: true, detail: `${describe(onBlock[at] as Op)}; ${floorText}` };
    }
    // Zeros: the initial state (before every op) or any trim.
    if (!promotable || floor < 0) return { ok: true, detail: `zeros; ${floorText}` };
    const zeroAfterFloor = onBlock.some((op, i) => i >= floor && op.kind === "trim");
    if (zeroAfterFloor) return { ok: true, detail: `zeros (trim); ${floorText}` };
    return { ok: false, detail: `zeros (lost data): ${floorText}` };
  }
}

function describe(op: Op): string {
  const state = op.covered ? "flushed" : op.acked ? "acked" : "unacked";
  return `${op.kind} #${op.id} [${op.lba}+${op.blocks}] ${state}`;
}
