import { describe, expect, it } from "vitest";
import {
  classifyHandshake,
  type HandshakeVerdict,
  type PrimaryFacts,
  type RecordRef,
  type ReplicaFacts,
} from "../src/handshake";

// The primary's log for these tables: LSNs 1..100 of epoch 1 (LSN n has CRC 1000 + n), retained
// from 41 on (tail 40, whose record the superblock still names), epoch 3 now.
const crcOf = (lsn: number): number => 1000 + lsn;
const ours = (lsn: number): RecordRef => ({ lsn, epoch: 1, crc: crcOf(lsn) });
const other = (lsn: number): RecordRef => ({ lsn, epoch: 2, crc: 0xbad0000 + lsn });

function primaryLog(head: number, tail: number, opts: { tailKnown?: boolean } = {}): PrimaryFacts {
  return {
    epoch: 3,
    headLsn: head,
    tailLsn: tail,
    recordAt: (lsn) => {
      if (lsn === 0) return { lsn: 0, epoch: 0, crc: 0 };
      if (lsn < tail || lsn > head) return undefined;
      if (lsn === tail && opts.tailKnown === false) return undefined;
      return ours(lsn);
    },
  };
}

function replica(
  head: number,
  durable: number,
  headRecord?: RecordRef,
  durableRecord?: RecordRef,
): ReplicaFacts {
  return {
    epoch: 3,
    headLsn: head,
    durableLsn: durable,
    headRecord: headRecord ?? ours(head),
    durableRecord: durableRecord ?? ours(durable),
  };
}

const p = primaryLog(100, 40);

interface Case {
  readonly name: string;
  readonly primary?: PrimaryFacts;
  readonly replica: ReplicaFacts;
  readonly expected: Partial<HandshakeVerdict> & { reason?: unknown };
}

const cases: Case[] = [
  {
    name: "same history at the head: stream from head + 1, pin what is not fsynced",
    replica: replica(100, 90),
    expected: { kind: "stream", cursor: 101, pinFromLsn: 91 },
  },
  {
    name: "same history behind the head: catch up",
    replica: replica(60, 50),
    expected: { kind: "stream", cursor: 61, pinFromLsn: 51 },
  },
  {
    name: "head at the primary's tail: compared with the tail anchor; the pin never goes below the WAL",
    replica: replica(40, 10),
    expected: { kind: "stream", cursor: 41, pinFromLsn: 41 },
  },
  {
    name: "two empty copies",
    primary: primaryLog(0, 0),
    replica: { epoch: 3, headLsn: 0, durableLsn: 0, headRecord: undefined, durableRecord: undefined },
    expected: { kind: "stream", cursor: 1, pinFromLsn: 1 },
  },
  {
    name: "equal head LSNs, different records: divergent at the head",
    replica: replica(100, 100, other(100), other(100)),
    expected: {
      kind: "needs_rebuild",
      divergentAt: 100,
      reason: expect.stringMatching(/^needs_rebuild: divergent_history at LSN 100 /),
    },
  },
  {
    name: "durable record differs: names the durable (lower) LSN",
    replica: replica(80, 70, other(80), other(70)),
    expected: { kind: "needs_rebuild", divergentAt: 70 },
  },
  {
    name: "durable record matches, head differs: divergent at the head",
    replica: replica(80, 70, other(80)),
    expected: { kind: "needs_rebuild", divergentAt: 80 },
  },
  {
    name: "same CRC, different epoch: divergent",
    replica: replica(90, 90, { lsn: 90, epoch: 2, crc: crcOf(90) }, { lsn: 90, epoch: 2, crc: crcOf(90) }),
    expected: { kind: "needs_rebuild", divergentAt: 90 },
  },
  {
    name: "epoch unknown on the replica (older tail anchor): the CRC decides",
    replica: replica(90, 90, { lsn: 90, epoch: undefined, crc: crcOf(90) }),
    expected: { kind: "stream", cursor: 91 },
  },
  {
    name: "durable record recycled on the primary: the matching head decides (CRC chain)",
    replica: replica(50, 20, ours(50), other(20)),
    expected: { kind: "stream", cursor: 51, pinFromLsn: 41 },
  },
  {
    name: "the replica names no head record (older replica): never assumed to match",
    replica: { ...replica(100, 100), headRecord: undefined, durableRecord: undefined },
    expected: { kind: "needs_rebuild", reason: expect.stringMatching(/^unverified_history/) },
  },
  {
    name: "the replica names a record at another LSN: never assumed to match",
    replica: replica(100, 100, ours(99), ours(99)),
    expected: { kind: "needs_rebuild", reason: expect.stringMatching(/^unverified_history/) },
  },
  {
    name: "the primary cannot name its tail record: wal_recycled, never assumed to match",
    primary: primaryLog(100, 40, { tailKnown: false }),
    replica: replica(40, 40),
    expected: { kind: "needs_rebuild", reason: expect.stringMatching(/^wal_recycled/) },
  },
  {
    name: "replica head above the primary's head stays replica_ahead",
    replica: replica(101, 101, other(101), other(101)),
    expected: { kind: "needs_rebuild", reason: expect.stringMatching(/^replica_ahead/) },
  },
  {
    name: "replica head below the retained WAL: wal_recycled",
    replica: replica(39, 39),
    expected: { kind: "needs_rebuild", reason: expect.stringMatching(/^wal_recycled: replica head 39/) },
  },
  {
    name: "epochs differ: retry, whatever the records",
    replica: { ...replica(100, 100, other(100)), epoch: 2 },
    expected: { kind: "retry", reason: expect.stringMatching(/^epoch_mismatch/) },
  },
];

describe("classifyHandshake", () => {
  it.each(cases)("$name", ({ primary, replica: r, expected }) => {
    expect(classifyHandshake(primary ?? p, r)).toMatchObject(expected);
  });

  it("never streams to a copy whose record differs at its head, for any head the primary retains", () => {
    for (let head = 40; head <= 100; head++) {
      for (const durable of [0, 39, 40, head - 1, head]) {
        if (durable > head || durable < 0) continue;
        const verdict = classifyHandshake(p, replica(head, durable, other(head)));
        expect(verdict.kind, `head ${head} durable ${durable}`).toBe("needs_rebuild");
      }
    }
  });
});

describe("classifyHandshake with a pending resync", () => {
  it("never streams to a replica in resync phase transfer", () => {
    const r: ReplicaFacts = {
      ...replica(100, 100),
      resync: { pending: true, phase: "transfer", forkLsn: 60 },
    };
    const v = classifyHandshake(p, r);
    expect(v.kind).toBe("needs_rebuild");
    expect(v.kind === "needs_rebuild" && v.reason).toMatch(/^resync_pending: .*fork LSN 60/);
  });

  it("streams to a replica whose resync committed (phase catchup) from its base + 1", () => {
    const r: ReplicaFacts = {
      ...replica(80, 80),
      resync: { pending: true, phase: "catchup", forkLsn: 60, baseLsn: 80, consistentLsn: 95 },
    };
    expect(classifyHandshake(p, r)).toMatchObject({ kind: "stream", cursor: 81 });
  });
});
