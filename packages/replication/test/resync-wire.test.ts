import { describe, expect, it } from "vitest";
import type { ReplicaResyncState } from "../src/handshake";
import { generationsFromWire, generationsToWire, resyncStateFromWire, resyncStateToWire } from "../src/wire";

describe("resync facts on the wire", () => {
  it("round-trips generations and refuses malformed ones", () => {
    const gens = [
      { epoch: 1, firstLsn: 1, prevCrc: 0 },
      { epoch: 4, firstLsn: 90, prevCrc: 0xffff_fffe },
    ];
    expect(generationsFromWire(generationsToWire(gens) as never, "g")).toEqual(gens);
    expect(generationsFromWire(undefined, "g")).toEqual([]);
    const descending = [
      { epoch: "4", first_lsn: "90", prev_crc: 1 },
      { epoch: "5", first_lsn: "80", prev_crc: 1 },
    ];
    expect(() => generationsFromWire(descending, "g")).toThrow(/invalid_argument: g\[1\]/);
    expect(() => generationsFromWire([{ epoch: "1", first_lsn: "0", prev_crc: 0 }], "g")).toThrow(
      /invalid_argument/,
    );
    expect(() => generationsFromWire([{ epoch: "1", first_lsn: "1", prev_crc: -1 }], "g")).toThrow(
      /prev_crc/,
    );
  });

  it("round-trips every resync state and refuses an unknown phase", () => {
    const states: ReplicaResyncState[] = [
      { pending: false },
      { pending: true, phase: "transfer", forkLsn: 7 },
      { pending: true, phase: "catchup", forkLsn: 7, baseLsn: 20, consistentLsn: 31 },
    ];
    for (const s of states) expect(resyncStateFromWire(resyncStateToWire(s) as never, "r")).toEqual(s);
    expect(resyncStateFromWire(undefined, "r")).toEqual({ pending: false });
    expect(() =>
      resyncStateFromWire(
        { pending: true, phase: "copy", fork_lsn: "1", base_lsn: "0", consistent_lsn: "0" },
        "r",
      ),
    ).toThrow(/invalid_argument: r.phase/);
  });
});
