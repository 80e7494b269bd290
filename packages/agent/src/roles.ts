// Roles of one volume on one agent and the assignment transition table (DESIGN §7,
// dataplane-spec §8, plus REBUILDING → REPLICA after a committed rebuild).

export const ROLES = ["none", "primary", "replica", "stale", "rebuilding", "draining"] as const;
export type Role = (typeof ROLES)[number];

const WIRE_ROLES = [
  "ROLE_NONE",
  "ROLE_PRIMARY",
  "ROLE_REPLICA",
  "ROLE_STALE",
  "ROLE_REBUILDING",
  "ROLE_DRAINING",
] as const;
export type WireRole = (typeof WIRE_ROLES)[number];
export { WIRE_ROLES };

export function roleToWire(role: Role): WireRole {
  return WIRE_ROLES[ROLES.indexOf(role)] as WireRole;
}

export function roleFromWire(role: WireRole): Role {
  return ROLES[WIRE_ROLES.indexOf(role)] as Role;
}

/** Role changes an assignment may ask for (besides keeping the role, which is always allowed). */
const ALLOWED: Readonly<Record<Role, readonly Role[]>> = {
  none: ["primary", "replica", "rebuilding"],
  primary: ["draining", "stale"],
  replica: ["primary", "rebuilding"],
  stale: ["rebuilding", "replica"],
  rebuilding: ["replica"],
  draining: ["stale"],
};

export interface TransitionFacts {
  /** The copy finished a rebuild whose result is committed (enables REBUILDING → REPLICA). */
  readonly rebuildCommitted: boolean;
}

/** Why `from → to` is refused, or null when it is allowed. */
export function transitionProblem(from: Role, to: Role, facts: TransitionFacts): string | null {
  if (from === to) return null;
  if (!ALLOWED[from].includes(to)) return `${from} → ${to} is not an allowed role change`;
  if (from === "rebuilding" && to === "replica" && !facts.rebuildCommitted) {
    return "rebuilding → replica needs a committed rebuild first";
  }
  return null;
}

/** Every (from, to) pair, for tests and docs. */
export function transitionTable(facts: TransitionFacts): Record<Role, Role[]> {
  const table = {} as Record<Role, Role[]>;
  for (const from of ROLES) table[from] = ROLES.filter((to) => transitionProblem(from, to, facts) === null);
  return table;
}
