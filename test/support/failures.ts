// Test-only (imports vitest): what a failing integration test prints.
import { onTestFailed } from "vitest";
import type { AgentFleet } from "./agents";

/** Call at the start of a test: if it fails, every agent's output (all its lives) is printed. */
export function showLogsOnFailure(fleet: AgentFleet): void {
  onTestFailed(() => {
    console.error(fleet.logs());
  });
}
