import { reasonOf } from "@blockship/rpc";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock";
import { Fence, type FenceStorage } from "../src/fence";
import { grantWindow, windowProblem } from "../src/lease";
import { ROLES, transitionTable } from "../src/roles";

class FakeStorage implements FenceStorage {
  epoch = 0;
  readonly events: string[] = [];
  persistedEpoch(): number {
    return this.epoch;
  }
  async persistEpoch(epoch: number): Promise<void> {
    this.events.push(`persist ${epoch}`);
    this.epoch = epoch;
  }
}

function setup(drainTimeoutMs = 10_000) {
  const storage = new FakeStorage();
  const clock = new ManualClock();
  const fence = new Fence(storage, clock, drainTimeoutMs);
  return { storage, clock, fence };
}

async function reasonOfRejection(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return reasonOf(err);
  }
}

describe("role transition table", () => {
  it("is the reference table plus REBUILDING → REPLICA after a committed rebuild and REPLICA → REBUILDING (the master asks for a rebuild)", () => {
    expect(transitionTable({ rebuildCommitted: false })).toEqual({
      none: ["none", "primary", "replica", "rebuilding"],
      primary: ["primary", "stale", "draining"],
      replica: ["primary", "replica", "rebuilding"],
      stale: ["replica", "stale", "rebuilding"],
      rebuilding: ["rebuilding"],
      draining: ["stale", "draining"],
    });
    expect(transitionTable({ rebuildCommitted: true }).rebuilding).toEqual(["replica", "rebuilding"]);
  });

  it("the fence enforces exactly the table (every pair)", async () => {
    const table = transitionTable({ rebuildCommitted: false });
    for (const from of ROLES) {
      for (const to of ROLES) {
        const { fence } = setup();
        // Reach `from` through allowed steps.
        const path: Record<string, string[]> = {
          none: [],
          primary: ["primary"],
          replica: ["replica"],
          stale: ["primary", "stale"],
          rebuilding: ["rebuilding"],
          draining: ["primary", "draining"],
        };
        let epoch = 1;
        for (const r of path[from] ?? [])
          await fence.apply({ role: r as never, epoch: epoch++, leaseTtlMs: 1000 });
        expect(fence.role).toBe(from);
        const err = fence.check({ role: to, epoch, leaseTtlMs: 1000 });
        expect(err === null, `${from} → ${to}`).toBe(table[from].includes(to));
        if (err !== null) expect(err.reason).toBe("invalid_role_transition");
      }
    }
  });
});

