// The command line in-process (no agent needed): usage errors, --help, --json error shape, and
// the pure helpers behind the verbs.
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { buildAssignment, parseReplicaTarget } from "../src/commands/assign";
import { quantile } from "../src/commands/bench";
import { agentWriteLimit, firstDifference, padToBlocks, patternBlocks } from "../src/commands/io";
import { resyncPassProgress, sessionOutcome, sessionProgress } from "../src/commands/recovery";
import { shortEnum, wireEnum } from "../src/format";
import { runCli } from "../src/program";

let stdout: string;
let stderr: string;
let spies: MockInstance[];

beforeEach(() => {
  stdout = "";
  stderr = "";
  spies = [
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      stdout += chunk.toString();
      return true;
    }),
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      stderr += chunk.toString();
      return true;
    }),
  ];
});

afterEach(() => {
  for (const spy of spies) spy.mockRestore();
});

describe("usage", () => {
  it("--help shows the verbs and the exit codes, exit 0", async () => {
    expect(await runCli(["--help"])).toBe(0);
    expect(stdout).toMatch(/allocate .*\n[\s\S]*bench/);
    expect(stdout).toMatch(/Exit codes:\n {2}0 {2}ok\n {2}1 {2}usage error/);
    expect(stdout).toMatch(/BLOCKSHIP_ADDR/);
  });

  it("a verb's --help shows an example, exit 0", async () => {
    expect(await runCli(["assign", "--help"])).toBe(0);
    expect(stdout).toMatch(/--replica <serverId=host:port>/);
    expect(stdout).toMatch(/Examples:\n {2}blockctl --addr 127\.0\.0\.1:7200 assign vol-1/);
  });

  it("every verb's --help works (bigint defaults included), exit 0", async () => {
    const verbs = ["allocate", "delete", "assign", "renew", "status", "protocol-state", "watch", "rebuild"];
    const more = ["write", "read", "flush", "verify", "bench"];
    for (const argv of [...verbs, ...more]
      .map((v) => [v, "--help"])
      .concat([["recovery", "start", "--help"]]))
      expect(await runCli(argv), argv.join(" ")).toBe(0);
  });

  it("rebuild --help shows the flags with their defaults and an example, exit 0", async () => {
    expect(await runCli(["rebuild", "--help"])).toBe(0);
    expect(stdout).toMatch(/--rate <size\/s> .*\(default: 0\)/s);
    expect(stdout).toMatch(/--timeout <duration> .*\(default: 24h\)/s);
    expect(stdout).toMatch(
      /Example .*\n {2}blockctl --addr 10\.0\.0\.2:7200 rebuild vol-1 --epoch 3 --primary-id srv-a/,
    );
  });

  it.each([
    [["frobnicate"], /unknown command 'frobnicate'/],
    [[], /Usage: blockctl/],
    [["assign", "vol-1", "--epoch", "1", "--role", "king"], /Allowed choices are primary, replica/],
    [["assign", "vol-1", "--role", "primary"], /required option '--epoch <n>' not specified/],
    [["assign", "vol-1", "--epoch", "0", "--role", "primary"], /--epoch: must be at least 1/],
    [
      ["assign", "vol-1", "--epoch", "1", "--role", "primary", "--replica", "srv-b"],
      /not serverId=host:port/,
    ],
    [["assign", "vol-1", "--epoch", "1", "--role", "replica"], /needs --primary-server-id/],
    [["write", "vol-1", "--lba", "0"], /exactly one of --file F or --pattern TEXT --count BLOCKS/],
    [
      ["write", "vol-1", "--lba", "-1", "--pattern", "x", "--count", "1"],
      /--lba: "-1" is not a whole number/,
    ],
    [["--addr", "localhost", "status"], /--addr: "localhost" is not host:port/],
    [["allocate", "v", "--size", "1GB"], /not a size/],
    [["watch", "--interval-ms", "5"], /between 100 and 3600000/],
    [
      ["rebuild", "v", "--epoch", "1", "--primary-id", "a", "--primary-address", "h:1", "--rate", "fast"],
      /--rate: "fast" is not a rate/,
    ],
    [["rebuild", "v", "--epoch", "1", "--primary-id", "a"], /required option '--primary-address/],
    [
      ["rebuild", "v", "--epoch", "1", "--primary-id", "a", "--primary-address", "nohost"],
      /--primary-address: "nohost" is not host:port/,
    ],
    [
      ["rebuild", "v", "--epoch", "1", "--primary-id", "a", "--primary-address", "h:1", "--timeout", "1d"],
      /--timeout: "1d" is not a duration/,
    ],
    [["rebuild", "--epoch", "1", "--primary-id", "a", "--primary-address", "h:1"], /which volume\?/],
  ])("%j → exit 1 with a message", async (argv, message) => {
    expect(await runCli(argv)).toBe(1);
    expect(stderr).toMatch(message);
  });

  it("--json: a usage error is one JSON document on stdout, stderr stays empty", async () => {
    expect(await runCli(["--json", "allocate", "v", "--size", "12.5G"])).toBe(1);
    expect(stderr).toBe("");
    const doc = JSON.parse(stdout) as { error: Record<string, unknown> };
    expect(doc.error).toMatchObject({ exit_code: 1, code: "USAGE", reason: "usage" });
    expect(doc.error.message).toMatch(/--size: "12.5G" is not a size/);
  });
});

describe("helpers behind the verbs", () => {
  it("builds assignments with exact u64 epochs and wire enums", () => {
    expect(parseReplicaTarget("srv-b=10.0.0.2:7200")).toEqual({
      server_id: "srv-b",
      address: "10.0.0.2:7200",
    });
    const primary = buildAssignment("vol-1", {
      epoch: 18446744073709551615n,
      role: "primary",
      replica: [{ server_id: "srv-b", address: "h:1" }],
      durability: "sync_all",
    });
    expect(primary).toMatchObject({
      epoch: "18446744073709551615",
      role: "ROLE_PRIMARY",
      lease_ttl_ms: 30_000,
      durability_mode: "DURABILITY_MODE_SYNC_ALL",
      recovery_target: "RECOVERY_KIND_UNSPECIFIED",
      replicas: [{ server_id: "srv-b", address: "h:1" }],
    });
    const replica = buildAssignment("vol-1", {
      epoch: 2n,
      role: "replica",
      replica: [],
      primaryServerId: "srv-a",
    });
    expect(replica).toMatchObject({ role: "ROLE_REPLICA", lease_ttl_ms: 0, primary_server_id: "srv-a" });
    expect(() =>
      buildAssignment("v", { epoch: 1n, role: "stale", replica: [{ server_id: "a", address: "h:1" }] }),
    ).toThrow(/--replica applies only to --role primary/);
    expect(shortEnum("SENDER_STATE_IN_SYNC", "SENDER_STATE_")).toBe("in_sync");
    expect(wireEnum("sync_quorum", "DURABILITY_MODE_")).toBe("DURABILITY_MODE_SYNC_QUORUM");
  });

  it("pads, repeats patterns and finds the first difference", () => {
    expect(padToBlocks(Buffer.from("ab"), 4)).toEqual(Buffer.from([0x61, 0x62, 0, 0]));
    expect(padToBlocks(Buffer.alloc(0), 4)).toHaveLength(4);
    expect(patternBlocks("xyz", 2, 4).toString()).toBe("xyzxyzxy");
    expect(firstDifference(Buffer.from("abc"), Buffer.from("abc"))).toBe(-1);
    expect(firstDifference(Buffer.from("abc"), Buffer.from("abd"))).toBe(2);
    expect(firstDifference(Buffer.from("abc"), Buffer.from("ab"))).toBe(2);
  });

  it("learns the agent's largest write from its refusal", () => {
    const refused = (reason: string, detail: string) =>
      Object.assign(new Error(detail), { code: 3, details: `${reason}: ${detail}` });
    expect(
      agentWriteLimit(refused("invalid_argument", "length 4194304 exceeds the maximum 942080"), 4096),
    ).toBe(942_080);
    expect(agentWriteLimit(refused("invalid_argument", "length 8192 exceeds the maximum 100"), 4096)).toBe(
      undefined,
    );
    expect(agentWriteLimit(refused("invalid_argument", "lba out of range"), 4096)).toBe(undefined);
    expect(agentWriteLimit(refused("not_primary", "exceeds the maximum 8192"), 4096)).toBe(undefined);
  });

  it("quantiles by nearest rank", () => {
    expect(quantile([], 0.5)).toBe(0);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.99)).toBe(4);
    expect(quantile([7], 0.99)).toBe(7);
  });

  it("judges how a followed recovery session ended", () => {
    const state = (over: Record<string, unknown>) => ({
      replica_id: "v/b",
      sender_state: "catching_up",
      session_id: "3",
      session_kind: "catchup",
      session_phase: "catchup",
      start_lsn: "11",
      target_lsn: "20",
      frozen_target_lsn: "0",
      recovered_to: "15",
      session_active: true,
      live_eligible: false,
      reason: "",
      resync: null,
      ...over,
    });
    const started = state({});
    expect(sessionProgress(started)).toEqual([5, 10]);
    expect(sessionOutcome(started, started, false)).toBe("running");
    expect(sessionOutcome(started, state({ session_phase: "completed", session_active: false }), true)).toBe(
      "completed",
    );
    expect(
      sessionOutcome(
        started,
        state({ session_id: "0", session_phase: "none", sender_state: "in_sync" }),
        true,
      ),
    ).toBe("completed");
    expect(
      sessionOutcome(started, state({ session_phase: "invalidated", session_active: false }), true),
    ).toBe("invalidated");
    expect(sessionOutcome(started, state({ session_id: "4" }), true)).toBe("superseded");
    expect(
      sessionOutcome(
        started,
        state({ session_id: "0", sender_state: "needs_rebuild", session_active: false }),
        true,
      ),
    ).toBe("needs_rebuild");
    // A resync in transfer: blocks of the pass, its total the most blocks left seen in it.
    const resync = (pass: number, left: string) =>
      state({
        session_kind: "resync",
        session_phase: "transfer",
        resync: {
          fork_lsn: "10",
          pass,
          blocks_left: left,
          committed: false,
          base_lsn: "0",
          consistent_lsn: "0",
          sent_blocks: "0",
          sent_bytes: "0",
        },
      });
    expect(resyncPassProgress(resync(1, "100"), 0)).toEqual([0, 100]);
    expect(resyncPassProgress(resync(1, "40"), 100)).toEqual([60, 100]);
    expect(resyncPassProgress(resync(2, "0"), 0)).toEqual([1, 1]);
  });
});
