import type { ShipperGroupOptions } from "./api";

export interface ShipperConfig {
  readonly volumeId: string;
  readonly primaryServerId: string;
  readonly epoch: () => number;
  readonly barrierTimeoutMs: number;
  readonly maxInFlightBytes: number;
  readonly batchBytes: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly handshakeTimeoutMs: number;
  /**
   * Background barriers (nobody waits for them) keep the replica's durable LSN, and so the WAL pin,
   * moving without client flushes: one goes out when durability lags what was sent and either this
   * much time passed since the last barrier or `backgroundBarrierBytes` were sent since.
   */
  readonly idleBarrierMs: number;
  readonly backgroundBarrierBytes: number;
  /** While the gate denies, the policy is re-asked at least this often (besides every wake-up). */
  readonly gateRecheckMs: number;
}

export function resolveShipperConfig(o: ShipperGroupOptions): ShipperConfig {
  const c: ShipperConfig = {
    volumeId: o.volumeId,
    primaryServerId: o.primaryServerId,
    epoch: o.epoch,
    barrierTimeoutMs: o.barrierTimeoutMs ?? 5_000,
    maxInFlightBytes: o.maxInFlightBytes ?? 8 * 1024 * 1024,
    batchBytes: o.batchBytes ?? 256 * 1024,
    reconnectMinMs: o.reconnectMinMs ?? 100,
    reconnectMaxMs: o.reconnectMaxMs ?? 5_000,
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? 5_000,
    idleBarrierMs: o.idleBarrierMs ?? 1_000,
    backgroundBarrierBytes: o.backgroundBarrierBytes ?? 4 * 1024 * 1024,
    gateRecheckMs: o.gateRecheckMs ?? 250,
  };
  const positive = (name: string, v: number): void => {
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be > 0 (got ${v})`);
  };
  positive("barrierTimeoutMs", c.barrierTimeoutMs);
  positive("maxInFlightBytes", c.maxInFlightBytes);
  positive("batchBytes", c.batchBytes);
  positive("reconnectMinMs", c.reconnectMinMs);
  positive("handshakeTimeoutMs", c.handshakeTimeoutMs);
  positive("idleBarrierMs", c.idleBarrierMs);
  positive("backgroundBarrierBytes", c.backgroundBarrierBytes);
  positive("gateRecheckMs", c.gateRecheckMs);
  if (c.reconnectMaxMs < c.reconnectMinMs) throw new RangeError("reconnectMaxMs < reconnectMinMs");
  if (c.batchBytes > c.maxInFlightBytes) throw new RangeError("batchBytes > maxInFlightBytes");
  return c;
}
