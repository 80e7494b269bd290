// Rebuild sub-state-machine, owned by a rebuild session.
//   init → source_select → transfer → (tail_replay, snapshot_tail only) → completed | aborted
import { type Lsn, ProtocolError, type RebuildPhase, type RebuildSource } from "./types";

export interface RebuildSnapshot {
  readonly source: RebuildSource | null;
  readonly phase: RebuildPhase;
  readonly snapshotLsn: Lsn;
  readonly tailStartLsn: Lsn;
  readonly tailTargetLsn: Lsn;
  readonly transferredTo: Lsn;
  readonly tailReplayedTo: Lsn;
}

function requirePhase(actual: RebuildPhase, expected: RebuildPhase, step: string): void {
  if (actual !== expected)
    throw new ProtocolError("invalid_phase", `${step} needs rebuild phase ${expected}, is ${actual}`);
}

export class RebuildState {
  private source: RebuildSource | null = null;
  private phase: RebuildPhase = "init";
  private snapshotLsn: Lsn = 0n;
  private tailStartLsn: Lsn = 0n;
  private tailTargetLsn: Lsn = 0n;
  private transferredTo: Lsn = 0n;
  private tailReplayedTo: Lsn = 0n;
  private completedAt: Lsn = 0n;

  get currentPhase(): RebuildPhase {
    return this.phase;
  }

  /** A trusted snapshot with LSN > 0 gives snapshot+tail; anything else falls back to a full base. */
  selectSource(snapshotLsn: Lsn, snapshotValid: boolean, committedLsn: Lsn): void {
    requirePhase(this.phase, "init", "select source");
    this.phase = "source_select";
    this.tailTargetLsn = committedLsn;
    if (snapshotValid && snapshotLsn > 0n) {
      this.source = "snapshot_tail";
      this.snapshotLsn = snapshotLsn;
      this.tailStartLsn = snapshotLsn;
    } else {
      this.source = "full_base";
    }
  }

  beginTransfer(): void {
    requirePhase(this.phase, "source_select", "begin transfer");
    this.phase = "transfer";
  }

  /** No upper bound: a full base may legitimately arrive at an LSN past the target (T16). */
  recordTransferProgress(lsn: Lsn): void {
    requirePhase(this.phase, "transfer", "transfer progress");
    if (lsn <= this.transferredTo) {
      throw new ProtocolError("progress_regression", `transfer ${lsn} <= ${this.transferredTo}`);
    }
    this.transferredTo = lsn;
  }

  beginTailReplay(): void {
    requirePhase(this.phase, "transfer", "begin tail replay");
    if (this.source !== "snapshot_tail")
      throw new ProtocolError("invalid_phase", "tail replay needs snapshot_tail");
    if (this.transferredTo < this.snapshotLsn) {
      throw new ProtocolError(
        "base_incomplete",
        `transferred ${this.transferredTo} < snapshot ${this.snapshotLsn}`,
      );
    }
    this.phase = "tail_replay";
  }

  recordTailProgress(lsn: Lsn): void {
    requirePhase(this.phase, "tail_replay", "tail progress");
    if (lsn <= this.tailReplayedTo) {
      throw new ProtocolError("progress_regression", `tail ${lsn} <= ${this.tailReplayedTo}`);
    }
    this.tailReplayedTo = lsn;
  }

  readyToComplete(): boolean {
    if (this.source === "snapshot_tail") {
      // A snapshot already at the target has an empty tail: the complete base is enough.
      const emptyTail =
        this.phase === "transfer" &&
        this.snapshotLsn >= this.tailTargetLsn &&
        this.transferredTo >= this.snapshotLsn;
      return emptyTail || (this.phase === "tail_replay" && this.tailReplayedTo >= this.tailTargetLsn);
    }
    return (
      this.source === "full_base" && this.phase === "transfer" && this.transferredTo >= this.tailTargetLsn
    );
  }

  /** The LSN the rebuilt copy reached (may exceed the target for a full base). */
  achievedLsn(): Lsn {
    if (this.phase === "completed") return this.completedAt;
    return this.source === "snapshot_tail" && this.phase === "tail_replay"
      ? this.tailReplayedTo
      : this.transferredTo;
  }

  /** Returns the achieved LSN. */
  complete(): Lsn {
    if (!this.readyToComplete()) throw new ProtocolError("rebuild_not_ready", `phase ${this.phase}`);
    this.completedAt = this.achievedLsn();
    this.phase = "completed";
    return this.completedAt;
  }

  abort(): void {
    if (this.phase !== "completed") this.phase = "aborted";
  }

  snapshot(): RebuildSnapshot {
    return {
      source: this.source,
      phase: this.phase,
      snapshotLsn: this.snapshotLsn,
      tailStartLsn: this.tailStartLsn,
      tailTargetLsn: this.tailTargetLsn,
      transferredTo: this.transferredTo,
      tailReplayedTo: this.tailReplayedTo,
    };
  }
}
