import {
  type CatchUpBudget,
  type Endpoint,
  type PinKind,
  type PinResult,
  type ResourcePin,
  type RetainedHistory,
  type RetentionPort,
  Sender,
  SessionIdSource,
} from "../src/index";

export function ep(dataAddr = "10.0.0.2:9000", ctrlAddr = "10.0.0.2:9001", version = 0): Endpoint {
  return { dataAddr, ctrlAddr, version };
}

export function newSender(replicaId = "r1", epoch = 1n, ids = new SessionIdSource()): Sender {
  return new Sender(replicaId, ep(), epoch, ids);
}

export function history(over: Partial<RetainedHistory> = {}): RetainedHistory {
  return {
    headLsn: 100n,
    tailLsn: 0n,
    committedLsn: 100n,
    checkpointLsn: 0n,
    checkpointTrusted: false,
    ...over,
  };
}

export function budget(over: Partial<CatchUpBudget> = {}): CatchUpBudget {
  return { maxDurationMs: 0, maxEntries: 0n, progressDeadlineMs: 0, ...over };
}

/** A sender whose catch-up session has a handshake range (start, target) and is in `catchup`. */
export function catchingUp(
  start: bigint,
  target: bigint,
  b?: CatchUpBudget,
  startMs = 0,
): { s: Sender; id: number } {
  const s = newSender();
  const id = s.attachSession(1n, "catchup", b === undefined ? {} : { budget: b });
  s.beginConnect(id);
  s.recordHandshake(id, start, target);
  s.beginCatchUp(id, startMs);
  return { s, id };
}

/** A sender with a rebuild session in `handshake` (0, target). */
export function rebuilding(target: bigint): { s: Sender; id: number } {
  const s = newSender();
  const id = s.attachSession(1n, "rebuild");
  s.beginConnect(id);
  s.recordHandshake(id, 0n, target);
  return { s, id };
}

/** In-memory RetentionPort with pin counters and failure switches. */
export class FakeRetention implements RetentionPort {
  history: RetainedHistory;
  readonly held = new Map<number, ResourcePin>();
  readonly releases: number[] = [];
  fail: Partial<Record<PinKind, string>> = {};
  private nextPin = 1;

  constructor(h: Partial<RetainedHistory> = {}) {
    this.history = history(h);
  }
  retainedHistory(): RetainedHistory {
    return this.history;
  }
  pinWal(replicaId: string, fromLsn: bigint): PinResult {
    return this.pin("wal", replicaId, fromLsn);
  }
  pinSnapshot(replicaId: string, lsn: bigint): PinResult {
    return this.pin("snapshot", replicaId, lsn);
  }
  pinFullBase(replicaId: string, lsn: bigint): PinResult {
    return this.pin("full_base", replicaId, lsn);
  }
  release(pin: ResourcePin): void {
    if (!this.held.delete(pin.pinId)) throw new Error(`double release of pin ${pin.pinId}`);
    this.releases.push(pin.pinId);
  }
  count(kind?: PinKind): number {
    return [...this.held.values()].filter((p) => kind === undefined || p.kind === kind).length;
  }
  private pin(kind: PinKind, replicaId: string, lsn: bigint): PinResult {
    const why = this.fail[kind];
    if (why !== undefined) return { ok: false, reason: why };
    const pin = { kind, replicaId, lsn, pinId: this.nextPin++ };
    this.held.set(pin.pinId, pin);
    return { ok: true, pin };
  }
}
