// deploy/grafana/blockship-dashboard.json: every PromQL expression (panel targets and template
// variable queries) references only metrics the agent exports — checked against the agent's own
// registry built in-process (no agent process) — and every exported metric is documented in
// packages/agent/README.md.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { metricsCatalog } from "../../packages/agent/src/metrics";

const REPO = join(import.meta.dirname, "..", "..");
const DASHBOARD = join(REPO, "deploy", "grafana", "blockship-dashboard.json");
const AGENT_README = join(REPO, "packages", "agent", "README.md");

/** PromQL words that are not metric names (functions are recognised by the "(" after them). */
const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "inf",
  "nan",
]);

interface Panel {
  readonly id?: number;
  readonly type?: string;
  readonly title?: string;
  readonly targets?: readonly { readonly expr?: string; readonly refId?: string }[];
  readonly panels?: readonly Panel[];
  readonly gridPos?: { h: number; w: number; x: number; y: number };
}

interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly Panel[];
  readonly templating: {
    readonly list: readonly { type: string; name: string; query?: unknown; definition?: string }[];
  };
}

function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/**
 * The metric names an expression selects: strings, label matchers `{…}`, ranges `[…]` and the
 * label lists of by/without/on/ignoring/group_* are removed; what remains are identifiers that are
 * not functions (followed by "("), keywords or numbers.
 */
function metricNamesOf(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names: string[] = [];
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    const after = stripped.slice((m.index ?? 0) + word.length).trimStart();
    if (after.startsWith("(") || KEYWORDS.has(word.toLowerCase())) continue;
    names.push(word);
  }
  return names;
}

/** `label_values(metric, label)` (or a plain PromQL query) of a template variable. */
function variableExpr(v: { query?: unknown; definition?: string }): string | undefined {
  const q = typeof v.query === "string" ? v.query : (v.query as { query?: string } | undefined)?.query;
  const m = /^label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\)$/.exec(q ?? "");
  return m !== null ? m[1] : q;
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as Dashboard;
const registry = metricsCatalog();
const exported = new Map(registry.getMetricsAsArray().map((m) => [m.name, m.type as unknown as string]));

/** A series name the registry exports: a metric, or a histogram's _bucket/_sum/_count. */
function resolves(series: string): boolean {
  const type = exported.get(series);
  if (type !== undefined) return type !== "histogram";
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  return m !== null && exported.get(m[1] as string) === "histogram";
}

describe("the Grafana dashboard", () => {
  const panels = allPanels(dashboard.panels);
  const exprs = panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `panel ${p.id} "${p.title}" ${t.refId}`, expr: t.expr ?? "" })),
  );
  const variables = dashboard.templating.list
    .filter((v) => v.type === "query")
    .map((v) => ({ where: `variable ${v.name}`, expr: variableExpr(v) ?? "" }));

  it("is a dashboard with unique panel ids, a layout and PromQL targets", () => {
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dashboard.title).not.toBe("");
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) expect(p.gridPos, `panel ${p.id}`).toBeDefined();
    expect(exprs.length).toBeGreaterThan(20);
    for (const e of exprs) expect(e.expr, e.where).not.toBe("");
  });

  it("the name extractor handles matchers, ranges, grouping and functions", () => {
    expect(
      metricNamesOf(
        'histogram_quantile(0.99, sum by (le, op) (rate(a_bucket{volume=~"$v",x="by (q)"}[$__rate_interval])))',
      ),
    ).toEqual(["a_bucket"]);
    expect(metricNamesOf('sum by (v) (x{s="soft"}) + 2 * sum without (i) (y) / on (v) group_left z')).toEqual(
      ["x", "y", "z"],
    );
  });

  it("every expression selects at least one metric, and only metrics the agent exports", () => {
    for (const { where, expr } of [...exprs, ...variables]) {
      const names = metricNamesOf(expr);
      expect(names.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(resolves(name), `${where}: ${name} is not exported`).toBe(true);
    }
  });

  it("quantiles are taken over histogram buckets grouped by le", () => {
    for (const { where, expr } of exprs) {
      if (!expr.includes("histogram_quantile")) continue;
      expect(expr, where).toMatch(/_bucket[{[]/);
      expect(expr, where).toMatch(/by \(le\b/);
    }
  });

  it("shows throughput, latency, WAL, lag, shipper states, flush failures, gate denials and errors", () => {
    const used = new Set(exprs.flatMap((e) => metricNamesOf(e.expr)));
    for (const name of [
      "blockship_io_bytes_total",
      "blockship_io_duration_seconds_bucket",
      "blockship_wal_used_ratio",
      "blockship_wal_pressure",
      "blockship_replica_lag_lsn",
      "blockship_replica_lag_bytes",
      "blockship_replica_state",
      "blockship_durable_flush_failures_total",
      "blockship_durable_flush_duration_seconds_bucket",
      "blockship_gate_denials_total",
      "blockship_rpc_errors_total",
    ])
      expect(used.has(name), name).toBe(true);
  });
});

describe("the agent's metrics documentation", () => {
  it("packages/agent/README.md documents every exported metric", () => {
    const readme = readFileSync(AGENT_README, "utf8");
    for (const name of exported.keys()) expect(readme.includes(`\`${name}\``), name).toBe(true);
  });
});
