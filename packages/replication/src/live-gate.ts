import type { LiveShippingPolicy } from "./api";
import { gateDenial } from "./ship-stream";

/**
 * The phase gate as one shipper sees it: the policy's current answer for an LSN, and the last
 * denial reason, which is part of the shipper's status (so a change is reported).
 */
export class LiveGate {
  private denial: string | undefined;

  constructor(
    private readonly policy: () => LiveShippingPolicy | null,
    private readonly replicaId: string,
    private readonly onReasonChange: () => void,
  ) {}

  /** Why the last check denied shipping; undefined while shipping is allowed. */
  get reason(): string | undefined {
    return this.denial;
  }

  /** Asks the policy whether `lsn` may be shipped and records the answer as the gate reason. */
  allows(lsn: number): boolean {
    const denial = gateDenial(this.policy(), this.replicaId, lsn);
    this.setReason(denial);
    return denial === undefined;
  }

  /** The policy's answer without touching the recorded gate reason. */
  peek(lsn: number): boolean {
    return gateDenial(this.policy(), this.replicaId, lsn) === undefined;
  }

  /** Nothing left to gate (the replica is in sync). */
  clear(): void {
    this.setReason(undefined);
  }

  private setReason(reason: string | undefined): void {
    if (reason === this.denial) return;
    this.denial = reason;
    this.onReasonChange();
  }
}
