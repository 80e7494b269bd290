import {
  invalidArgument,
  RpcError,
  requireServerId,
  requireU64,
  requireVolumeId,
  type StreamBaseRequest__Output,
} from "@blockship/rpc";
import { MAX_RATE_BYTES_PER_SECOND } from "./token-bucket";

// Validation of a Rebuild.StreamBase request, in the order the proto documents: fields that need no
// volume first (invalid_argument), then, once the volume is known, what depends on its geometry.

/** Largest chunk a primary sends (and a puller may ask for). */
export const MAX_CHUNK_BYTES = 4 * 1024 * 1024;
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export interface StreamBaseFields {
  readonly volumeId: string;
  readonly epoch: number;
  readonly replicaServerId: string;
  readonly resumeOffsetBytes: number;
  /** 0 when not resuming (resume_offset_bytes = 0 makes the field irrelevant). */
  readonly resumeBaseLsn: number;
  /** 0 = the primary's default. */
  readonly rateLimitBytesPerSecond: number;
  /** 0 = DEFAULT_CHUNK_BYTES. */
  readonly chunkSizeBytes: number;
}

/** Field checks that need no volume. Throws `invalid_argument` naming the field. */
export function parseStreamBaseRequest(req: StreamBaseRequest__Output): StreamBaseFields {
  const volumeId = requireVolumeId(req.volume_id);
  const replicaServerId = requireServerId(req.replica_server_id, "replica_server_id");
  const epoch = safe(requireU64(req.epoch, "epoch", { min: 1n, max: MAX_SAFE }));
  const resumeOffsetBytes = safe(
    requireU64(req.resume_offset_bytes, "resume_offset_bytes", { max: MAX_SAFE }),
  );
  const base = safe(requireU64(req.resume_base_lsn, "resume_base_lsn", { max: MAX_SAFE }));
  const rate = safe(
    requireU64(req.rate_limit_bytes_per_second, "rate_limit_bytes_per_second", {
      max: BigInt(MAX_RATE_BYTES_PER_SECOND),
    }),
  );
  const chunk = req.chunk_size_bytes ?? 0;
  if (!Number.isInteger(chunk) || chunk < 0 || chunk > MAX_CHUNK_BYTES) {
    throw invalidArgument(
      "chunk_size_bytes",
      `must be 0 or a block multiple up to ${MAX_CHUNK_BYTES}, got ${chunk}`,
    );
  }
  return {
    volumeId,
    epoch,
    replicaServerId,
    resumeOffsetBytes,
    resumeBaseLsn: resumeOffsetBytes === 0 ? 0 : base,
    rateLimitBytesPerSecond: rate,
    chunkSizeBytes: chunk,
  };
}

/** Checks against the volume's geometry; returns the chunk size to use. */
export function checkGeometry(f: StreamBaseFields, volumeSizeBytes: number, blockSize: number): number {
  const chunk = f.chunkSizeBytes === 0 ? DEFAULT_CHUNK_BYTES : f.chunkSizeBytes;
  if (chunk % blockSize !== 0) {
    throw invalidArgument("chunk_size_bytes", `${chunk} is not a multiple of the block size ${blockSize}`);
  }
  if (f.resumeOffsetBytes % blockSize !== 0) {
    throw invalidArgument(
      "resume_offset_bytes",
      `${f.resumeOffsetBytes} is not a multiple of the block size ${blockSize}`,
    );
  }
  if (f.resumeOffsetBytes > volumeSizeBytes) {
    throw new RpcError(
      "out_of_range",
      `resume_offset_bytes ${f.resumeOffsetBytes} is beyond the volume size ${volumeSizeBytes}`,
    );
  }
  return chunk;
}

/** The effective rate: min(request or agent default, agent max); 0 or undefined mean "no limit". */
export function effectiveRate(requested: number, agentDefault = 0, agentMax = 0): number {
  const wanted = requested > 0 ? requested : agentDefault;
  if (agentMax > 0 && (wanted === 0 || wanted > agentMax)) return agentMax;
  return wanted;
}

function safe(v: bigint): number {
  return Number(v);
}
