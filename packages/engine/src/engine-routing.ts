// How VolumeEngine acts on what the volume core asks for: pass host-facing commands through, apply
// session invalidation to the registry, and drop the core's task signals the engine drives itself.
import type { CoreCommand } from "./core-types";
import type { EngineCommand } from "./engine-types";
import type { Registry } from "./registry";

/** Returns the command for the host, or null when the engine handled (or ignores) it. */
export function routeCoreCommand(c: CoreCommand, registry: Registry): EngineCommand | null {
  switch (c.type) {
    case "apply_role":
    case "start_receiver":
    case "configure_shipper":
    case "publish_projection":
      return c;
    case "invalidate_session":
      // Only senders that HAVE a session are touched: a sessionless sender's state (in_sync,
      // needs_rebuild) is still true, and overwriting it with disconnected would lose that.
      for (const s of registry.all()) {
        const hit = c.replicaId === "" || s.replicaId === c.replicaId;
        if (hit && s.sessionId !== 0) s.invalidateSession(c.reason, "disconnected");
      }
      return null;
    // Recovery task lifecycle is driven from the registry's own results (sessions created or
    // superseded) and executions start directly from plans, so these core signals need no action.
    case "start_recovery_task":
    case "drain_recovery_task":
    case "start_catchup":
    case "start_rebuild":
      return null;
    default: {
      const never: never = c;
      throw new Error(`unhandled core command ${JSON.stringify(never)}`);
    }
  }
}
