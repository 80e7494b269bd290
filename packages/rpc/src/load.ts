import { loadPackageDefinition } from "@grpc/grpc-js";
import { loadSync, type PackageDefinition } from "@grpc/proto-loader";
import type { ProtoGrpcType as ControlProto } from "./generated/control";
import type { ProtoGrpcType as HealthProto } from "./generated/health";
import type { ProtoGrpcType as RebuildProto } from "./generated/rebuild";
import type { ProtoGrpcType as ReplicationProto } from "./generated/replication";
import type { ProtoGrpcType as VolumeProto } from "./generated/volume";
import {
  BLOCKSHIP_PROTO_FILES,
  HEALTH_PROTO_DIR,
  HEALTH_PROTO_FILE,
  LOADER_OPTIONS,
  PROTO_ROOT,
  REFLECTION_PROTO_DIR,
  REFLECTION_PROTO_FILES,
} from "./proto-files";

/** The loaded grpc object tree of every proto we serve. */
export type BlockshipGrpc = {
  blockship: {
    v1: ControlProto["blockship"]["v1"] &
      VolumeProto["blockship"]["v1"] &
      ReplicationProto["blockship"]["v1"] &
      RebuildProto["blockship"]["v1"];
  };
  grpc: HealthProto["grpc"];
};

export interface LoadedProtos {
  /**
   * One package definition holding our services, grpc.health.v1 and the reflection
   * services, so reflection built from it lists (and describes) every served service.
   */
  packageDefinition: PackageDefinition;
  grpc: BlockshipGrpc;
}

let cached: LoadedProtos | undefined;

/** Loads the protos once per process (loading parses every file; it takes tens of ms). */
export function loadProtos(): LoadedProtos {
  if (cached === undefined) {
    const packageDefinition = loadSync(
      [...BLOCKSHIP_PROTO_FILES, HEALTH_PROTO_FILE, ...REFLECTION_PROTO_FILES],
      { ...LOADER_OPTIONS, includeDirs: [PROTO_ROOT, HEALTH_PROTO_DIR, REFLECTION_PROTO_DIR] },
    );
    const grpc = loadPackageDefinition(packageDefinition) as unknown as BlockshipGrpc;
    cached = { packageDefinition, grpc };
  }
  return cached;
}
