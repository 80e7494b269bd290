import { type RebuildClient, type StartedRpcServer, startServer } from "@blockship/rpc";
import type { Volume } from "@blockship/storage";
import type { RebuildTargetVolume } from "../src/rebuild-attempt";
import { connectRebuild } from "../src/rebuild-client";
import { type PullRebuildOptions, pullRebuild } from "../src/rebuild-puller";
import {
  RebuildSource,
  type RebuildSourceAuthority,
  type RebuildSourceOptions,
  type RebuildStreamReport,
} from "../src/rebuild-source";
import { BS, VOLUME_ID } from "./helpers";

export const REBUILDER_ID = "srv-r";

/** A primary's Rebuild service in-process on 127.0.0.1, with a mutable authority. */
export class SourceNode {
  auth: { role: string; epoch: number; replicaServerIds: Set<string> };
  readonly reports: RebuildStreamReport[] = [];
  readonly source: RebuildSource;
  server: StartedRpcServer | undefined;
  rates = { defaultRateBytesPerSecond: 0, maxRateBytesPerSecond: 0 };
  private readonly endWaiters: Array<(r: RebuildStreamReport) => void> = [];

  constructor(
    readonly volume: Volume,
    opts: RebuildSourceOptions = {},
  ) {
    this.auth = { role: "primary", epoch: volume.epoch, replicaServerIds: new Set([REBUILDER_ID]) };
    this.source = new RebuildSource(
      (volumeId) => {
        if (volumeId !== VOLUME_ID)
          throw Object.assign(new Error(`no volume ${volumeId}`), { reason: "volume_not_found" });
        return {
          volume: this.volume,
          authority: (): RebuildSourceAuthority => this.auth,
          ...this.rates,
        };
      },
      {
        ...opts,
        onStreamEnd: (r) => {
          this.reports.push(r);
          for (const w of this.endWaiters.splice(0)) w(r);
          opts.onStreamEnd?.(r);
        },
      },
    );
  }

  async start(): Promise<void> {
    this.server = await startServer({
      address: "127.0.0.1:0",
      handlers: { rebuild: this.source.handlers() },
    });
  }

  get address(): string {
    if (this.server === undefined) throw new Error("not started");
    return `127.0.0.1:${this.server.port}`;
  }

  /** The next stream end report. */
  nextEnd(): Promise<RebuildStreamReport> {
    return new Promise((resolve) => this.endWaiters.push(resolve));
  }

  client(): RebuildClient {
    return connectRebuild(this.address);
  }

  async stop(): Promise<void> {
    this.source.close();
    await this.server?.shutdown(50);
    this.server = undefined;
  }
}

/** pullRebuild with test defaults (fast retries). */
export function pull(
  target: Volume | RebuildTargetVolume,
  address: string,
  opts: Partial<PullRebuildOptions> = {},
): ReturnType<typeof pullRebuild> {
  return pullRebuild({
    volume: target,
    volumeId: VOLUME_ID,
    epoch: "epoch" in target ? target.epoch : 1,
    replicaServerId: REBUILDER_ID,
    primaryAddress: address,
    connect: (a) => connectRebuild(a),
    chunkSizeBytes: 16 * BS,
    retry: { maxAttempts: 50, backoffMinMs: 10, backoffMaxMs: 50 },
    ...opts,
  });
}

/** What every block should hold after the writes in `log` up to `lsn` (undefined = zeros). */
export class BlockModel {
  private readonly log: Array<{ lsn: number; lba: number; data: Buffer | undefined; blocks: number }> = [];

  record(lsn: number, lba: number, data: Buffer | undefined, blocks = 1): void {
    this.log.push({ lsn, lba, data, blocks });
  }

  /** Expected bytes of the whole volume after applying every entry <= lsn. */
  imageAt(lsn: number, sizeBytes: number): Buffer {
    const img = Buffer.alloc(sizeBytes);
    for (const e of [...this.log].sort((a, b) => a.lsn - b.lsn)) {
      if (e.lsn > lsn) continue;
      if (e.data === undefined) img.fill(0, e.lba * BS, (e.lba + e.blocks) * BS);
      else e.data.copy(img, e.lba * BS);
    }
    return img;
  }
}

/** Throws naming the first differing block. */
export function expectSameImage(actual: Buffer, expected: Buffer): void {
  if (actual.equals(expected)) return;
  for (let i = 0; i < expected.length; i += BS) {
    if (!actual.subarray(i, i + BS).equals(expected.subarray(i, i + BS))) {
      throw new Error(`block ${i / BS} differs`);
    }
  }
  throw new Error(`images differ in length: ${actual.length} vs ${expected.length}`);
}
