import { readFile } from "node:fs/promises";
import path from "node:path";
import { Metadata, status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import {
  codeOf,
  detailOf,
  grpcCodeOf,
  itemStatusOf,
  PROTO_ROOT,
  REASON_CODES,
  RpcError,
  reasonOf,
  toRpcError,
} from "../src/index";
import { DomainError } from "./fixtures";

describe("RpcError", () => {
  it("puts the reason first in details and in metadata, with the canonical code", () => {
    const err = new RpcError("epoch_regression", "epoch 3 < local 5");
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toBe("epoch_regression: epoch 3 < local 5");
    expect(err.message).toBe(err.details);
    expect(err.metadata.get("reason")).toEqual(["epoch_regression"]);
    expect(reasonOf(err)).toBe("epoch_regression");
    expect(detailOf(err)).toBe("epoch 3 < local 5");
  });

  it("rejects malformed reasons", () => {
    expect(() => new RpcError("Not A Reason", "x", { code: status.INTERNAL })).toThrow(TypeError);
  });

  it("covers every reason the design names", () => {
    const named = [
      "invalid_argument",
      "volume_not_found",
      "epoch_regression",
      "invalid_role_transition",
      "not_primary",
      "epoch_stale",
      "lease_expired",
      "epoch_mismatch",
      "needs_rebuild",
      "durability_barrier_failed",
      "durability_quorum_lost",
      "wal_full",
      "out_of_range",
    ];
    for (const reason of named) expect(Object.keys(REASON_CODES)).toContain(reason);
    expect(codeOf("not_primary")).toBe(status.FAILED_PRECONDITION);
    expect(codeOf("epoch_mismatch")).toBe(status.ABORTED);
    expect(codeOf("wal_full")).toBe(status.RESOURCE_EXHAUSTED);
  });

  it("matches the reason table documented in common.proto", async () => {
    const text = await readFile(path.join(PROTO_ROOT, "blockship/v1/common.proto"), "utf8");
    const rows = [...text.matchAll(/^\/\/ {3}([a-z_]+) +([A-Z_]+) +\S/gm)].map((m) => [m[1], m[2]]);
    const documented = Object.fromEntries(rows.filter(([reason]) => reason !== "reason"));
    const inCode = Object.fromEntries(
      Object.entries(REASON_CODES).map(([reason, code]) => [reason, status[code]]),
    );
    expect(documented).toEqual(inCode);
  });
});

describe("toRpcError", () => {
  it("maps a domain error's reason to its code and keeps the message as detail", () => {
    const err = toRpcError(new DomainError("lease_expired", "lease lapsed 20 ms ago"));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toBe("lease_expired: lease lapsed 20 ms ago");
  });

  it("does not double a reason prefix the domain message already has", () => {
    const err = toRpcError(new DomainError("wal_full", "wal_full: 0 bytes free"));
    expect(err.details).toBe("wal_full: 0 bytes free");
  });

  it("keeps an unknown but well-formed reason visible, as INTERNAL", () => {
    const err = toRpcError(new DomainError("flux_capacitor_low", "1.21 GW needed"));
    expect(err.code).toBe(status.INTERNAL);
    expect(err.reason).toBe("flux_capacitor_low");
  });

  it("turns anything else into internal", () => {
    expect(toRpcError(new Error("boom")).details).toBe("internal: boom");
    expect(toRpcError("weird").code).toBe(status.INTERNAL);
    const same = new RpcError("not_primary", "role replica");
    expect(toRpcError(same)).toBe(same);
  });

  it("yields per-item statuses for batch RPCs", () => {
    expect(itemStatusOf(new DomainError("volume_not_found", "no volume v1"))).toEqual({
      code: status.NOT_FOUND,
      reason: "volume_not_found",
      message: "no volume v1",
    });
  });
});

describe("reasonOf (client side)", () => {
  it("reads the metadata first, then the details prefix", () => {
    const metadata = new Metadata();
    metadata.set("reason", "epoch_stale");
    expect(reasonOf({ code: 9, details: "something else", metadata })).toBe("epoch_stale");
    expect(reasonOf({ code: 9, details: "not_primary: role replica", metadata: new Metadata() })).toBe(
      "not_primary",
    );
    expect(reasonOf({ code: 2, details: "Some Text: no reason" })).toBeUndefined();
    expect(reasonOf(null)).toBeUndefined();
    expect(grpcCodeOf({ code: 5 })).toBe(5);
    expect(grpcCodeOf({ code: "ENOENT" })).toBeUndefined();
  });
});
