// Output modes. --json: exactly one JSON document on stdout per verb (watch: one per line per
// report), errors included; human mode: text on stdout, errors and progress on stderr.
import type { CliError } from "./errors";

export class Output {
  constructor(readonly json: boolean) {}

  /** The verb's result: `doc` in --json mode, `text()` otherwise. */
  result(doc: unknown, text: () => string): void {
    if (this.json) this.jsonLine(doc);
    else {
      const body = text();
      if (body !== "") process.stdout.write(body.endsWith("\n") ? body : `${body}\n`);
    }
  }

  jsonLine(doc: unknown): void {
    process.stdout.write(`${JSON.stringify(doc, jsonReplacer)}\n`);
  }

  /** Informational text for humans (stderr, so stdout stays clean for data); silent in --json mode. */
  note(text: string): void {
    if (!this.json) process.stderr.write(`${text}\n`);
  }

  error(err: CliError): void {
    if (this.json) {
      this.jsonLine({ error: err.toJson() });
      return;
    }
    const hint = err.hint === "" ? "" : `\n  hint: ${err.hint}`;
    process.stderr.write(`blockctl: error: ${err.message}${hint}\n`);
  }
}

/** bigint → decimal string: u64 values stay exact in JSON. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/** A plain text table: columns padded to the widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
