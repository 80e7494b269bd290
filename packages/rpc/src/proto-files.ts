import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Options } from "@grpc/proto-loader";

// The one place that knows where the .proto files live and how they are loaded. The
// runtime loader and the type generator must agree on every option below, or the
// generated types would lie about the objects handlers receive.

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

/** Repository root (packages/rpc/src → ../../..). */
export const REPO_ROOT = path.resolve(here, "..", "..", "..");

/**
 * Root of our own protos; import paths inside them are relative to it (`blockship/v1/...`).
 * `BLOCKSHIP_PROTO_ROOT` overrides it for deployments that do not keep the repo layout.
 */
export const PROTO_ROOT = process.env.BLOCKSHIP_PROTO_ROOT || path.join(REPO_ROOT, "proto");

/** Our protos, relative to PROTO_ROOT. One file per service plus common.proto. */
export const BLOCKSHIP_PROTO_FILES: readonly string[] = [
  "blockship/v1/common.proto",
  "blockship/v1/control.proto",
  "blockship/v1/volume.proto",
  "blockship/v1/replication.proto",
  "blockship/v1/rebuild.proto",
];

/** grpc-health-check ships `health/v1/health.proto` (package grpc.health.v1). */
export const HEALTH_PROTO_DIR = path.dirname(path.dirname(path.dirname(healthProtoPath())));
export const HEALTH_PROTO_FILE = "health/v1/health.proto";

/** @grpc/reflection ships the reflection protos; loading them lets `list` show the reflection services too. */
export const REFLECTION_PROTO_DIR = path.join(
  path.dirname(require.resolve("@grpc/reflection/package.json")),
  "build",
  "proto",
);
export const REFLECTION_PROTO_FILES: readonly string[] = [
  "grpc/reflection/v1/reflection.proto",
  "grpc/reflection/v1alpha/reflection.proto",
];

/** Fully-qualified names of the services we define. */
export const SERVICE_NAMES = {
  control: "blockship.v1.Control",
  volume: "blockship.v1.Volume",
  replication: "blockship.v1.Replication",
  rebuild: "blockship.v1.Rebuild",
} as const;

export const HEALTH_SERVICE_NAME = "grpc.health.v1.Health";
export const REFLECTION_SERVICE_NAMES: readonly string[] = [
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];

/**
 * proto-loader options shared by the runtime loader and `proto-loader-gen-types`:
 * field names as the proto spells them (snake_case), uint64 as decimal strings (never a
 * lossy JS number), enums as their names, defaults filled in, and a virtual field naming
 * the set member of a oneof. keepCase matters beyond style: reflection describes the
 * loaded (not the original) descriptors, so camelCase loading would make grpcurl/buf curl
 * show and accept `volumeId` only, never the documented `volume_id`.
 */
export const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
} as const satisfies Options;

/** The same options as `proto-loader-gen-types` flags. */
export const GEN_TYPES_FLAGS: readonly string[] = [
  "--keepCase",
  "--longs=String",
  "--enums=String",
  "--defaults",
  "--oneofs",
  "--includeComments",
  "--grpcLib=@grpc/grpc-js",
];

function healthProtoPath(): string {
  const mod: { protoPath: string } = require("grpc-health-check");
  return mod.protoPath;
}
