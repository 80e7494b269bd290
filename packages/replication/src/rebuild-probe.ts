import type { NeedsRebuildEvent } from "@blockship/storage";
import { type ReplicaFacts, sameFacts } from "./handshake";

/** Reasons for divergent history: such a replica passes a handshake exactly like a healthy one. */
const DIVERGENT_HISTORY = /^(log_mismatch|record_epoch)/;

/**
 * What a needs_rebuild probe compares against: the replica's facts when needs_rebuild began for
 * divergent history. Only a replica whose facts changed since (it was rebuilt) is worth a stream.
 */
export class RebuildProbe {
  private lastServableFacts: ReplicaFacts | undefined;
  private factsAtNeedsRebuild: ReplicaFacts | undefined;

  /** needs_rebuild began for `reason`. */
  entered(reason: string): void {
    this.factsAtNeedsRebuild = DIVERGENT_HISTORY.test(reason) ? this.lastServableFacts : undefined;
  }

  /** Records a handshake the primary could serve; true if it is the copy needs_rebuild began with. */
  recordHandshake(replica: ReplicaFacts): boolean {
    const before = this.factsAtNeedsRebuild;
    this.lastServableFacts = replica;
    return before !== undefined && sameFacts(before, replica);
  }

  /** The replica left needs_rebuild. */
  left(): void {
    this.factsAtNeedsRebuild = undefined;
  }
}

export function retentionReleasedReason(ev: NeedsRebuildEvent): string {
  return `retention_${ev.reason}: pin at LSN ${ev.pinnedLsn} held ${ev.heldBytes} bytes for ${ev.ageMs} ms`;
}
