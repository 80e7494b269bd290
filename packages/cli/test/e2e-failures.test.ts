// blockctl end to end, the failures: every exit code a caller can act on and the message that
// says what to do, from the real binary against its own primary and replica agent on loopback.
// Independent of the other e2e files: it sets up the volumes it needs itself.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentPair,
  at,
  expectExit,
  type JsonError,
  MiB,
  REBUILT,
  rebuildFrom,
  setUpReplicatedVolume,
  startPair,
  VOLUME,
} from "./e2e-fixture";
import { AgentApi, type AgentProcess, blockctl, type CliRun, jsonOf } from "./helpers";

let pair: AgentPair;
let primary: AgentProcess;
let replica: AgentProcess;

beforeAll(async () => {
  pair = await startPair("e2e-failures");
  ({ primary, replica } = pair);
  const onReplica = new AgentApi(replica.address);
  try {
    // The rebuild failures need a volume on the copy to assign ROLE_REBUILDING to.
    await Promise.all([setUpReplicatedVolume(pair), onReplica.allocate(REBUILT, 4 * MiB, 8 * MiB)]);
  } finally {
    onReplica.close();
  }
});

afterAll(async () => {
  await pair?.stop();
});

describe("failures: exit codes and messages", () => {
  // Every failing invocation runs at once (each is a process start); the tests below read the results.
  let runs: Record<string, CliRun>;
  const result = (name: string): CliRun => {
    const run = runs[name];
    if (run === undefined) throw new Error(`no run named ${name}`);
    return run;
  };
  beforeAll(async () => {
    const other = join(pair.workDir, "other.bin");
    writeFileSync(other, Buffer.alloc(4096, 0xab));
    const writeX = ["write", VOLUME, "--lba", "0", "--pattern", "x", "--count", "1"];
    const cases: Record<string, string[]> = {
      unreachable: ["--addr", "127.0.0.1:1", "status"],
      unreachableJson: ["--json", "--addr", "127.0.0.1:1", "flush", VOLUME],
      unknownStatus: [...at(primary), "status", "nope"],
      unknownFlushJson: ["--json", ...at(primary), "flush", "nope"],
      toReplica: [...at(replica), ...writeX],
      staleWrite: ["--json", ...at(primary), ...writeX, "--expected-epoch", "9"],
      staleRenew: [...at(primary), "renew", VOLUME, "--epoch", "2", "--ttl-ms", "1000"],
      badTransition: [...at(replica), "assign", VOLUME, "--epoch", "1", "--role", "none"],
      badSize: [...at(primary), "allocate", "v2", "--size", "1XB"],
      mismatchJson: ["--json", ...at(primary), "verify", VOLUME, "--lba", "3", "--file", other],
      rebuildUnknownJson: ["--json", ...at(replica), "rebuild", "nope", ...rebuildFrom(primary.address)],
      rebuildBadRate: [...at(replica), "rebuild", REBUILT, ...rebuildFrom(primary.address), "--rate", "fast"],
      // nothing listens on port 1: the copy retries with back-off, blockctl gives up at --timeout
      rebuildTimeoutJson: [
        "--json",
        ...at(replica),
        "rebuild",
        REBUILT,
        ...rebuildFrom("127.0.0.1:1"),
        "--timeout",
        "1s",
      ],
    };
    const results = await Promise.all(Object.values(cases).map((args) => blockctl(args)));
    runs = Object.fromEntries(Object.keys(cases).map((name, i) => [name, results[i] as CliRun]));
  });

  it("unreachable agent → 2 with what to do", () => {
    const unreachable = result("unreachable");
    const unreachableJson = result("unreachableJson");
    expectExit(unreachable, 2);
    expect(unreachable.stdout).toBe("");
    expect(unreachable.stderr).toMatch(
      /^blockctl: error: cannot reach agent at 127\.0\.0\.1:1: .*\n {2}hint: is it running\? .*--addr.*BLOCKSHIP_ADDR/,
    );
    expectExit(unreachableJson, 2);
    expect(unreachableJson.stderr).toBe("");
    expect(jsonOf<JsonError>(unreachableJson).error).toMatchObject({
      exit_code: 2,
      code: "UNAVAILABLE",
      reason: "unreachable",
    });
  });

  it("unknown volume → 4", () => {
    const unknownStatus = result("unknownStatus");
    const unknownFlushJson = result("unknownFlushJson");
    expectExit(unknownStatus, 4);
    expect(unknownStatus.stderr).toMatch(
      /volume nope not found on 127\.0\.0\.1:\d+\n {2}hint: allocate it first/,
    );
    expectExit(unknownFlushJson, 4);
    expect(jsonOf<JsonError>(unknownFlushJson).error).toMatchObject({
      exit_code: 4,
      code: "NOT_FOUND",
      reason: "volume_not_found",
    });
  });

  it("write to the replica → 3 not_primary; stale epochs → 3 epoch_stale; bad role change → 3", () => {
    const toReplica = result("toReplica");
    const staleWrite = result("staleWrite");
    const staleRenew = result("staleRenew");
    const badTransition = result("badTransition");
    expectExit(toReplica, 3);
    expect(toReplica.stderr).toMatch(
      /volume vol-1 is not PRIMARY on 127\.0\.0\.1:\d+ \(it is REPLICA there\)\n {2}hint: send writes to the primary \(blockctl status shows roles\)/,
    );
    expectExit(staleWrite, 3);
    const stale = jsonOf<JsonError>(staleWrite).error;
    expect(stale).toMatchObject({ exit_code: 3, reason: "epoch_stale" });
    expect(stale.message).toMatch(/now epoch 1/);
    expect(stale.hint).toMatch(/master moved the volume/);
    expectExit(staleRenew, 3);
    expect(staleRenew.stderr).toMatch(/epoch mismatch for volume vol-1 .*\(now epoch 1\)/);
    expectExit(badTransition, 3);
    expect(badTransition.stderr).toMatch(/role change refused.*\n {2}hint: allowed: /);
  });

  it("a bad size → 1 (usage error), nothing on stdout", () => {
    const badSize = result("badSize");
    expectExit(badSize, 1);
    expect(badSize.stdout).toBe("");
    expect(badSize.stderr).toMatch(
      /--size: "1XB" is not a size \(use bytes or a binary unit: 4096, 64KiB, 1GiB/,
    );
  });

  it("rebuild: unknown volume → 4, bad --rate → 1, not committed within --timeout → 8", () => {
    const unknown = result("rebuildUnknownJson");
    expectExit(unknown, 4);
    expect(jsonOf<JsonError>(unknown).error).toMatchObject({ exit_code: 4, reason: "volume_not_found" });
    const badRate = result("rebuildBadRate");
    expectExit(badRate, 1);
    expect(badRate.stdout).toBe("");
    expect(badRate.stderr).toMatch(/--rate: "fast" is not a rate/);
    const timeout = result("rebuildTimeoutJson");
    expectExit(timeout, 8);
    const error = jsonOf<JsonError>(timeout).error;
    expect(error).toMatchObject({ exit_code: 8, code: "TIMEOUT", reason: "rebuild_timeout" });
    expect(error.message).toMatch(/did not commit within 1s/);
    expect(error.hint).toMatch(/no transfer started: is --primary-address/);
  });

  it("verify mismatch → 5 with the first differing block", () => {
    const mismatch = result("mismatchJson");
    expectExit(mismatch, 5);
    expect(mismatch.stderr).toBe("");
    const error = jsonOf<JsonError>(mismatch).error;
    expect(error).toMatchObject({ exit_code: 5, code: "MISMATCH", reason: "data_mismatch" });
    expect(error.message).toMatch(
      /vol-1 on 127\.0\.0\.1:\d+ differs from .*other\.bin at byte [0-9]+ \(block 3\): expected 0xab/,
    );
  });

  it("a flush the replica cannot confirm → 6 (durability failure), never a false success", async () => {
    await replica.cleanup();
    const write = await blockctl([
      "--json",
      ...at(primary),
      "write",
      VOLUME,
      "--lba",
      "0",
      "--pattern",
      "late",
      "--count",
      "1",
      "--flush",
    ]);
    expectExit(write, 6);
    const error = jsonOf<JsonError>(write).error;
    expect(error).toMatchObject({ exit_code: 6, code: "UNAVAILABLE", reason: "durability_barrier_failed" });
    expect(error.hint).toMatch(/not durable/);
  });
});
