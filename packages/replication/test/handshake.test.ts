import { describe, expect, it } from "vitest";
import { classifyHandshake } from "../src/handshake";

describe("classifyHandshake", () => {
  const primary = { epoch: 3, headLsn: 100, tailLsn: 40 };

  it("streams from replica head + 1 and pins what the replica has not fsynced", () => {
    expect(classifyHandshake(primary, { epoch: 3, headLsn: 100, durableLsn: 90 })).toEqual({
      kind: "stream",
      cursor: 101,
      pinFromLsn: 91,
    });
    expect(classifyHandshake(primary, { epoch: 3, headLsn: 40, durableLsn: 10 })).toEqual({
      kind: "stream",
      cursor: 41,
      pinFromLsn: 41, // never below the retained WAL
    });
    expect(
      classifyHandshake({ epoch: 1, headLsn: 0, tailLsn: 0 }, { epoch: 1, headLsn: 0, durableLsn: 0 }),
    ).toEqual({
      kind: "stream",
      cursor: 1,
      pinFromLsn: 1,
    });
  });

  it("classifies replica-ahead, recycled and epoch mismatch", () => {
    expect(classifyHandshake(primary, { epoch: 3, headLsn: 101, durableLsn: 101 })).toMatchObject({
      kind: "needs_rebuild",
      reason: expect.stringMatching(/^replica_ahead/),
    });
    expect(classifyHandshake(primary, { epoch: 3, headLsn: 39, durableLsn: 39 })).toMatchObject({
      kind: "needs_rebuild",
      reason: expect.stringMatching(/^wal_recycled/),
    });
    expect(classifyHandshake(primary, { epoch: 2, headLsn: 100, durableLsn: 100 })).toMatchObject({
      kind: "retry",
      reason: expect.stringMatching(/^epoch_mismatch/),
    });
  });
});
