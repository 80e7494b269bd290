import { describe, expect, it } from "vitest";
import type { NeedsRebuildEvent } from "../src/index";
import { block, expectReason, fakeClock, simVolume } from "./helpers";

describe("throttle before dropping: live pins", () => {
  it("a live pin is not released by the byte budget: writers block with wal_full; the age budget still releases it", async () => {
    const clock = fakeClock();
    const { vol } = await simVolume({
      clock,
      retentionMaxHeldBytes: 3000,
      retentionMaxAgeMs: 10_000,
      walFullTimeoutMs: 50,
    });
    const events: NeedsRebuildEvent[] = [];
    vol.on("needsRebuild", (e) => events.push(e));
    vol.pinWal("vol1/r1", 1);
    expect(vol.setPinLive("vol1/r1", true)).toBe(true);
    expect(vol.setPinLive("nobody", true)).toBe(false);
    // Fill the WAL far past the byte budget: the pin holds it, admission blocks the writer.
    let err: unknown;
    for (let i = 0; i < 64 && err === undefined; i++) {
      await vol.write(i % 32, block(i % 32, i)).catch((e: unknown) => {
        err = e;
      });
      clock.advance(1);
    }
    await expectReason(Promise.reject(err), "wal_full");
    expect(events).toEqual([]);
    expect(vol.pinnedLsn("vol1/r1")).toBe(1);
    // The replica progresses: the pin moves, WAL frees up, writes go on.
    vol.pinWal("vol1/r1", vol.headLsn + 1);
    await vol.checkpoint();
    await vol.write(0, block(0, 99));
    // No progress for longer than the age budget: released after all.
    vol.pinWal("vol1/r1", vol.headLsn);
    clock.advance(10_001);
    expect(events).toMatchObject([{ owner: "vol1/r1", reason: "max_age" }]);
    await vol.close();
  });

  it("a pin that is not live keeps the byte budget", async () => {
    const clock = fakeClock();
    const { vol } = await simVolume({ clock, retentionMaxHeldBytes: 3000 });
    const events: NeedsRebuildEvent[] = [];
    vol.on("needsRebuild", (e) => events.push(e));
    vol.pinWal("vol1/r1", 1);
    vol.setPinLive("vol1/r1", true);
    vol.setPinLive("vol1/r1", false);
    for (let i = 0; i < 8; i++) await vol.write(i, block(i, 2));
    clock.advance(1);
    expect(events).toMatchObject([{ owner: "vol1/r1", reason: "max_bytes" }]);
    await vol.close();
  });
});
