import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type StartedRpcServer, startServer } from "@blockship/rpc";
import {
  type BlockDevice,
  type CreateOptions,
  createVolumeFile,
  FileDevice,
  type OpenOptions,
  Volume,
} from "@blockship/storage";
import type { ShipperStatus } from "../src/api";
import { connectReplication } from "../src/connect";
import { ShipperGroup, type ShipperGroupInit } from "../src/group";
import { type ReceiverAuthority, ReplicaReceiver } from "../src/receiver";
import { replicationServiceHandlers } from "../src/service";

export const BS = 4096;
export const VOLUME_ID = "vol-1";
export const PRIMARY_ID = "srv-p";

export function tmpDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blockship-repl-"));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export const SMALL_VOLUME: CreateOptions & OpenOptions = {
  volumeSizeBytes: 256 * BS,
  walSizeBytes: 1024 * 1024,
  blockSize: BS,
  epoch: 1,
  flushIntervalMs: 50,
};

export async function makeVolume(
  dir: string,
  name: string,
  opts: Partial<CreateOptions & OpenOptions> = {},
): Promise<Volume> {
  return createVolumeFile(path.join(dir, `${name}.vol`), { ...SMALL_VOLUME, ...opts });
}

/** Deterministic block content: LBA and tag in every 8 bytes. */
export function block(lba: number, tag: number, blocks = 1): Buffer {
  const b = Buffer.alloc(BS * blocks);
  for (let i = 0; i < b.length; i += 8) {
    b.writeUInt32LE(lba + Math.floor(i / BS), i);
    b.writeUInt32LE(tag, i + 4);
  }
  return b;
}

/** One replica agent in-process: its volume, receiver and a real gRPC server on 127.0.0.1. */
export class ReplicaNode {
  server: StartedRpcServer | undefined;
  receiver: ReplicaReceiver;
  auth: { epoch: number; primaryServerId: string | null; accepting: boolean };
  private port = 0;

  constructor(
    readonly serverId: string,
    public volume: Volume,
    port = 0,
  ) {
    this.port = port;
    this.auth = { epoch: volume.epoch, primaryServerId: PRIMARY_ID, accepting: true };
    this.receiver = this.makeReceiver();
  }

  private makeReceiver(): ReplicaReceiver {
    return new ReplicaReceiver({
      volume: this.volume,
      volumeId: VOLUME_ID,
      localServerId: this.serverId,
      authority: (): ReceiverAuthority => this.auth,
    });
  }

  get replicaId(): string {
    return `${VOLUME_ID}/${this.serverId}`;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  target(): { replicaId: string; serverId: string; address: string } {
    return { replicaId: this.replicaId, serverId: this.serverId, address: this.address };
  }

  /** Starts (or restarts on the same port) the gRPC server. */
  async start(): Promise<void> {
    this.receiver = this.makeReceiver();
    this.server = await startServer({
      address: `127.0.0.1:${this.port}`,
      handlers: { replication: replicationServiceHandlers(() => this.receiver) },
    });
    this.port = this.server.port;
  }

  async stop(): Promise<void> {
    this.receiver.close();
    await this.server?.shutdown(50); // streams are cut at once: a replica that goes down
    this.server = undefined;
  }
}

export function makeGroup(volume: Volume, opts: Partial<ShipperGroupInit> = {}): ShipperGroup {
  return new ShipperGroup({
    volume,
    volumeId: VOLUME_ID,
    primaryServerId: PRIMARY_ID,
    epoch: () => volume.epoch,
    durabilityMode: () => volume.durabilityMode,
    connect: (address) => connectReplication(address),
    barrierTimeoutMs: 3_000,
    reconnectMinMs: 20,
    reconnectMaxMs: 200,
    ...opts,
  });
}

/** Resolves when `pred` holds for the group's status of `replicaId` (checked at every state event). */
export function waitForStatus(
  group: ShipperGroup,
  replicaId: string,
  pred: (s: ShipperStatus) => boolean,
  what = "status",
  timeoutMs = 20_000,
): Promise<ShipperStatus> {
  return waitFor(
    () => group.statuses().find((s) => s.replicaId === replicaId && pred(s)),
    () =>
      `${replicaId}: ${what} (now ${JSON.stringify(group.statuses().find((s) => s.replicaId === replicaId))})`,
    timeoutMs,
  );
}

/** Polls the condition `fn` every 5 ms until it holds or the deadline passes (a condition wait, not a fixed sleep). */
export async function waitFor<T>(
  fn: () => T | undefined | false,
  what: string | (() => string),
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Every block of both volumes equal. */
export async function expectSameBlocks(a: Volume, b: Volume): Promise<void> {
  const x = await a.read(0, a.volumeSizeBytes);
  const y = await b.read(0, b.volumeSizeBytes);
  if (!x.equals(y)) {
    for (let i = 0; i < x.length; i += BS) {
      if (!x.subarray(i, i + BS).equals(y.subarray(i, i + BS))) throw new Error(`block ${i / BS} differs`);
    }
  }
}

/** A real file device whose fsync can be made to fail (local fsync failure must fail every flush). */
export class FaultyDevice implements BlockDevice {
  failSync = false;
  /** While set, every sync waits for it (a slow disk). */
  holdSync: Promise<void> | undefined;
  constructor(private readonly inner: BlockDevice) {}
  get sizeBytes(): number {
    return this.inner.sizeBytes;
  }
  read(buf: Buffer, offsetBytes: number): Promise<void> {
    return this.inner.read(buf, offsetBytes);
  }
  writev(bufs: readonly Buffer[], offsetBytes: number): Promise<void> {
    return this.inner.writev(bufs, offsetBytes);
  }
  async sync(): Promise<void> {
    if (this.failSync) throw new Error("EIO: injected fsync failure");
    if (this.holdSync) await this.holdSync;
    return this.inner.sync();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export async function makeFaultyVolume(
  dir: string,
  name: string,
  opts: Partial<CreateOptions & OpenOptions> = {},
): Promise<{ volume: Volume; device: FaultyDevice }> {
  const o = { ...SMALL_VOLUME, ...opts };
  const file = await FileDevice.createFile(
    path.join(dir, `${name}.vol`),
    4096 + (o.walSizeBytes ?? 0) + o.volumeSizeBytes,
  );
  const device = new FaultyDevice(file);
  const volume = await Volume.create(device, { walKnownZero: true, ...o });
  return { volume, device };
}
