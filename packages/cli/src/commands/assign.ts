// assign / renew: the master's verbs (one assignment or one lease grant per call).
import {
  type ApplyAssignmentsResponse__Output,
  type Assignment,
  type RenewLeasesResponse__Output,
  u64ToWire,
  unary,
} from "@blockship/rpc";
import { type Command, Option } from "commander";
import { RpcFailure, usageError } from "../errors";
import { wireEnum } from "../format";
import { arg, type VerbRunner } from "../program";
import { ArgumentError, parseIntInRange, parseU64 } from "../sizes";
import { durabilityOption } from "./admin";

export const ROLE_CHOICES = ["primary", "replica", "stale", "rebuilding", "draining", "none"] as const;
const MAX_LEASE_TTL_MS = 600_000;
const DEFAULT_LEASE_TTL_MS = 30_000;

export interface ReplicaTargetArg {
  server_id: string;
  address: string;
}

/** `srv-b=127.0.0.1:7200` → {server_id, address}. */
export function parseReplicaTarget(text: string): ReplicaTargetArg {
  const match = /^([A-Za-z0-9._:-]{1,128})=(\S+:\d{1,5})$/.exec(text);
  if (match === null) throw new ArgumentError(`--replica: "${text}" is not serverId=host:port`);
  return { server_id: match[1] as string, address: match[2] as string };
}

const epochArg = arg((t) => parseU64(t, "--epoch", 1n));
const ttlArg = (flag: string) => arg((t) => parseIntInRange(t, flag, 1, MAX_LEASE_TTL_MS));

interface AssignOptions {
  epoch: bigint;
  role: string;
  leaseTtlMs?: number;
  replica: ReplicaTargetArg[];
  primaryServerId?: string;
  primaryAddress?: string;
  durability?: string;
  recovery?: string;
}

export function buildAssignment(volume: string, opts: AssignOptions): Assignment {
  const isPrimary = opts.role === "primary";
  if (!isPrimary && opts.replica.length > 0) throw usageError("--replica applies only to --role primary");
  if ((opts.role === "replica" || opts.role === "rebuilding") && opts.primaryServerId === undefined) {
    throw usageError(
      `--role ${opts.role} needs --primary-server-id (the copy accepts WAL only from that primary)`,
    );
  }
  return {
    volume_id: volume,
    epoch: u64ToWire(opts.epoch),
    role: wireEnum(opts.role, "ROLE_") as Assignment["role"],
    lease_ttl_ms: isPrimary ? (opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS) : 0,
    replicas: opts.replica,
    durability_mode: (opts.durability === undefined
      ? "DURABILITY_MODE_UNSPECIFIED"
      : wireEnum(opts.durability, "DURABILITY_MODE_")) as Assignment["durability_mode"],
    recovery_target: (opts.recovery === undefined
      ? "RECOVERY_KIND_UNSPECIFIED"
      : wireEnum(opts.recovery, "RECOVERY_KIND_")) as Assignment["recovery_target"],
    primary_server_id: opts.primaryServerId ?? "",
    primary_address: opts.primaryAddress ?? "",
  };
}

export function registerAssignVerbs(program: Command, run: VerbRunner): void {
  program
    .command("assign")
    .description("apply one assignment (role, epoch, lease, replica set) to a volume on the agent")
    .argument("<volume>", "volume id")
    .requiredOption("--epoch <n>", "epoch to adopt (>= the volume's current epoch)", epochArg)
    .addOption(new Option("--role <role>", "role to take").choices(ROLE_CHOICES).makeOptionMandatory())
    .option(
      "--lease-ttl-ms <ms>",
      `primary: write lease length (default ${DEFAULT_LEASE_TTL_MS})`,
      ttlArg("--lease-ttl-ms"),
    )
    .option(
      "--replica <serverId=host:port>",
      "primary: a member of the replica set (repeat for each; none = no replicas)",
      (text: string, previous: ReplicaTargetArg[]) => [...previous, arg(parseReplicaTarget)(text)],
      [] as ReplicaTargetArg[],
    )
    .option("--primary-server-id <id>", "replica/rebuilding: server id of the assigned primary")
    .option("--primary-address <host:port>", "rebuilding: address of the primary's Rebuild service")
    .addOption(durabilityOption())
    .addOption(
      new Option("--recovery <kind>", "recovery session to attach (default: the role's)").choices([
        "none",
        "catchup",
        "rebuild",
      ]),
    )
    .addHelpText(
      "after",
      "\nExamples:\n  blockctl --addr 127.0.0.1:7200 assign vol-1 --epoch 1 --role replica --primary-server-id srv-a\n" +
        "  blockctl assign vol-1 --epoch 1 --role primary --lease-ttl-ms 30000 --replica srv-b=127.0.0.1:7200 --durability sync_all",
    )
    .action((volume: string, opts: AssignOptions, cmd: Command) =>
      run(cmd, volume, async (ctx) => {
        const assignment = buildAssignment(volume, opts);
        const response = await unary<ApplyAssignmentsResponse__Output>((cb) =>
          ctx.control().ApplyAssignments({ assignments: [assignment] }, ctx.deadline(), cb),
        );
        const result = response.results[0];
        if (result === undefined) throw new Error("ApplyAssignments returned no result");
        if (result.status !== null && result.status.code !== 0) throw RpcFailure.ofItem(result.status);
        ctx.out.result(
          { volume_id: volume, epoch: result.epoch, role: opts.role, unchanged: result.unchanged },
          () =>
            `volume ${volume} on ${ctx.addr}: ${opts.role} at epoch ${result.epoch}${result.unchanged ? " (unchanged)" : ""}`,
        );
      }),
    );

  program
    .command("renew")
    .description("extend the write lease of a primary at exactly this epoch")
    .argument("<volume>", "volume id")
    .requiredOption("--epoch <n>", "the primary's epoch", epochArg)
    .requiredOption("--ttl-ms <ms>", "new lease length from now", ttlArg("--ttl-ms"))
    .addHelpText("after", "\nExample: blockctl renew vol-1 --epoch 1 --ttl-ms 30000")
    .action((volume: string, opts: { epoch: bigint; ttlMs: number }, cmd: Command) =>
      run(cmd, volume, async (ctx) => {
        const response = await unary<RenewLeasesResponse__Output>((cb) =>
          ctx
            .control()
            .RenewLeases(
              { grants: [{ volume_id: volume, epoch: u64ToWire(opts.epoch), lease_ttl_ms: opts.ttlMs }] },
              ctx.deadline(),
              cb,
            ),
        );
        const result = response.results[0];
        if (result === undefined) throw new Error("RenewLeases returned no result");
        if (result.status !== null && result.status.code !== 0) throw RpcFailure.ofItem(result.status);
        ctx.out.result(
          { volume_id: volume, epoch: u64ToWire(opts.epoch), lease_remaining_ms: result.lease_remaining_ms },
          () => `lease of ${volume} on ${ctx.addr} renewed: ${result.lease_remaining_ms} ms left`,
        );
      }),
    );
}
