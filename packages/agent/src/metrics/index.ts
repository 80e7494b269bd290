export { AgentMetrics, metricsCatalog } from "./agent-metrics";
export { EventMetrics, gateReasonLabel, IO_OPS, type IoOp, rpcReasonLabel } from "./event-metrics";
export { NbdMetrics, nbdCloseReasonLabel } from "./nbd-metrics";
export { type MetricsServer, startMetricsServer } from "./server";
export { estimateLagBytes, registerStateCollectors, type VolumeSource } from "./state-collectors";
