// Wire enum names ↔ internal names for durability modes.
import type { DurabilityMode } from "@blockship/storage";

const WIRE: Readonly<Record<DurabilityMode, string>> = {
  best_effort: "DURABILITY_MODE_BEST_EFFORT",
  sync_all: "DURABILITY_MODE_SYNC_ALL",
  sync_quorum: "DURABILITY_MODE_SYNC_QUORUM",
};

export const WIRE_DURABILITY_MODES = Object.values(WIRE);

export function durabilityToWire(mode: DurabilityMode): string {
  return WIRE[mode];
}

/** undefined for DURABILITY_MODE_UNSPECIFIED or anything unknown. */
export function durabilityFromWire(wire: string): DurabilityMode | undefined {
  for (const [mode, name] of Object.entries(WIRE)) if (name === wire) return mode as DurabilityMode;
  return undefined;
}
