// The engine's RetentionPort over a storage Volume: retained-history facts and WAL pins. On a copy
// in role REBUILDING the engine plans the rebuild this copy pulls: the source is the primary, so the
// local history is irrelevant (nothing usable: full base) and the source's pins are held by the
// primary's Rebuild service, not here.
import type { PinResult, ResourcePin, RetainedHistory, RetentionPort } from "@blockship/engine";
import type { Volume } from "@blockship/storage";

export class StorageRetention implements RetentionPort {
  private nextPinId = 1;

  constructor(
    private readonly volume: Volume,
    private readonly pullingRebuild: () => boolean = () => false,
  ) {}

  retainedHistory(): RetainedHistory {
    if (this.pullingRebuild()) {
      return { headLsn: 0n, tailLsn: 0n, committedLsn: 0n, checkpointLsn: 0n, checkpointTrusted: false };
    }
    const v = this.volume;
    return {
      headLsn: BigInt(v.headLsn),
      tailLsn: BigInt(v.tailLsn),
      // A catch-up runs to the head: what a replica holds beyond the durable boundary came from
      // this same primary at this epoch (the cursor shipper sends the WAL in order), so it is not
      // "ahead" — only a copy beyond the head holds history this primary never wrote.
      committedLsn: BigInt(v.headLsn),
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

  /** Rebuilds are served by the Rebuild service, which pins the WAL itself while it streams. */
  pinSnapshot(replicaId: string, lsn: bigint): PinResult {
    return this.pullingRebuild()
      ? { ok: true, pin: { kind: "snapshot", replicaId, lsn, pinId: this.nextPinId++ } }
      : { ok: false, reason: "rebuild_is_pulled_by_the_copy" };
  }

  pinFullBase(replicaId: string, lsn: bigint): PinResult {
    return this.pullingRebuild()
      ? { ok: true, pin: { kind: "full_base", replicaId, lsn, pinId: this.nextPinId++ } }
      : { ok: false, reason: "rebuild_is_pulled_by_the_copy" };
  }

  release(pin: ResourcePin): void {
    if (pin.kind === "wal") this.volume.unpinWal(this.owner(pin.replicaId, pin.pinId));
  }

  private owner(replicaId: string, pinId: number): string {
    return `engine:${replicaId}:${pinId}`;
  }
}
