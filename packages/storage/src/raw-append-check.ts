import { StorageError } from "./errors";
import { RecordType, type RecordView } from "./record";
import type { VolumeState } from "./state";

/**
 * Checks a replica append (records shipped by the primary) against the log position it would land
 * on: `nextLsn`/`prevCrc` are the batch-local head, not the volume's, because earlier requests of the
 * same batch already advanced it. Records below `nextLsn` are duplicates and are not checked. Returns
 * the error to reject the request with, or undefined when the fresh records may be appended.
 */
export function checkRawAppend(
  state: VolumeState,
  records: RecordView[],
  nextLsn: number,
  prevCrc: number | undefined,
): StorageError | undefined {
  const fresh = records.filter((r) => r.lsn >= nextLsn);
  if (fresh.length > 0 && fresh[0]!.lsn !== nextLsn) {
    return new StorageError("lsn_gap", `record LSN ${fresh[0]!.lsn} does not follow head ${nextLsn - 1}`);
  }
  if (fresh.length > 0 && prevCrc === undefined) {
    // Only a copy installed by an older version lacks the anchor: never assume the records fit.
    return new StorageError(
      "log_mismatch",
      `record LSN ${fresh[0]!.lsn}: this copy does not know the CRC of LSN ${nextLsn - 1} to check the chain against; rebuild it`,
    );
  }
  if (fresh.length > 0 && fresh[0]!.prevCrc !== prevCrc) {
    return new StorageError(
      "log_mismatch",
      `record LSN ${fresh[0]!.lsn} does not continue this log (CRC chain)`,
    );
  }
  // Records may carry older epochs (history written before a failover, shipped by the new
  // primary); never a newer epoch than this copy's, and never decreasing along the log. Across
  // batches the CRC chain already proves the records continue this copy's log.
  let previousEpoch = 0;
  for (const r of fresh) {
    if (r.epoch > state.epoch || r.epoch < previousEpoch) {
      return new StorageError(
        "epoch_mismatch",
        `record LSN ${r.lsn} has epoch ${r.epoch} (volume epoch ${state.epoch}, previous record ${previousEpoch})`,
      );
    }
    previousEpoch = r.epoch;
    if (r.type === RecordType.WRITE || r.type === RecordType.TRIM) {
      if (r.lba + r.blockCount > state.volumeBlocks) {
        return new StorageError("out_of_range", `record LSN ${r.lsn} addresses blocks past the volume end`);
      }
    }
  }
  return undefined;
}
