import type { BlockDevice } from "./device";
import { StorageError } from "./errors";
import { RecordType } from "./record";
import type { VolumeState } from "./state";
import { scanWal } from "./wal-scan";

export interface RecoveryReport {
  /** Records after the checkpoint put back into the dirty map. */
  replayed: number;
  /** Records between tail and checkpoint (already in the extent, kept for shipping). */
  retained: number;
  /** Why the scan stopped (first torn/corrupt/stale record), if it did not end cleanly. */
  stopReason: string | undefined;
}

/**
 * Rebuilds the in-memory WAL state from the superblock and the WAL: walk records from the tail in
 * LSN order (CRC, LSN = previous + 1, CRC chain, epoch <= persisted epoch, in-range LBAs) and stop
 * at the first record that fails. The head becomes the byte end of the last valid record, so the
 * next append lands after every recovered record. Reads only: running it twice gives the same state.
 */
export async function recoverState(device: BlockDevice, s: VolumeState): Promise<RecoveryReport> {
  const sb = s.sb;
  s.dirty.clear();
  s.index.reset(sb.walTailLsn + 1);
  s.history.reset(sb.generations, sb.walTailLsn, sb.walTailCrc, sb.walTailEpoch);
  let flushedOffset = sb.checkpointLsn === sb.walTailLsn ? sb.walTailOffset : -1;
  let replayed = 0;
  let retained = 0;
  const res = await scanWal(device, s.geo, {
    startOffset: sb.walTailOffset,
    expectLsn: sb.walTailLsn + 1,
    maxEpoch: sb.epoch,
    prevCrc: sb.walTailCrc,
    onRecord: (rec) => {
      s.index.push(rec.lsn, rec.logicalOffset, rec.crc, rec.epoch, rec.lba, rec.blockCount);
      s.history.observe(rec.lsn, rec.epoch, rec.crc);
      if (rec.lsn > sb.checkpointLsn) {
        replayed++;
        if (rec.type === RecordType.TRIM)
          s.dirty.putTrim(rec.lba, rec.blockCount, rec.lsn, rec.logicalOffset);
        else {
          for (let i = 0; i < rec.blockCount; i++) {
            s.dirty.put(rec.lba + i, { lsn: rec.lsn, recordOffset: rec.logicalOffset, blockInRecord: i });
          }
        }
      } else {
        retained++;
        if (rec.lsn === sb.checkpointLsn) flushedOffset = rec.logicalOffset + rec.recordBytes;
      }
      return undefined;
    },
  });
  if (res.lastLsn < sb.checkpointLsn || flushedOffset < 0) {
    throw new StorageError(
      "corrupt",
      `WAL ends at LSN ${res.lastLsn} but the checkpoint is ${sb.checkpointLsn} (${res.stopReason ?? "no reason"})`,
    );
  }
  s.epoch = sb.epoch;
  s.tailOffset = sb.walTailOffset;
  s.tailLsn = sb.walTailLsn;
  s.checkpointLsn = sb.checkpointLsn;
  s.extentHighLsn = sb.extentHighLsn;
  s.flushedOffset = flushedOffset;
  s.appendedOffset = res.endOffset;
  s.reservedOffset = res.endOffset;
  s.appendedLsn = res.lastLsn;
  s.nextLsn = res.lastLsn + 1;
  s.lastCrc = res.lastCrc;
  s.durableLsn = Math.min(s.durableLsn, res.lastLsn);
  s.walGeneration++;
  return { replayed, retained, stopReason: res.stopReason };
}
