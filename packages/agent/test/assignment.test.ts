import type { Assignment, Assignment__Output } from "@blockship/rpc";
import { describe, expect, it } from "vitest";
import { parseAssignment, sameAssignment } from "../src/assignment";

function wire(a: Assignment): Assignment__Output {
  return {
    volume_id: "",
    epoch: "0",
    role: "ROLE_NONE",
    lease_ttl_ms: 0,
    replicas: [],
    durability_mode: "DURABILITY_MODE_UNSPECIFIED",
    recovery_target: "RECOVERY_KIND_UNSPECIFIED",
    primary_server_id: "",
    primary_address: "",
    ...a,
  } as Assignment__Output;
}

function problem(a: Assignment): string {
  try {
    parseAssignment(wire(a), "me");
    return "";
  } catch (err) {
    return (err as Error).message;
  }
}

const P = { volume_id: "v1", epoch: "2", role: "ROLE_PRIMARY", lease_ttl_ms: 1000 } as const;

describe("assignment validation", () => {
  it("accepts a primary with replicas and normalises it", () => {
    const a = parseAssignment(
      wire({
        ...P,
        replicas: [{ server_id: "r1", address: "127.0.0.1:7200" }],
        primary_server_id: "ignored",
      }),
      "me",
    );
    expect(a).toMatchObject({
      volumeId: "v1",
      epoch: 2,
      role: "primary",
      leaseTtlMs: 1000,
      primaryServerId: "",
    });
    expect(a.replicas).toEqual([{ serverId: "r1", address: "127.0.0.1:7200" }]);
  });

  it("names the field of every problem", () => {
    expect(problem({ ...P, volume_id: "a/b" })).toMatch(/^invalid_argument: assignment.volume_id/);
    expect(problem({ ...P, epoch: "0" })).toMatch(/assignment.epoch: required/);
    expect(problem({ ...P, epoch: "18446744073709551615" })).toMatch(/assignment.epoch/);
    expect(problem({ ...P, role: 9 as never })).toMatch(/assignment.role/);
    expect(problem({ ...P, lease_ttl_ms: 0 })).toMatch(/assignment.lease_ttl_ms/);
    expect(problem({ ...P, lease_ttl_ms: 600_001 })).toMatch(/assignment.lease_ttl_ms/);
    expect(problem({ ...P, replicas: [{ server_id: "", address: "h:1" }] })).toMatch(
      /replicas\[0\].server_id/,
    );
    expect(problem({ ...P, replicas: [{ server_id: "r", address: "nope" }] })).toMatch(
      /replicas\[0\].address/,
    );
    expect(
      problem({
        ...P,
        replicas: [
          { server_id: "r", address: "h:1" },
          { server_id: "r", address: "h:2" },
        ],
      }),
    ).toMatch(/replicas\[1\].server_id: r is listed twice/);
    expect(problem({ ...P, replicas: [{ server_id: "me", address: "h:1" }] })).toMatch(/is this agent/);
    expect(problem({ ...P, durability_mode: "DURABILITY_MODE_SYNC_QUORUM" })).toMatch(/at least 2 replicas/);
    expect(problem({ volume_id: "v1", epoch: "1", role: "ROLE_REPLICA" })).toMatch(
      /primary_server_id: required/,
    );
    expect(problem({ volume_id: "v1", epoch: "1", role: "ROLE_REBUILDING", primary_server_id: "p" })).toMatch(
      /primary_address: required/,
    );
    const replicas = Array.from({ length: 9 }, (_, i) => ({ server_id: `r${i}`, address: "h:1" }));
    expect(problem({ ...P, replicas })).toMatch(/at most 8 replicas/);
  });

  it("recovery_target: what each role does, or refused (never accepted and ignored)", () => {
    const R = { volume_id: "v1", epoch: "1", role: "ROLE_REPLICA", primary_server_id: "p" } as const;
    const B = { ...R, role: "ROLE_REBUILDING", primary_address: "h:1" } as const;
    const ok: Assignment[] = [
      { ...P, recovery_target: "RECOVERY_KIND_CATCHUP" },
      { ...R, recovery_target: "RECOVERY_KIND_NONE" },
      { ...B, recovery_target: "RECOVERY_KIND_REBUILD" },
      { volume_id: "v1", epoch: "1", role: "ROLE_STALE", recovery_target: "RECOVERY_KIND_NONE" },
    ];
    for (const a of ok) expect(problem(a), JSON.stringify(a)).toBe("");
    expect(problem({ ...P, recovery_target: "RECOVERY_KIND_NONE" })).toMatch(
      /^invalid_argument: assignment.recovery_target: RECOVERY_KIND_NONE does not apply to ROLE_PRIMARY: a primary catches up/,
    );
    expect(problem({ ...P, recovery_target: "RECOVERY_KIND_REBUILD" })).toMatch(/assign it ROLE_REBUILDING/);
    expect(problem({ ...R, recovery_target: "RECOVERY_KIND_CATCHUP" })).toMatch(/run by its primary/);
    expect(problem({ ...B, recovery_target: "RECOVERY_KIND_CATCHUP" })).toMatch(/pulls its image/);
  });

  it("identical deliveries compare equal; any field a role uses makes them differ", () => {
    const a = parseAssignment(wire({ ...P, replicas: [{ server_id: "r1", address: "h:1" }] }), "me");
    const same = parseAssignment(wire({ ...P, replicas: [{ server_id: "r1", address: "h:1" }] }), "me");
    expect(sameAssignment(a, same)).toBe(true);
    expect(sameAssignment(undefined, a)).toBe(false);
    for (const change of [
      { epoch: "3" },
      { lease_ttl_ms: 2000 },
      { replicas: [{ server_id: "r1", address: "h:2" }] },
      { replicas: [] },
      { durability_mode: "DURABILITY_MODE_SYNC_ALL" },
    ] as Assignment[]) {
      const b = parseAssignment(
        wire({ ...P, replicas: [{ server_id: "r1", address: "h:1" }], ...change }),
        "me",
      );
      expect(sameAssignment(a, b), JSON.stringify(change)).toBe(false);
    }
    // Fields a role ignores do not count.
    const r1 = parseAssignment(
      wire({ volume_id: "v1", epoch: "1", role: "ROLE_REPLICA", primary_server_id: "p", lease_ttl_ms: 5 }),
      "me",
    );
    const r2 = parseAssignment(
      wire({ volume_id: "v1", epoch: "1", role: "ROLE_REPLICA", primary_server_id: "p", lease_ttl_ms: 9 }),
      "me",
    );
    expect(sameAssignment(r1, r2)).toBe(true);
  });
});
