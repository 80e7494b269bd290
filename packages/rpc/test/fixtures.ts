import type { ServerWritableStream } from "@grpc/grpc-js";
import {
  type GetProtocolStateRequest__Output,
  type GetProtocolStateResponse,
  type ReadRequest__Output,
  RpcError,
  type StartedRpcServer,
  type StartServerOptions,
  startServer,
  u64FromWire,
  u64ToWire,
  unaryHandler,
  type WatchStatusRequest__Output,
  type WatchStatusResponse,
} from "../src/index";
import { requireU64, requireVolumeId } from "../src/validate";

/** A typed error of some domain package: it carries a reason, nothing gRPC-specific. */
export class DomainError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** Open WatchStatus calls of the test server, so tests can wait for and drive them. */
export class OpenStreams {
  readonly calls = new Set<ServerWritableStream<WatchStatusRequest__Output, WatchStatusResponse>>();
  private waiters: (() => void)[] = [];

  add(call: ServerWritableStream<WatchStatusRequest__Output, WatchStatusResponse>): void {
    this.calls.add(call);
    call.on("cancelled", () => this.calls.delete(call));
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once at least `n` streams are open (no timers: the test timeout bounds it). */
  async waitFor(n: number): Promise<void> {
    while (this.calls.size < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}

/**
 * A server with small test handlers and the real proto definitions:
 * - Control.GetProtocolState echoes the volume id, epoch = 2^64-1;
 * - Control.DeleteVolume fails with volume_not_found unless the id is "exists";
 * - Control.WatchStatus sends an initial report and then stays open forever;
 * - Volume.Write answers lsn = lba + 1 (uint64 arithmetic as bigint), validating volume_id;
 * - Volume.Read (an async unaryHandler) throws a domain error carrying `reason` "out_of_range"
 *   for lba >= 1000 and an untyped Error for lba 999;
 * - everything else answers UNIMPLEMENTED with reason `unimplemented`.
 */
export async function startTestServer(
  overrides: Partial<StartServerOptions> = {},
): Promise<{ server: StartedRpcServer; streams: OpenStreams }> {
  const streams = new OpenStreams();
  const server = await startServer({
    address: "127.0.0.1:0",
    handlers: {
      control: {
        GetProtocolState(call, callback) {
          const request: GetProtocolStateRequest__Output = call.request;
          const response: GetProtocolStateResponse = {
            volume_id: request.volume_id,
            epoch: u64ToWire((1n << 64n) - 1n),
            role: "ROLE_PRIMARY",
            replicas: [],
          };
          callback(null, response);
        },
        DeleteVolume(call, callback) {
          if (call.request.volume_id === "exists") callback(null, { existed: true });
          else
            callback(new RpcError("volume_not_found", `no volume ${JSON.stringify(call.request.volume_id)}`));
        },
        WatchStatus(call) {
          streams.add(call);
          call.write({
            report: { server_id: "test", seq: "1", volumes: [] },
            trigger: "STATUS_TRIGGER_INITIAL",
          });
        },
      },
      volume: {
        Write(call, callback) {
          try {
            requireVolumeId(call.request.volume_id);
            const lba = requireU64(call.request.lba, "lba", { max: (1n << 64n) - 2n });
            callback(null, { lsn: u64ToWire(lba + 1n) });
          } catch (err) {
            callback(err as RpcError);
          }
        },
        Read: unaryHandler(async (request: ReadRequest__Output) => {
          const lba = u64FromWire(request.lba, "lba");
          if (lba === 999n) throw new Error("disk on fire");
          if (lba >= 1000n) throw new DomainError("out_of_range", `lba ${lba} is beyond the volume`);
          return { data: Buffer.alloc(request.length_bytes, Number(lba % 256n)) };
        }),
      },
    },
    ...overrides,
  });
  return { server, streams };
}
