// Everything a verb needs: the agent address, the deadline, the output mode and lazily created
// typed clients (closed when the verb ends so the process can exit).
import {
  type ClientOptions,
  type ControlClient,
  channelCredentials,
  closeClient,
  createControlClient,
  createVolumeClient,
  deadlineIn,
  type GetStatusResponse__Output,
  type TransportSecurity,
  unary,
  type VolumeClient,
  type VolumeStatus__Output,
} from "@blockship/rpc";
import { RpcFailure } from "./errors";
import { Output } from "./output";

export const DEFAULT_ADDR = "127.0.0.1:7100";
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface GlobalOptions {
  readonly addr: string;
  readonly json: boolean;
  readonly timeoutMs: number;
  /**
   * TLS (mutual with a client certificate) or, only when asked for, plaintext. Resolved when the
   * first client is made, so a verb's own argument errors come first; throws ArgumentError.
   */
  readonly security: () => TransportSecurity;
}

export class Context {
  readonly out: Output;
  private controlClient: ControlClient | undefined;
  private volumeClient: VolumeClient | undefined;

  constructor(readonly options: GlobalOptions) {
    this.out = new Output(options.json);
  }

  get addr(): string {
    return this.options.addr;
  }

  control(): ControlClient {
    this.controlClient ??= createControlClient(this.addr, this.clientOptions());
    return this.controlClient;
  }

  volume(): VolumeClient {
    this.volumeClient ??= createVolumeClient(this.addr, this.clientOptions());
    return this.volumeClient;
  }

  private clientOptions(): ClientOptions {
    return { credentials: channelCredentials(this.options.security()) };
  }

  /** Call options with the --timeout-ms deadline. */
  deadline() {
    return deadlineIn(this.options.timeoutMs);
  }

  /** Status of one volume, or a NOT_FOUND CliError. */
  async volumeStatus(volumeId: string): Promise<VolumeStatus__Output> {
    const response = await unary<GetStatusResponse__Output>((cb) =>
      this.control().GetStatus({ volume_ids: [volumeId] }, this.deadline(), cb),
    );
    const status = response.report?.volumes.find((v) => v.volume_id === volumeId);
    if (status === undefined) {
      throw new RpcFailure(5, "volume_not_found", `no volume "${volumeId}" on ${this.addr}`);
    }
    return status;
  }

  close(): void {
    if (this.controlClient !== undefined) closeClient(this.controlClient);
    if (this.volumeClient !== undefined) closeClient(this.volumeClient);
    this.controlClient = undefined;
    this.volumeClient = undefined;
  }
}
