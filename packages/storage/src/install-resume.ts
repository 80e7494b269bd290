import { StorageError, wrapIoError } from "./errors";
import type { StagingStore } from "./install";

/**
 * Where a restarted rebuild may continue an install: the staged image holds the base image of
 * `baseLsn` (pulled at `epoch` from `sourceId`) durably from offset 0 to `imageBytes`. Written only
 * after those image bytes were synced, and dropped with the staging content it describes, so a
 * record never promises bytes the staging file does not hold.
 */
export interface InstallResumePoint {
  readonly epoch: number;
  readonly baseLsn: number;
  readonly imageBytes: number;
  /** Who the image came from (opaque to storage; the puller compares it). */
  readonly sourceId: string;
}

const FORMAT = "blockship-install-resume/1";

export function encodeResumePoint(p: InstallResumePoint): string {
  return `${JSON.stringify({ format: FORMAT, ...p })}\n`;
}

/** True when `p` describes `imageBytes` whole blocks of an image of `imageSizeBytes`. */
function isResumePoint(p: Record<string, unknown>, imageSizeBytes: number, blockSize: number): boolean {
  const count = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
  const { epoch, baseLsn, imageBytes, sourceId } = p;
  return (
    count(epoch) &&
    count(baseLsn) &&
    count(imageBytes) &&
    imageBytes <= imageSizeBytes &&
    imageBytes % blockSize === 0 &&
    typeof sourceId === "string"
  );
}

/**
 * Parses a record written by encodeResumePoint for an image of `imageSizeBytes` in `blockSize`
 * blocks. Anything else (another format, a torn or foreign file, impossible values) is no record:
 * the install then starts from offset 0, which is always safe.
 */
export function decodeResumePoint(
  text: string | undefined,
  imageSizeBytes: number,
  blockSize: number,
): InstallResumePoint | undefined {
  if (text === undefined) return undefined;
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (v.format !== FORMAT || !isResumePoint(v, imageSizeBytes, blockSize)) return undefined;
  const { epoch, baseLsn, imageBytes, sourceId } = v as unknown as InstallResumePoint;
  return { epoch, baseLsn, imageBytes, sourceId };
}

export function checkResumePoint(p: InstallResumePoint, imageSizeBytes: number, blockSize: number): void {
  if (!isResumePoint({ ...p }, imageSizeBytes, blockSize))
    throw new StorageError("invalid_argument", `bad install resume point ${JSON.stringify(p)}`);
}

/**
 * Reads and saves the resume record of one staging store. A save first makes the image bytes durable
 * (`syncImage`), then replaces the record unless the install ended meanwhile (`stillOpen`); `settle`
 * lets the end of an install wait for a save in flight, so a record is never written after the
 * staging it describes was discarded or replaced.
 */
export class ResumeRecords {
  private saving: Promise<void> | undefined;

  constructor(
    private readonly staging: StagingStore,
    private readonly imageSizeBytes: number,
    private readonly blockSize: number,
  ) {}

  async read(): Promise<InstallResumePoint | undefined> {
    return decodeResumePoint(await this.staging.readResumeRecord(), this.imageSizeBytes, this.blockSize);
  }

  async save(p: InstallResumePoint, syncImage: () => Promise<void>, stillOpen: () => boolean): Promise<void> {
    checkResumePoint(p, this.imageSizeBytes, this.blockSize);
    const previous = this.saving;
    const save = (async (): Promise<void> => {
      await previous?.catch(() => undefined);
      try {
        await syncImage();
      } catch (err) {
        throw wrapIoError(err, "staging sync");
      }
      if (!stillOpen()) throw new StorageError("install_state", "the install ended meanwhile");
      await this.staging.writeResumeRecord(encodeResumePoint(p));
    })();
    this.saving = save;
    try {
      await save;
    } finally {
      if (this.saving === save) this.saving = undefined;
    }
  }

  /** Waits for a save in flight, if any (its outcome is its caller's). */
  async settle(): Promise<void> {
    await this.saving?.catch(() => undefined);
  }
}
