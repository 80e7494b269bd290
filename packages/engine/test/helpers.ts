import {
  type CatchUpBudget,
  type Endpoint,
  type RetainedHistory,
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
