import { describe, expect, it } from "vitest";
import {
  MAX_BATCH_ITEMS,
  parseReplicaId,
  RpcError,
  reasonOf,
  replicaIdOf,
  requireAddress,
  requireBytes,
  requireEnum,
  requireIntInRange,
  requireList,
  requireMessage,
  requireServerId,
  requireU64,
  requireVolumeId,
} from "../src/index";

function detailOfFailure(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RpcError);
    expect(reasonOf(err)).toBe("invalid_argument");
    return (err as RpcError).details;
  }
  throw new Error("expected invalid_argument");
}

describe("validation helpers", () => {
  it("check ids and name the field", () => {
    expect(requireVolumeId("vol-1.a_b")).toBe("vol-1.a_b");
    expect(detailOfFailure(() => requireVolumeId(""))).toBe("invalid_argument: volume_id: required");
    expect(detailOfFailure(() => requireVolumeId("a/b"))).toMatch(/^invalid_argument: volume_id: must be/);
    expect(detailOfFailure(() => requireVolumeId("x".repeat(129)))).toMatch(/volume_id: longer than 128/);
    expect(requireServerId("10.0.0.1:7000")).toBe("10.0.0.1:7000");
    expect(detailOfFailure(() => requireServerId("a b", "replicas[0].server_id"))).toMatch(
      /^invalid_argument: replicas\[0\]\.server_id: /,
    );
  });

  it("build and parse replica ids", () => {
    expect(parseReplicaId(replicaIdOf("vol1", "srv-a:7000"))).toEqual({
      volumeId: "vol1",
      serverId: "srv-a:7000",
    });
    expect(detailOfFailure(() => parseReplicaId("vol1"))).toMatch(
      /replica_id: must be <volume_id>\/<server_id>/,
    );
  });

  it("check addresses", () => {
    expect(requireAddress("127.0.0.1:7000")).toBe("127.0.0.1:7000");
    expect(requireAddress("[::1]:7000")).toBe("[::1]:7000");
    expect(requireAddress("replica-0.blockship:7000")).toBe("replica-0.blockship:7000");
    for (const bad of ["127.0.0.1", "host:0", "host:70000", ":7000"])
      detailOfFailure(() => requireAddress(bad));
  });

  it("check enums, leaving out UNSPECIFIED", () => {
    const modes = ["DURABILITY_MODE_BEST_EFFORT", "DURABILITY_MODE_SYNC_ALL"] as const;
    expect(requireEnum("DURABILITY_MODE_SYNC_ALL", modes, "durability_mode")).toBe(
      "DURABILITY_MODE_SYNC_ALL",
    );
    expect(
      detailOfFailure(() => requireEnum("DURABILITY_MODE_UNSPECIFIED", modes, "durability_mode")),
    ).toMatch(
      /durability_mode: must be one of DURABILITY_MODE_BEST_EFFORT, DURABILITY_MODE_SYNC_ALL, got DURABILITY_MODE_UNSPECIFIED/,
    );
    detailOfFailure(() => requireEnum(7, modes, "durability_mode"));
  });

  it("check numbers, u64 ranges, bytes, lists and messages", () => {
    expect(requireU64("5", "epoch", { min: 1n })).toBe(5n);
    expect(detailOfFailure(() => requireU64("0", "epoch", { min: 1n }))).toBe(
      "invalid_argument: epoch: required (must be >= 1)",
    );
    expect(detailOfFailure(() => requireU64("11", "lba", { max: 10n }))).toBe(
      "invalid_argument: lba: must be <= 10, got 11",
    );
    expect(requireIntInRange(30_000, "lease_ttl_ms", 1, 600_000)).toBe(30_000);
    detailOfFailure(() => requireIntInRange(0, "lease_ttl_ms", 1, 600_000));
    detailOfFailure(() => requireIntInRange(1.5, "lease_ttl_ms", 1, 600_000));
    const block = Buffer.alloc(8192);
    expect(requireBytes(block, "data", { maxBytes: 1 << 20, multipleOf: 4096 })).toBe(block);
    expect(
      detailOfFailure(() => requireBytes(Buffer.alloc(100), "data", { maxBytes: 1 << 20, multipleOf: 4096 })),
    ).toBe("invalid_argument: data: length 100 is not a multiple of 4096 bytes");
    detailOfFailure(() => requireBytes(Buffer.alloc(0), "data", { maxBytes: 10 }));
    detailOfFailure(() => requireBytes("abc", "data", { maxBytes: 10 }));
    expect(requireList(undefined, "assignments")).toEqual([]);
    detailOfFailure(() => requireList(new Array(MAX_BATCH_ITEMS + 1).fill(0), "assignments"));
    expect(detailOfFailure(() => requireMessage(null, "report"))).toBe("invalid_argument: report: required");
  });
});
