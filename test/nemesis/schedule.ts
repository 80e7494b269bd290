// Fault schedules: a seeded list of steps (writer I/O, flushes, trims, SIGKILL/restart, link cuts and
// stalls through the TCP proxies, the master losing the primary). Targets are role-relative
// ("the primary", "replica #k") and resolved when the step runs, so a printed schedule reads as what
// happened and replays from its seed.
import { prng } from "../support/io";

/** Fault kinds a schedule may draw from. */
export type FaultKind =
  /** SIGKILL / restart of replicas. */
  | "killReplica"
  /** SIGKILL of the primary once its replicas have received everything it acknowledged. */
  | "killPrimaryClean"
  /** SIGKILL of the primary at any moment (an un-replicated, possibly divergent tail is left behind). */
  | "killPrimaryTail"
  /** The master loses contact with a live primary (it keeps serving until its lease lapses). */
  | "isolate"
  /** Cut / refuse / stall all traffic into one agent through its proxy. */
  | "net"
  /** Trim of the whole volume. */
  | "bigTrim";

export const ALL_FAULTS: readonly FaultKind[] = [
  "killReplica",
  "killPrimaryClean",
  "killPrimaryTail",
  "isolate",
  "net",
  "bigTrim",
];

export type Target = { readonly role: "primary" } | { readonly role: "replica"; readonly index: number };

export type Step =
  | { readonly kind: "io"; readonly ops: number; readonly seed: number }
  | { readonly kind: "flush" }
  | { readonly kind: "bigTrim" }
  | { readonly kind: "kill"; readonly target: Target; readonly quiesce: boolean }
  | { readonly kind: "restartAll" }
  | { readonly kind: "link"; readonly target: Target; readonly fault: "cut" | "refuse" | "stall" }
  | { readonly kind: "healLinks" }
  | { readonly kind: "isolate" }
  | { readonly kind: "wait"; readonly ms: number }
  | { readonly kind: "check" };

export interface Schedule {
  readonly seed: number;
  readonly rf: 2 | 3;
  readonly faults: readonly FaultKind[];
  readonly steps: readonly Step[];
}

export interface GenerateOptions {
  readonly rf: 2 | 3;
  readonly faults: readonly FaultKind[];
  /** Number of fault steps (each followed by some I/O). */
  readonly faultSteps: number;
}

/** A schedule from a seed: I/O and flushes around `faultSteps` faults of the enabled kinds. */
export function generate(seed: number, o: GenerateOptions): Schedule {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const io = (): Step => ({
    kind: "io",
    ops: 1 + Math.floor(rand() * 6),
    seed: Math.floor(rand() * 2 ** 31),
  });
  const replica = (): Target => ({ role: "replica", index: Math.floor(rand() * (o.rf - 1)) });
  const steps: Step[] = [io(), { kind: "flush" }];
  for (let i = 0; i < o.faultSteps && o.faults.length > 0; i++) {
    const fault = pick(o.faults);
    if (fault === "killReplica") steps.push({ kind: "kill", target: replica(), quiesce: false });
    if (fault === "killPrimaryClean")
      steps.push({ kind: "kill", target: { role: "primary" }, quiesce: true });
    if (fault === "killPrimaryTail")
      steps.push({ kind: "kill", target: { role: "primary" }, quiesce: false });
    if (fault === "isolate") steps.push({ kind: "isolate" });
    if (fault === "net") {
      const target = rand() < 0.7 ? replica() : ({ role: "primary" } as const);
      steps.push({ kind: "link", target, fault: pick(["cut", "refuse", "stall"] as const) });
    }
    if (fault === "bigTrim") steps.push({ kind: "bigTrim" });
    // I/O under the fault, sometimes a flush, then sometimes recovery before the next fault.
    steps.push(io());
    if (rand() < 0.6) steps.push({ kind: "flush" });
    if (rand() < 0.3) steps.push({ kind: "wait", ms: 200 + Math.floor(rand() * 800) });
    if (rand() < 0.5) steps.push(io(), { kind: "flush" });
    if (rand() < 0.4) steps.push({ kind: "healLinks" });
    if (rand() < 0.4) steps.push({ kind: "restartAll" });
    if (rand() < 0.3) steps.push({ kind: "check" });
  }
  return { seed, rf: o.rf, faults: o.faults, steps };
}

export function describeStep(step: Step): string {
  const t = (x: Target) => (x.role === "primary" ? "primary" : `replica#${x.index}`);
  switch (step.kind) {
    case "io":
      return `io ops=${step.ops} seed=${step.seed}`;
    case "kill":
      return `kill ${t(step.target)}${step.quiesce ? " (after it shipped everything)" : ""}`;
    case "link":
      return `${step.fault} link into ${t(step.target)}`;
    case "wait":
      return `wait ${step.ms}ms`;
    default:
      return step.kind;
  }
}

export function describeSchedule(s: Schedule): string {
  const lines = s.steps.map((step, i) => `  ${String(i + 1).padStart(2)}. ${describeStep(step)}`);
  return [`schedule seed=${s.seed} rf=${s.rf} faults=${s.faults.join(",")}`, ...lines].join("\n");
}
