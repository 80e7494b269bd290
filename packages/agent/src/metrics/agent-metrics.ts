// One agent's metrics: a private prom-client Registry (never the global default, so agents in one
// process — tests — do not clash), the event metrics the agent's call sites feed, and the state
// collectors read at scrape time.
import { Registry } from "prom-client";
import { EventMetrics } from "./event-metrics";
import { NbdMetrics } from "./nbd-metrics";
import { registerStateCollectors, type VolumeSource } from "./state-collectors";

export class AgentMetrics {
  readonly registry: Registry;
  readonly events: EventMetrics;
  readonly nbd: NbdMetrics;

  constructor(source: VolumeSource) {
    this.registry = new Registry();
    this.events = new EventMetrics(this.registry);
    this.nbd = new NbdMetrics(this.registry);
    registerStateCollectors(this.registry, source);
  }

  /** The exposition text (what GET /metrics answers). */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** A registry with every metric the agent exports and no volumes (dashboards, docs checks). */
export function metricsCatalog(): Registry {
  return new AgentMetrics(() => []).registry;
}
