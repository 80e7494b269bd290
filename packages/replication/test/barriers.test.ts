import { describe, expect, it } from "vitest";
import { BarrierBook } from "../src/barriers";
import { Signal } from "../src/signal";

describe("BarrierBook", () => {
  it("coalesces waiters into one barrier once their entries are on the stream", async () => {
    const book = new BarrierBook("r", 60_000);
    const a = book.wait(3);
    const b = book.wait(5);
    const c = book.wait(9);
    expect(book.takeBarrierToSend(2, 0)).toBeUndefined(); // nobody is covered yet
    const sent = book.takeBarrierToSend(6, 0);
    expect(sent).toEqual({ id: 1, lsn: 6 }); // covers a and b, not c
    expect(book.takeBarrierToSend(6, 0)).toBeUndefined(); // already covered
    expect(book.onResponse(1, 6, true, "")).toBe(true);
    await expect(a).resolves.toMatchObject({ ok: true, durableLsn: 6 });
    await expect(b).resolves.toMatchObject({ ok: true, durableLsn: 6 });
    expect(book.waiting).toBe(1);
    expect(book.takeBarrierToSend(9, 0)).toEqual({ id: 2, lsn: 9 });
    book.onResponse(2, 12, true, "");
    await expect(c).resolves.toMatchObject({ ok: true, durableLsn: 12 });
  });

  it("fails the waiters of a failed barrier with its reason and never moves durable backwards", async () => {
    const book = new BarrierBook("r", 60_000);
    book.takeIdleBarrier(4, 0);
    book.onResponse(1, 4, true, "");
    const w = book.wait(8);
    book.takeBarrierToSend(8, 0);
    book.onResponse(2, 3, false, "internal: fsync failed");
    await expect(w).resolves.toEqual({
      replicaId: "r",
      ok: false,
      durableLsn: 4,
      reason: "internal: fsync failed",
    });
    expect(book.durableLsn).toBe(4);
  });

  it("an OK answer below the barrier LSN is not success", async () => {
    const book = new BarrierBook("r", 60_000);
    const w = book.wait(5);
    book.takeBarrierToSend(5, 0);
    book.onResponse(1, 2, true, "");
    const out = await w;
    expect(out.ok).toBe(false);
    expect(out.reason).toMatch(/durable LSN 2 below barrier LSN 5/);
  });

  it("a waiter for LSN 0 still needs a round trip; failAll and failUnsent fail fast", async () => {
    const book = new BarrierBook("r", 60_000);
    const zero = book.wait(0);
    const later = book.wait(10);
    book.failUnsent(10, "live_shipping_blocked: x");
    await expect(later).resolves.toMatchObject({ ok: false, reason: "live_shipping_blocked: x" });
    expect(book.waiting).toBe(1); // LSN 0 is not held by the gate
    book.takeBarrierToSend(0, 0);
    book.onResponse(1, 0, true, "");
    await expect(zero).resolves.toMatchObject({ ok: true, durableLsn: 0 });
    const gone = book.wait(1);
    book.failAll("unavailable");
    await expect(gone).resolves.toMatchObject({ ok: false, reason: "unavailable" });
  });
});

describe("Signal", () => {
  it("remembers one wake that happened before the wait", async () => {
    const s = new Signal();
    s.wake();
    await expect(s.wait()).resolves.toBe(true);
    const p = s.wait();
    s.wake();
    await expect(p).resolves.toBe(true);
    await expect(s.wait(1)).resolves.toBe(false);
  });
});
