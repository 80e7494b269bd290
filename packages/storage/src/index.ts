export type { AdmissionConfig, RawAppendResult } from "./appender";
export type { BlockRange } from "./change-bitmap";
export { DEFAULT_MAX_TRACKING_BITS, defaultGrainBytes } from "./change-region";
export type { ChangedBlocks, ChangeTrackingStatus } from "./change-tracker";
export type { CreateOptions, VolumeTuning } from "./config";
export { DEFAULT_BLOCK_SIZE, DEFAULT_WAL_SIZE_BYTES, EXTENT_WRITE_CONCURRENCY } from "./config";
export { CRC32_IMPLEMENTATION, crc32 } from "./crc";
export { type BlockDevice, FileDevice } from "./device";
export { allocatedBytes, type DiscardBackend, discardBackend } from "./discard";
export { isStorageError, StorageError, type StorageErrorReason } from "./errors";
export { deviceBytesFor } from "./format";
export { type Generation, MAX_GENERATIONS } from "./history";
export { fileStaging, SimStaging, type StagingStore } from "./install";
export type { InstallResumePoint } from "./install-resume";
export { isSwapStaging, type SwapStaging, type SwapStagingHooks, swapStaging } from "./install-swap";
export { SimTailFile, type StagedTailSummary, type TailFile } from "./install-tail";
export {
  encodeRecord,
  type ParseResult,
  parseRecords,
  RECORD_HEADER_BYTES,
  type RecordHeader,
  RecordType,
  type RecordView,
  recordPayload,
} from "./record";
export type { RecordBatch } from "./record-reader";
export type { InstallBaseRecord, RecordRef } from "./record-ref";
export type { RecoveryReport } from "./recovery";
export type { ResyncCommit, ResyncState } from "./resync";
export { type Clock, type NeedsRebuildEvent, realClock } from "./retention";
export { type CrashChooser, type CrashFate, randomCrashChooser, SimDevice } from "./sim-device";
export { DURABILITY_MODES, type DurabilityMode, WAL_OFFSET_BYTES } from "./superblock";
export {
  MAX_TRIM_RECORD_BLOCKS,
  type OpenOptions,
  type PressureState,
  Volume,
  type VolumeEvents,
  type VolumeStats,
} from "./volume";
export { createVolumeFile, openVolumeFile } from "./volume-file";
export type { TrackedWrites, WriteTracker } from "./write-tracker";
