// Defaults of the primary agent deployable. Both deployables run the same agent: the role of each
// volume comes from the master's assignments (a promoted replica serves the primary side).
import { hostname } from "node:os";
import type { MainOptions } from "@blockship/agent";

/** Default gRPC port of the primary agent (override with --listen / BLOCKSHIP_LISTEN). */
export const DEFAULT_PORT = 7100;

export const DEFAULTS: MainOptions = {
  name: "primary-agent",
  listen: `0.0.0.0:${DEFAULT_PORT}`,
  // A StatefulSet pod's hostname is stable, which is what a server ID must be.
  serverId: hostname()
    .replace(/[^A-Za-z0-9._:-]/g, "-")
    .slice(0, 128),
  dataDir: "./.data/primary-agent",
};
