import { Metadata } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { CliError, classify, RpcFailure, toCliError, usageError } from "../src/errors";
import { EXIT_CODE_HELP, ExitCode } from "../src/exit-codes";
import { ArgumentError } from "../src/sizes";

const ctx = { addr: "10.0.0.5:7100", volumeId: "vol-1", timeoutMs: 5000 };

/** A grpc-js ServiceError as a client sees it: code, details "reason: detail", reason trailer. */
function serviceError(code: number, reason: string | undefined, detail: string) {
  const metadata = new Metadata();
  if (reason !== undefined) metadata.set("reason", reason);
  const details = reason === undefined ? detail : `${reason}: ${detail}`;
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata });
}

describe("exit codes", () => {
  it("are fixed", () => {
    expect(ExitCode).toEqual({
      OK: 0,
      USAGE: 1,
      UNREACHABLE: 2,
      REJECTED: 3,
      NOT_FOUND: 4,
      MISMATCH: 5,
      DURABILITY: 6,
      INTERNAL: 7,
      TIMEOUT: 8,
    });
    for (const value of Object.values(ExitCode))
      expect(EXIT_CODE_HELP).toMatch(new RegExp(`^  ${value}  `, "m"));
  });
});

describe("error mapping", () => {
  it.each([
    [14, undefined, "No connection established", ExitCode.UNREACHABLE, "unreachable"],
    [4, undefined, "Deadline exceeded", ExitCode.UNREACHABLE, "deadline_exceeded"],
    [14, "shutting_down", "draining", ExitCode.UNREACHABLE, "shutting_down"],
    [3, "invalid_argument", "size_bytes: not a multiple", ExitCode.USAGE, "invalid_argument"],
    [11, "out_of_range", "lba 99 beyond 16 blocks", ExitCode.USAGE, "out_of_range"],
    [5, "volume_not_found", 'no volume "vol-1"', ExitCode.NOT_FOUND, "volume_not_found"],
    [5, "replica_not_found", "vol-1/srv-x", ExitCode.NOT_FOUND, "replica_not_found"],
    [9, "not_primary", "role REPLICA", ExitCode.REJECTED, "not_primary"],
    [9, "epoch_stale", "volume epoch 2, expected 1", ExitCode.REJECTED, "epoch_stale"],
    [9, "lease_expired", "lease lapsed", ExitCode.REJECTED, "lease_expired"],
    [9, "epoch_regression", "1 < 2", ExitCode.REJECTED, "epoch_regression"],
    [9, "invalid_role_transition", "NONE → STALE", ExitCode.REJECTED, "invalid_role_transition"],
    [6, "volume_exists", "size differs", ExitCode.REJECTED, "volume_exists"],
    [8, "wal_full", "admission deadline", ExitCode.REJECTED, "wal_full"],
    [12, "unimplemented", "rebuild", ExitCode.REJECTED, "unimplemented"],
    [
      14,
      "durability_barrier_failed",
      "srv-b did not confirm",
      ExitCode.DURABILITY,
      "durability_barrier_failed",
    ],
    [14, "durability_quorum_lost", "1 of 3", ExitCode.DURABILITY, "durability_quorum_lost"],
    [13, "internal", "EIO", ExitCode.INTERNAL, "internal"],
    [2, undefined, "boom", ExitCode.INTERNAL, "unknown"],
  ])("code %i reason %s → exit %i", (code, reason, detail, exitCode, cliReason) => {
    const err = toCliError(serviceError(code, reason, detail), ctx);
    expect(err.exitCode).toBe(exitCode);
    expect(err.reason).toBe(cliReason);
    expect(err.message).not.toBe("");
    const json = err.toJson();
    expect(json).toEqual({
      exit_code: exitCode,
      code: expect.any(String),
      reason: cliReason,
      message: err.message,
      hint: err.hint,
    });
  });

  it("says what to do", () => {
    const unreachable = toCliError(
      serviceError(14, undefined, "No connection established. Resolution note: x"),
      ctx,
    );
    expect(unreachable.message).toBe("cannot reach agent at 10.0.0.5:7100: No connection established");
    expect(unreachable.hint).toMatch(/is it running\?.*--addr.*BLOCKSHIP_ADDR/);
    const notPrimary = toCliError(serviceError(9, "not_primary", "x"), { ...ctx, currentRole: "REPLICA" });
    expect(notPrimary.message).toBe("volume vol-1 is not PRIMARY on 10.0.0.5:7100 (it is REPLICA there)");
    expect(notPrimary.hint).toMatch(/send writes to the primary \(blockctl status shows roles\)/);
    const stale = toCliError(serviceError(9, "epoch_stale", "expected 1"), { ...ctx, currentEpoch: "7" });
    expect(stale.message).toMatch(/now epoch 7/);
    expect(stale.hint).toMatch(/master moved the volume/);
    expect(toCliError(serviceError(9, "lease_expired", "x"), ctx).hint).toMatch(
      /blockctl renew VOLUME --epoch N --ttl-ms/,
    );
    expect(toCliError(serviceError(14, "durability_barrier_failed", "x"), ctx).hint).toMatch(/not durable/);
    const byAssignment = toCliError(serviceError(9, "rebuild_by_assignment", "assign REBUILDING"), ctx);
    expect(byAssignment.exitCode).toBe(ExitCode.REJECTED);
    expect(byAssignment.hint).toMatch(
      /blockctl --addr REPLICA_AGENT rebuild VOLUME --epoch N --primary-id ID --primary-address 10\.0\.0\.5:7100/,
    );
  });

  it("reads the reason from the details when the trailer is missing, and maps item failures the same way", () => {
    const bare = Object.assign(new Error("x"), { code: 9, details: "not_primary: role NONE" });
    expect(toCliError(bare, ctx).reason).toBe("not_primary");
    const item = RpcFailure.ofItem({ code: 9, reason: "epoch_regression", message: "epoch 1 < 3" });
    expect(toCliError(item, ctx)).toMatchObject({
      exitCode: ExitCode.REJECTED,
      reason: "epoch_regression",
      code: "FAILED_PRECONDITION",
    });
    expect(classify(5, "volume_not_found", "", ctx).exitCode).toBe(ExitCode.NOT_FOUND);
  });

  it("keeps CliErrors, turns argument errors into usage errors and anything else into internal", () => {
    const usage = usageError("bad");
    expect(toCliError(usage, ctx)).toBe(usage);
    expect(toCliError(new ArgumentError("--size: x"), ctx)).toMatchObject({
      exitCode: ExitCode.USAGE,
      reason: "usage",
    });
    const local = toCliError(new Error("EACCES"), ctx);
    expect(local).toBeInstanceOf(CliError);
    expect(local).toMatchObject({ exitCode: ExitCode.INTERNAL, code: "LOCAL", message: "EACCES" });
  });
});
