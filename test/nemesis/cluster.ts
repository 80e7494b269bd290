// The agents of a fault schedule: real agent processes on loopback, each behind a TCP proxy that
// every peer dials (replica addresses and rebuild sources in assignments name the proxy), so a
// schedule can cut, refuse or stall all traffic into one agent while the test's own calls (the
// model master and the writers) still reach it directly.
import {
  type ControlClient,
  closeClient,
  createControlClient,
  createVolumeClient,
  deadlineIn,
  type GetStatusResponse__Output,
  type ReadRequest,
  type ReadResponse__Output,
  type StatusReport__Output,
  unary,
  type VolumeClient,
  type VolumeStatus__Output,
} from "@blockship/rpc";
import { AgentHandle } from "../support/agents";
import { TcpProxy } from "../support/tcp-proxy";

export type LinkFault = "cut" | "refuse" | "stall";

export interface Member {
  readonly name: string;
  readonly agent: AgentHandle;
  readonly proxy: TcpProxy;
  /** What the schedule did to the process: false after a kill, true after a (re)start. */
  up: boolean;
  link: "ok" | "refuse" | "stall";
  /**
   * The harness's own clients, made only once a start has completed: a channel dialled while the
   * process is down would sit in gRPC's reconnect backoff after the restart.
   */
  clients: { control: ControlClient; volume: VolumeClient } | undefined;
}

/** Deadline of the master's status polls and of copy reads. */
const POLL_TIMEOUT_MS = 1_000;
const READ_TIMEOUT_MS = 5_000;

export class Cluster {
  private constructor(readonly members: readonly Member[]) {}

  /** Starts `count` agents named `<prefix>-a`, `-b`, … each with its proxy. */
  static async start(prefix: string, count: number, args: readonly string[] = []): Promise<Cluster> {
    const names = Array.from({ length: count }, (_, i) => `${prefix}-${String.fromCharCode(97 + i)}`);
    const members = await Promise.all(
      names.map(async (name, i) => {
        const agent = await AgentHandle.start({
          kind: i === 0 ? "primary" : "replica",
          serverId: name,
          args: ["--barrier-timeout-ms", "1000", ...args],
        });
        const proxy = await TcpProxy.start(agent.address);
        return { name, agent, proxy, up: true, link: "ok" as const, clients: undefined } satisfies Member;
      }),
    );
    return new Cluster(members);
  }

  get(name: string): Member {
    const m = this.members.find((x) => x.name === name);
    if (m === undefined) throw new Error(`no member ${name}`);
    return m;
  }

  get names(): string[] {
    return this.members.map((m) => m.name);
  }

  /** The address peers use to reach `name` (through its proxy). */
  peerAddress(name: string): string {
    return this.get(name).proxy.address;
  }

  async kill(name: string): Promise<void> {
    const m = this.get(name);
    m.up = false;
    dropClients(m);
    await m.agent.kill("SIGKILL");
  }

  async restart(name: string): Promise<void> {
    const m = this.get(name);
    if (m.agent.running) return;
    dropClients(m);
    await m.agent.restart();
    m.up = true;
  }

  /** Control client of a member that is up (throws otherwise). */
  control(name: string): ControlClient {
    return this.clientsOf(name).control;
  }

  /** Volume client of a member that is up (throws otherwise). */
  volume(name: string): VolumeClient {
    return this.clientsOf(name).volume;
  }

  /** True when the member is up as far as the schedule knows and its process runs. */
  reachable(name: string): boolean {
    const m = this.get(name);
    return m.up && m.agent.running;
  }

  private clientsOf(name: string): { control: ControlClient; volume: VolumeClient } {
    const m = this.get(name);
    if (!this.reachable(name)) throw new Error(`${name} is down`);
    m.clients ??= {
      control: createControlClient(m.agent.address),
      volume: createVolumeClient(m.agent.address),
    };
    return m.clients;
  }

  fault(name: string, fault: LinkFault): void {
    const m = this.get(name);
    if (fault === "cut") {
      m.proxy.cutAll();
      return;
    }
    if (fault === "refuse") {
      m.proxy.setStalled(false);
      m.proxy.setRefusing(true);
    } else {
      m.proxy.setRefusing(false);
      m.proxy.setStalled(true);
    }
    m.link = fault;
  }

  heal(name: string): void {
    const m = this.get(name);
    m.proxy.setRefusing(false);
    m.proxy.setStalled(false);
    m.link = "ok";
  }

  /** Members the schedule believes are up but whose process has exited (a crash, never a kill). */
  crashed(): Member[] {
    return this.members.filter((m) => m.up && !m.agent.running);
  }

  /** A copy's status for `volumeId`, or undefined when it cannot be reached / has no such volume. */
  async status(name: string, volumeId: string): Promise<VolumeStatus__Output | undefined> {
    if (!this.reachable(name)) return undefined;
    try {
      const res = await unary<GetStatusResponse__Output>((cb) =>
        this.control(name).GetStatus({ volume_ids: [volumeId] }, deadlineIn(POLL_TIMEOUT_MS), cb),
      );
      const report: StatusReport__Output | null = res.report;
      return report?.volumes.find((v) => v.volume_id === volumeId);
    } catch {
      return undefined;
    }
  }

  /**
   * Reads a copy's blocks directly. The request asks for a copy's data explicitly
   * (`allow_copy_read`): a server whose proto lacks the field ignores it.
   */
  async readCopy(name: string, volumeId: string, lba: number, lengthBytes: number): Promise<Buffer> {
    const request: ReadRequest & { allow_copy_read?: boolean } = {
      volume_id: volumeId,
      lba: String(lba),
      length_bytes: lengthBytes,
      allow_copy_read: true,
    };
    const res = await unary<ReadResponse__Output>((cb) =>
      this.volume(name).Read(request, deadlineIn(READ_TIMEOUT_MS), cb),
    );
    return res.data;
  }

  logs(): string {
    return this.members.map((m) => m.agent.logs()).join("\n");
  }

  /** Heals every link and restarts every stopped agent (between schedules). */
  async healAll(): Promise<void> {
    for (const m of this.members) this.heal(m.name);
    for (const m of this.members) if (!m.agent.running) await this.restart(m.name);
  }

  async stop(): Promise<void> {
    for (const m of this.members) dropClients(m);
    await Promise.all(this.members.map((m) => m.proxy.close()));
    await Promise.all(this.members.map((m) => m.agent.cleanup()));
  }
}

function dropClients(m: Member): void {
  if (m.clients === undefined) return;
  closeClient(m.clients.control);
  closeClient(m.clients.volume);
  m.clients = undefined;
}
