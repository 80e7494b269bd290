import type { BlockDevice } from "./device";
import { type StorageError, wrapIoError } from "./errors";
import type { VolumeState } from "./state";
import { encodeSuperblock, type Superblock, superblockCopyOffset } from "./superblock";

/**
 * Serialized superblock persistence: write the next generation to the copy that does not hold the
 * current one, then fdatasync. The in-memory superblock changes only after the sync succeeded; a
 * failure is an error for the caller (never ignored) and fails the volume.
 */
export class SuperblockWriter {
  private chain: Promise<unknown> = Promise.resolve();
  writes = 0;

  constructor(
    private readonly state: VolumeState,
    private readonly device: BlockDevice,
    private readonly onFailure: (err: StorageError) => void,
    private readonly onSynced: (coveredLsn: number) => void,
  ) {}

  persist(update: Partial<Superblock>): Promise<Superblock> {
    const run = async (): Promise<Superblock> => {
      // The history rides along: every generation of a record at or below the tail this write may
      // set is in it (generations of records after the tail are derived again from the WAL).
      const next: Superblock = {
        ...this.state.sb,
        generations: this.state.history.snapshot(),
        resync: this.state.resync,
        ...update,
        seq: this.state.sb.seq + 1,
      };
      let covered: number;
      try {
        await this.device.writev([encodeSuperblock(next)], superblockCopyOffset(next.seq));
        covered = this.state.appendedLsn;
        await this.device.sync();
      } catch (err) {
        const e = wrapIoError(err, "superblock write");
        this.onFailure(e);
        throw e;
      }
      this.writes++;
      this.state.sb = next;
      this.onSynced(covered);
      return next;
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }
}
