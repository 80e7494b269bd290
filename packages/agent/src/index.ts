// @blockship/agent: hosts volumes for either role, applies assignments, executes engine commands,
// feeds observations back, keeps the protocol-state cache, binds the live-shipping policy.
export { Agent, type AgentOptions, VOLUME_SERVICE } from "./agent";
export { type ParsedAssignment, parseAssignment, sameAssignment } from "./assignment";
export { type Clock, ManualClock, realClock } from "./clock";
export {
  type AgentConfig,
  ConfigError,
  ENV_NAMES,
  HELP_REQUESTED,
  parseConfig,
  type TlsConfig,
  USAGE,
} from "./config";
export { toAgentRpcError } from "./errors";
export { checkAssignment, Fence, type GateReason } from "./fence";
export { Lease } from "./lease";
export { localReplication } from "./local-replication";
export { createLogger, silentLogger } from "./log";
export { type MainOptions, runAgentMain } from "./main";
export { AgentMetrics, type MetricsServer, metricsCatalog, startMetricsServer } from "./metrics";
export { grpcReplication, grpcReplicationBinding, type ReplicationSecurity } from "./replication-binding";
export type { ReplicationBinding } from "./replication-port";
export { ROLES, type Role, transitionProblem, transitionTable } from "./roles";
export { type AgentSecurity, loadAgentSecurity } from "./security";
