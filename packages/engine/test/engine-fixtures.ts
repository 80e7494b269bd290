// Fixtures of the VolumeEngine tests: a primary with replicas vs-2/vs-3 over a FakeRetention.
import type { AssignedReplica, EngineCommand, EngineEvent, EngineOutput } from "../src/index";
import { VolumeEngine } from "../src/index";
import { budget, FakeRetention } from "./helpers";

export const VOL = "/data/vol-a.blk";
export const R2 = `${VOL}/vs-2`;
export const R3 = `${VOL}/vs-3`;

export function replica(serverId: string, dataAddr = `${serverId}:4000`): AssignedReplica {
  return { serverId, dataAddr, ctrlAddr: `${serverId}:4001` };
}

export function primary(epoch = 1n, servers: readonly string[] = ["vs-2"]): EngineEvent {
  return { type: "assignment", epoch, role: "primary", replicas: servers.map((s) => replica(s)) };
}

export function cmd<T extends EngineCommand["type"]>(
  out: EngineOutput,
  type: T,
): Extract<EngineCommand, { type: T }>[] {
  return out.commands.filter((c): c is Extract<EngineCommand, { type: T }> => c.type === type);
}

export function types(out: EngineOutput): string[] {
  return out.commands.map((c) => c.type);
}

export function setup(
  h: ConstructorParameters<typeof FakeRetention>[0] = {},
  opts: { budgetMs?: number } = {},
) {
  const port = new FakeRetention(h);
  const engine = new VolumeEngine({
    volumeId: VOL,
    retention: port,
    ...(opts.budgetMs === undefined ? {} : { catchUpBudget: budget({ maxDurationMs: opts.budgetMs }) }),
  });
  return { port, engine };
}

/** Primary assigned with one replica; returns the session the host must connect. */
export function connected(
  h: ConstructorParameters<typeof FakeRetention>[0] = {},
  opts: { budgetMs?: number } = {},
) {
  const t = setup(h, opts);
  const out = t.engine.apply(primary());
  const connect = cmd(out, "connect_replica")[0]!;
  return { ...t, out, sessionId: connect.sessionId };
}
