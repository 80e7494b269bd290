// blockship.v1.Control: what the master (and an operator) calls on any agent.
import {
  type AllocateVolumeRequest__Output,
  type ControlHandlers,
  invalidArgument,
  itemStatusOf,
  OK_ITEM_STATUS,
  RpcError,
  requireEnum,
  requireList,
  requireU64,
  requireVolumeId,
  type StatusReport,
  serverStreamHandler,
  unaryHandler,
} from "@blockship/rpc";
import { applyBatch } from "./apply";
import { type Clock, realClock } from "./clock";
import { mapErrors, toAgentRpcError, volumeNotFound } from "./errors";
import { grantWindow, MAX_LEASE_TTL_MS, windowProblem } from "./lease";
import { durabilityFromWire, WIRE_DURABILITY_MODES } from "./modes";
import { cancelRecovery, startRecovery } from "./recovery-service";
import { protocolStateOf, volumeStatusOf } from "./status";
import type { AllocateParams, VolumeHost } from "./volume-host";
import { type ChangeFeed, watchStatus } from "./watch";

export interface ControlDeps {
  readonly host: VolumeHost;
  readonly serverId: string;
  readonly defaultWalSizeBytes: number;
  readonly feed: ChangeFeed;
  readonly stopping: AbortSignal;
  readonly now: () => number;
  /** The clock the volumes' fences use (leases, grant deadlines); default the real clock. */
  readonly clock?: Clock;
}

const MiB = 1024 * 1024;
const MAX_VOLUME_BYTES = 2n ** 50n;
const MAX_WAL_BYTES = 64n * 1024n * BigInt(MiB);

export function parseAllocate(
  req: AllocateVolumeRequest__Output,
  defaultWalSizeBytes: number,
): AllocateParams {
  const volumeId = requireVolumeId(req.volume_id);
  const modeName = requireEnum(String(req.durability_mode), WIRE_DURABILITY_MODES, "durability_mode");
  const durabilityMode = durabilityFromWire(modeName);
  if (durabilityMode === undefined) throw invalidArgument("durability_mode", `unknown ${modeName}`);
  const blockSize = req.block_size === 0 ? 4096 : req.block_size;
  if (
    !Number.isInteger(blockSize) ||
    blockSize < 512 ||
    blockSize > 65536 ||
    (blockSize & (blockSize - 1)) !== 0
  ) {
    throw invalidArgument(
      "block_size",
      `must be a power of two in 512..65536 (0 = 4096), got ${req.block_size}`,
    );
  }
  const size = requireU64(req.size_bytes, "size_bytes", { min: 1n, max: MAX_VOLUME_BYTES });
  if (size % BigInt(blockSize) !== 0n) {
    throw invalidArgument("size_bytes", `must be a multiple of the block size ${blockSize}, got ${size}`);
  }
  let wal = requireU64(req.wal_size_bytes, "wal_size_bytes", { max: MAX_WAL_BYTES });
  if (wal === 0n) wal = BigInt(defaultWalSizeBytes);
  const walUnit = BigInt(Math.max(blockSize, 4096));
  if (wal < BigInt(MiB) || wal % walUnit !== 0n) {
    throw invalidArgument(
      "wal_size_bytes",
      `must be a multiple of ${walUnit} and at least 1 MiB, got ${wal}`,
    );
  }
  return { volumeId, sizeBytes: Number(size), blockSize, walSizeBytes: Number(wal), durabilityMode };
}

