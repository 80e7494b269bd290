import type { InstallResumePoint } from "@blockship/storage";
import type { PullState, RebuildTargetVolume } from "./rebuild-attempt";

/**
 * Resume points of one rebuild pull: where it may continue if this agent restarts (a connection
 * that breaks while the agent runs resumes from memory). Saved in the background, one at a time,
 * at most every `everyMs` while the image streams and once more when it is complete; storage syncs
 * the image bytes a point names before it records the point. A target without resume support
 * (test doubles) just never resumes.
 */
export class ResumePoints {
  private saving: Promise<void> | undefined;
  private lastSaveMs = Date.now();
  private lastSavedBytes = 0;

  constructor(
    private readonly volume: RebuildTargetVolume,
    /** The image source: a point saved for another source is not used. */
    private readonly sourceId: string,
    private readonly everyMs: number,
  ) {}

  /** After `beginInstall({resume: true})`: the saved point for this source and epoch, if any. */
  async usable(epoch: number): Promise<InstallResumePoint | undefined> {
    const p = await this.volume.installResumePoint?.();
    if (p === undefined || p.epoch !== epoch || p.sourceId !== this.sourceId || p.imageBytes === 0) return;
    this.lastSavedBytes = p.imageBytes;
    return p;
  }

  /** The stored image grew: saves a point if the last one is old enough. */
  stored(state: PullState, epoch: number): void {
    const save = this.volume.saveInstallResumePoint?.bind(this.volume);
    if (save === undefined || this.saving !== undefined || state.baseLsn === undefined) return;
    if (state.storedBytes <= this.lastSavedBytes) return;
    // The whole image is always worth a point: a restart during the tail then re-sends no chunk.
    const whole = state.storedBytes === this.volume.volumeSizeBytes;
    if (!whole && Date.now() - this.lastSaveMs < this.everyMs) return;
    const point = { epoch, baseLsn: state.baseLsn, imageBytes: state.storedBytes, sourceId: this.sourceId };
    this.lastSaveMs = Date.now();
    this.saving = save(point).then(
      () => {
        this.lastSavedBytes = point.imageBytes;
        this.saving = undefined;
        // The image was completed while this save ran: no chunk will call again.
        if (state.storedBytes === this.volume.volumeSizeBytes) this.stored(state, epoch);
      },
      // The previous point (or none) stays valid: its bytes were synced before it was written.
      () => {
        this.saving = undefined;
      },
    );
  }

  /** A fresh image starts: nothing of it is saved yet. */
  reset(): void {
    this.lastSavedBytes = 0;
  }

  /** Waits for the save in flight, if any. */
  async settle(): Promise<void> {
    while (this.saving !== undefined) await this.saving;
  }
}
