// The engine's RetentionPort over a storage Volume: retained-history facts and WAL pins.
import type { PinResult, ResourcePin, RetainedHistory, RetentionPort } from "@blockship/engine";
import type { Volume } from "@blockship/storage";

export class StorageRetention implements RetentionPort {
  private nextPinId = 1;

  constructor(
    private readonly volume: Volume,
    private readonly committedLsn: () => number,
  ) {}

  retainedHistory(): RetainedHistory {
    const v = this.volume;
    return {
      headLsn: BigInt(v.headLsn),
      tailLsn: BigInt(v.tailLsn),
      committedLsn: BigInt(Math.min(this.committedLsn(), v.headLsn)),
      checkpointLsn: BigInt(v.checkpointLsn),
      checkpointTrusted: true,
    };
  }

  /** Keeps every entry with LSN > fromLsn (storage pins are inclusive: fromLsn + 1). */
  pinWal(replicaId: string, fromLsn: bigint): PinResult {
    const pinId = this.nextPinId++;
    try {
      this.volume.pinWal(this.owner(replicaId, pinId), Number(fromLsn) + 1);
      return { ok: true, pin: { kind: "wal", replicaId, lsn: fromLsn, pinId } };
    } catch (err) {
      return { ok: false, reason: err instanceof Error ? err.message : String(err) };
    }
  }

  pinSnapshot(_replicaId: string, _lsn: bigint): PinResult {
    return { ok: false, reason: "rebuild_not_implemented" };
  }

  pinFullBase(_replicaId: string, _lsn: bigint): PinResult {
    return { ok: false, reason: "rebuild_not_implemented" };
  }

  release(pin: ResourcePin): void {
    if (pin.kind === "wal") this.volume.unpinWal(this.owner(pin.replicaId, pin.pinId));
  }

  private owner(replicaId: string, pinId: number): string {
    return `engine:${replicaId}:${pinId}`;
  }
}