export function controlServiceHandlers(deps: ControlDeps): Partial<ControlHandlers> {
  const { host } = deps;
  const clock = deps.clock ?? realClock;
  let seq = 0;
  const report = (volumeIds: readonly string[]): StatusReport => {
    const all =
      volumeIds.length === 0 ? host.list() : host.list().filter((h) => volumeIds.includes(h.volumeId));
    seq += 1;
    return {
      server_id: deps.serverId,
      seq: String(seq),
      at_unix_ms: String(Math.floor(deps.now())),
      volumes: all.map(volumeStatusOf),
    };
  };
  const sessionsOf = (volumeId: string): unknown[] => {
    const h = host.get(volumeId);
    return h === undefined
      ? []
      : (protocolStateOf(h).replicas ?? []).map((x) => [x.session_id, x.session_phase]);
  };
  const fingerprint = (r: StatusReport): string =>
    JSON.stringify(
      (r.volumes ?? []).map((v) => [
        v.volume_id,
        v.role,
        v.epoch,
        v.mode,
        v.durability_mode,
        v.writable,
        (v.replicas ?? []).map((x) => [x.replica_id, x.sender_state, x.live_eligible]),
        sessionsOf(String(v.volume_id)),
      ]),
    );
  const stoppingCheck = (): void => {
    if (deps.stopping.aborted) throw new RpcError("shutting_down", "the agent is stopping");
  };

  return {
    ApplyAssignments: unaryHandler((req, call) =>
      mapErrors(async () => {
        const window = grantWindow(clock, call.getDeadline());
        stoppingCheck();
        const items = requireList(req.assignments, "assignments");
        const results = await applyBatch(host, items, deps.serverId, { clock, window });
        deps.feed.notify();
        return { results };
      }),
    ),
    RenewLeases: unaryHandler((req, call) =>
      mapErrors(async () => {
        const window = grantWindow(clock, call.getDeadline());
        stoppingCheck();
        const grants = requireList(req.grants, "grants");
        const results = grants.map((g, i) => {
          const volumeId = String(g.volume_id ?? "");
          try {
            const id = requireVolumeId(g.volume_id, `grants[${i}].volume_id`);
            const epoch = requireU64(g.epoch, `grants[${i}].epoch`, { min: 1n });
            if (
              !Number.isInteger(g.lease_ttl_ms) ||
              g.lease_ttl_ms < 1 ||
              g.lease_ttl_ms > MAX_LEASE_TTL_MS
            ) {
              throw invalidArgument(
                `grants[${i}].lease_ttl_ms`,
                `must be in 1..${MAX_LEASE_TTL_MS}, got ${g.lease_ttl_ms}`,
              );
            }
            const h = host.get(id);
            if (h === undefined) throw volumeNotFound(id);
            if (epoch > BigInt(Number.MAX_SAFE_INTEGER)) {
              throw new RpcError(
                "epoch_stale",
                `grant is for epoch ${epoch}, the volume is at ${h.fence.masterEpoch}`,
              );
            }
            const late = windowProblem(clock, window, "lease renewal");
            if (late !== null) throw late;
            h.fence.renew(Number(epoch), g.lease_ttl_ms, window.arrivedAtMs);
            return {
              volume_id: volumeId,
              status: { ...OK_ITEM_STATUS },
              lease_remaining_ms: h.fence.lease.remainingMs(),
            };
          } catch (err) {
            return { volume_id: volumeId, status: itemStatusOf(toAgentRpcError(err)), lease_remaining_ms: 0 };
          }
        });
        deps.feed.notify();
        return { results };
      }),
    ),
    GetStatus: unaryHandler((req) =>
      mapErrors(async () => {
        const ids = requireList(req.volume_ids, "volume_ids").map((id, i) =>
          requireVolumeId(id, `volume_ids[${i}]`),
        );
        return { report: report(ids) };
      }),
    ),
    WatchStatus: serverStreamHandler((call) =>
      mapErrors(() => watchStatus(call, { feed: deps.feed, stopping: deps.stopping, report, fingerprint })),
    ),
    GetProtocolState: unaryHandler((req) =>
      mapErrors(async () => {
        const id = requireVolumeId(req.volume_id);
        const h = host.get(id);
        if (h === undefined) throw volumeNotFound(id);
        return protocolStateOf(h);
      }),
    ),
    StartRecovery: unaryHandler((req) => mapErrors(() => startRecovery(host, req))),
    CancelRecovery: unaryHandler((req) => mapErrors(() => cancelRecovery(host, req))),
    AllocateVolume: unaryHandler((req) =>
      mapErrors(async () => {
        stoppingCheck();
        const params = parseAllocate(req, deps.defaultWalSizeBytes);
        const { created, hosted } = await host.allocate(params);
        deps.feed.notify();
        return { created, volume: volumeStatusOf(hosted) };
      }),
    ),
    DeleteVolume: unaryHandler((req) =>
      mapErrors(async () => {
        stoppingCheck();
        const id = requireVolumeId(req.volume_id);
        const existed = await host.delete(id);
        deps.feed.notify();
        return { existed };
      }),
    ),
  };
}
