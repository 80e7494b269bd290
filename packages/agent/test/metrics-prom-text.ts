// A small, strict parser for the Prometheus text exposition format (0.0.4), for tests: no parser
// library is installed, and prom-client only writes the format. It rejects what a real scraper
// would reject (bad names, unescaped label values, samples before their # TYPE, duplicate series,
// non-cumulative histogram buckets, a +Inf bucket that differs from _count).
export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: readonly MetricType[] = ["counter", "gauge", "histogram", "summary", "untyped"];

function fail(lineNo: number, message: string): never {
  throw new Error(`prometheus text line ${lineNo}: ${message}`);
}

function parseValue(text: string, lineNo: number): number {
  if (text === "NaN") return Number.NaN;
  if (text === "+Inf" || text === "Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text))
    fail(lineNo, `bad value ${JSON.stringify(text)}`);
  return Number(text);
}

/** `{a="x",b="y\"z"}` starting at text[0] === "{"; returns the labels and the rest of the line. */
function parseLabels(text: string, lineNo: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    while (text[i] === " ") i++;
    if (text[i] === "}") return { labels, rest: text.slice(i + 1) };
    const nameMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
    if (nameMatch === null) fail(lineNo, `bad label name at ${JSON.stringify(text.slice(i))}`);
    const name = nameMatch[0];
    i += name.length;
    if (text[i] !== "=" || text[i + 1] !== '"') fail(lineNo, `expected ="…" after label ${name}`);
    i += 2;
    let value = "";
    for (;;) {
      const c = text[i];
      if (c === undefined) fail(lineNo, "unterminated label value");
      if (c === '"') break;
      if (c === "\n") fail(lineNo, "raw newline in label value");
      if (c === "\\") {
        const e = text[i + 1];
        if (e === "\\") value += "\\";
        else if (e === '"') value += '"';
        else if (e === "n") value += "\n";
        else fail(lineNo, `bad escape \\${e ?? ""} in label value`);
        i += 2;
      } else {
        value += c;
        i += 1;
      }
    }
    i += 1;
    if (!LABEL_NAME.test(name)) fail(lineNo, `bad label name ${name}`);
    if (name in labels) fail(lineNo, `duplicate label ${name}`);
    labels[name] = value;
    while (text[i] === " ") i++;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") fail(lineNo, `expected , or } at ${JSON.stringify(text.slice(i))}`);
  }
}

/** The family a sample belongs to: histogram/summary samples carry a suffix. */
function familyOf(sampleName: string, families: ReadonlyMap<string, MetricFamily>): MetricFamily | undefined {
  const direct = families.get(sampleName);
  if (direct !== undefined) return direct;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!sampleName.endsWith(suffix)) continue;
    const f = families.get(sampleName.slice(0, -suffix.length));
    if (f !== undefined && (f.type === "histogram" || (f.type === "summary" && suffix !== "_bucket")))
      return f;
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const seenSeries = new Set<string>();
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === "") return;
    if (line.startsWith("#")) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (m === null) return; // a plain comment
      const [, kind, name, rest = ""] = m as unknown as [string, "HELP" | "TYPE", string, string?];
      if (!METRIC_NAME.test(name)) fail(lineNo, `bad metric name ${name}`);
      const existing = families.get(name);
      if (kind === "TYPE") {
        const type = rest.trim() as MetricType;
        if (!TYPES.includes(type)) fail(lineNo, `bad type ${rest}`);
        if (existing !== undefined && existing.samples.length > 0)
          fail(lineNo, `TYPE of ${name} after its samples`);
        if (existing !== undefined && existing.type !== "untyped") fail(lineNo, `second TYPE for ${name}`);
        families.set(name, { name, type, help: existing?.help ?? "", samples: existing?.samples ?? [] });
      } else {
        families.set(name, {
          name,
          type: existing?.type ?? "untyped",
          help: rest.replace(/\\n/g, "\n").replace(/\\\\/g, "\\"),
          samples: existing?.samples ?? [],
        });
      }
      return;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (nameMatch === null) fail(lineNo, `bad sample line ${JSON.stringify(line)}`);
    const name = nameMatch[0];
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, lineNo));
    const parts = rest.trim().split(/\s+/);
    if (parts.length < 1 || parts.length > 2 || parts[0] === "")
      fail(lineNo, `bad sample ${JSON.stringify(line)}`);
    const value = parseValue(parts[0] as string, lineNo);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) fail(lineNo, `bad timestamp ${parts[1]}`);
    const family = familyOf(name, families);
    if (family === undefined) fail(lineNo, `sample ${name} has no # TYPE before it`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seenSeries.has(key)) fail(lineNo, `duplicate series ${key}`);
    seenSeries.add(key);
    if (family.type === "histogram" && name.endsWith("_bucket") && labels.le === undefined)
      fail(lineNo, `${name} without le`);
    family.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

/** Buckets cumulative per series, +Inf present and equal to _count. */
function checkHistogram(f: MetricFamily): void {
  const series = new Map<string, { buckets: [number, number][]; count?: number }>();
  const keyOf = (labels: Readonly<Record<string, string>>): string =>
    JSON.stringify(
      Object.entries(labels)
        .filter(([k]) => k !== "le")
        .sort(),
    );
  for (const s of f.samples) {
    const entry = series.get(keyOf(s.labels)) ?? { buckets: [] };
    series.set(keyOf(s.labels), entry);
    if (s.name === `${f.name}_bucket`) entry.buckets.push([parseValue(s.labels.le as string, 0), s.value]);
    else if (s.name === `${f.name}_count`) entry.count = s.value;
  }
  for (const [key, { buckets, count }] of series) {
    buckets.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < buckets.length; i++)
      if ((buckets[i] as [number, number])[1] < (buckets[i - 1] as [number, number])[1])
        throw new Error(`histogram ${f.name}${key}: buckets are not cumulative`);
    const inf = buckets.at(-1);
    if (inf === undefined || inf[0] !== Number.POSITIVE_INFINITY)
      throw new Error(`histogram ${f.name}${key}: no +Inf bucket`);
    if (count !== inf[1])
      throw new Error(`histogram ${f.name}${key}: +Inf bucket ${inf[1]} != _count ${count}`);
  }
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when none. */
export function sampleValue(
  families: ReadonlyMap<string, MetricFamily>,
  family: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const matches = (families.get(family)?.samples ?? []).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (matches.length > 1)
    throw new Error(`${name} ${JSON.stringify(labels)} matches ${matches.length} series`);
  return matches[0]?.value;
}