describe("fence", () => {
  it("persists the epoch before the role takes effect, then grants the lease", async () => {
    const { storage, fence } = setup();
    const seen: string[] = [];
    storage.persistEpoch = async (e) => {
      seen.push(`persist ${e} while role=${fence.role}`);
      storage.epoch = e;
    };
    await fence.apply({ role: "primary", epoch: 3, leaseTtlMs: 1000 });
    expect(seen).toEqual(["persist 3 while role=none"]);
    expect([fence.role, fence.masterEpoch, fence.gateReason()]).toEqual(["primary", 3, null]);
  });

  it("rejects epoch regression without changing anything", async () => {
    const { storage, fence } = setup();
    await fence.apply({ role: "replica", epoch: 5, leaseTtlMs: 0 });
    const reason = await reasonOfRejection(fence.apply({ role: "primary", epoch: 4, leaseTtlMs: 1000 }));
    expect(reason).toBe("epoch_regression");
    expect([fence.role, storage.epoch]).toEqual(["replica", 5]);
  });

  it("write gate: NONE is fenced (unlike the reference), then not_primary / epoch_stale / lease_expired", async () => {
    const { storage, clock, fence } = setup();
    expect(fence.gateReason()).toBe("not_primary");
    await fence.apply({ role: "replica", epoch: 1, leaseTtlMs: 0 });
    expect(fence.gateReason()).toBe("not_primary");
    await fence.apply({ role: "primary", epoch: 2, leaseTtlMs: 1000 });
    expect(fence.gateReason()).toBeNull();
    expect(fence.gateReason(7)).toBe("epoch_stale");
    storage.epoch = 9; // someone moved the persisted epoch behind our back
    expect(fence.gateReason()).toBe("epoch_stale");
    storage.epoch = 2;
    clock.advance(999);
    expect(fence.gateReason()).toBeNull();
    clock.advance(1);
    expect(fence.gateReason()).toBe("lease_expired");
    expect(() => fence.assertWritable()).toThrow(/lease_expired/);
  });

  it("renewal extends the lease only for a primary at exactly that epoch", async () => {
    const { clock, fence } = setup();
    expect(() => fence.renew(1, 1000)).toThrow(/not_primary/);
    await fence.apply({ role: "primary", epoch: 2, leaseTtlMs: 100 });
    clock.advance(200);
    expect(fence.gateReason()).toBe("lease_expired");
    expect(() => fence.renew(1, 1000)).toThrow(/epoch_stale/);
    fence.renew(2, 1000);
    expect(fence.lease.remainingMs()).toBe(1000);
    expect(fence.gateReason()).toBeNull();
  });

  it("a guarded operation is checked after it finished: a lease lapsing meanwhile fails it", async () => {
    const { clock, fence } = setup();
    await fence.apply({ role: "primary", epoch: 1, leaseTtlMs: 100 });
    const reason = await reasonOfRejection(
      fence.guarded(0, async () => {
        clock.advance(150);
        return 1;
      }),
    );
    expect(reason).toBe("lease_expired");
    expect(await reasonOfRejection(fence.guarded(0, async () => 1))).toBe("lease_expired");
  });

  it("demotion revokes the lease at once, waits for in-flight I/O, stops shipping, then turns STALE", async () => {
    const { storage, fence } = setup();
    await fence.apply({ role: "primary", epoch: 1, leaseTtlMs: 10_000 });
    let finish!: () => void;
    const inFlight = fence.guarded(0, () => new Promise<number>((r) => (finish = () => r(7))));
    const order: string[] = [];
    const demote = fence.apply({ role: "stale", epoch: 2, leaseTtlMs: 0 }, async () => {
      order.push(`stop shipping (role=${fence.role})`);
    });
    await Promise.resolve();
    expect(fence.role).toBe("draining");
    expect(fence.gateReason()).toBe("not_primary");
    finish();
    // The in-flight write finished after the demotion began: it is not acknowledged.
    expect(await reasonOfRejection(inFlight)).toBe("not_primary");
    await demote;
    expect(order).toEqual(["stop shipping (role=draining)"]);
    expect([fence.role, storage.epoch]).toEqual(["stale", 2]);
  });

  it("demotion fails with drain_timeout when I/O does not drain", async () => {
    const { fence } = setup(20);
    await fence.apply({ role: "primary", epoch: 1, leaseTtlMs: 10_000 });
    void fence.guarded(0, () => new Promise<number>(() => {})).catch(() => {});
    expect(await reasonOfRejection(fence.apply({ role: "stale", epoch: 2, leaseTtlMs: 0 }))).toBe(
      "drain_timeout",
    );
    expect(fence.role).toBe("draining");
  });

  it("REBUILDING → REPLICA only after a committed rebuild", async () => {
    const { fence } = setup();
    await fence.apply({ role: "rebuilding", epoch: 1, leaseTtlMs: 0 });
    expect(fence.check({ role: "replica", epoch: 1, leaseTtlMs: 0 })?.reason).toBe("invalid_role_transition");
    fence.rebuildCommitted = true;
    await fence.apply({ role: "replica", epoch: 1, leaseTtlMs: 0 });
    expect(fence.role).toBe("replica");
  });

  it("promotion needs an epoch above the copy's own: REPLICA → PRIMARY at the same epoch is epoch_stale", async () => {
    const { fence } = setup();
    await fence.apply({ role: "replica", epoch: 3, leaseTtlMs: 0 });
    expect(fence.check({ role: "primary", epoch: 3, leaseTtlMs: 1000 })?.reason).toBe("epoch_stale");
    expect(fence.check({ role: "primary", epoch: 4, leaseTtlMs: 1000 })).toBeNull();
    // A restarted agent (NONE) may be re-assigned PRIMARY at its persisted epoch.
    const restarted = setup();
    restarted.storage.epoch = 3;
    expect(restarted.fence.check({ role: "primary", epoch: 3, leaseTtlMs: 1000 })).toBeNull();
  });

  it("a lease counts from the grant's arrival, never from when it was applied", async () => {
    const { clock, fence } = setup();
    const arrivedAtMs = clock.now();
    clock.advance(300); // the grant waited (lock, epoch fsync) before it was applied
    await fence.apply({ role: "primary", epoch: 1, leaseTtlMs: 1000 }, async () => {}, arrivedAtMs);
    expect(fence.lease.remainingMs()).toBe(700);
    const renewalArrivedAtMs = clock.now();
    clock.advance(100);
    fence.renew(1, 1000, renewalArrivedAtMs);
    expect(fence.lease.remainingMs()).toBe(900);
    // A start in the future is clamped to now.
    fence.renew(1, 1000, clock.now() + 5000);
    expect(fence.lease.remainingMs()).toBe(1000);
  });

  it("a grant reached after its call's deadline is deadline_exceeded; no deadline never expires", () => {
    const clock = new ManualClock();
    const window = grantWindow(clock, Date.now() + 200);
    expect(windowProblem(clock, window, "assignment")).toBeNull();
    clock.advance(250);
    expect(windowProblem(clock, window, "assignment")?.reason).toBe("deadline_exceeded");
    expect(windowProblem(clock, grantWindow(clock, Number.POSITIVE_INFINITY), "renewal")).toBeNull();
    expect(windowProblem(clock, grantWindow(clock, new Date(Date.now() - 1)), "renewal")?.code).toBe(4);
  });
});
