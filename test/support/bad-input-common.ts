// What every bad-input case table shares: the gRPC status codes the cases expect, the pair and
// volume they run against, and the shape of one case.
import type { AgentHandle } from "./agents";

// Canonical gRPC status codes (numbers on the wire).
export const INVALID_ARGUMENT = 3;
export const NOT_FOUND = 5;
export const ALREADY_EXISTS = 6;
export const PERMISSION_DENIED = 7;
export const RESOURCE_EXHAUSTED = 8;
export const FAILED_PRECONDITION = 9;
export const ABORTED = 10;
export const OUT_OF_RANGE = 11;

/** The pair and volume the cases run against (set up by the test file). */
export interface BadInputContext {
  readonly primary: AgentHandle;
  readonly replica: AgentHandle;
  readonly volume: string;
  readonly blocks: number;
  readonly epoch: number;
}

// [name, call, expected code, expected reason]
export type Case = readonly [string, () => Promise<unknown>, number, string];
