import { describe, expect, it } from "vitest";
import { CheckpointPacer } from "../src/checkpoint-pacer";

type Tick = { atMs: number; appended: number; checkpoint: number; pressure?: boolean; due: boolean };

/** Runs ticks through a fresh pacer and returns what it answered at each. */
function run(maxDelayMs: number, ticks: readonly Tick[]): boolean[] {
  const pacer = new CheckpointPacer(maxDelayMs);
  return ticks.map((t) =>
    pacer.tick({
      nowMs: t.atMs,
      appendedLsn: t.appended,
      checkpointLsn: t.checkpoint,
      underPressure: t.pressure ?? false,
    }),
  );
}

const cases: Array<{ name: string; maxDelayMs: number; ticks: Tick[] }> = [
  {
    name: "nothing to checkpoint: never due, however long",
    maxDelayMs: 100,
    ticks: [
      { atMs: 0, appended: 5, checkpoint: 5, due: false },
      { atMs: 500, appended: 5, checkpoint: 5, due: false },
    ],
  },
  {
    name: "appends keep arriving: deferred until the backlog waited maxDelayMs, then again",
    maxDelayMs: 300,
    ticks: [
      { atMs: 0, appended: 10, checkpoint: 0, due: false }, // first tick: not quiet (no previous)
      { atMs: 100, appended: 20, checkpoint: 0, due: false },
      { atMs: 200, appended: 30, checkpoint: 0, due: false },
      { atMs: 300, appended: 40, checkpoint: 0, due: true }, // waited 300 ms since the first tick left it
      { atMs: 400, appended: 50, checkpoint: 40, due: false }, // the clock starts again
      { atMs: 600, appended: 60, checkpoint: 40, due: false },
      { atMs: 700, appended: 70, checkpoint: 40, due: true },
    ],
  },
  {
    name: "a quiet tick (nothing appended since the previous one) checkpoints at once",
    maxDelayMs: 10_000,
    ticks: [
      { atMs: 0, appended: 10, checkpoint: 0, due: false },
      { atMs: 100, appended: 10, checkpoint: 0, due: true },
    ],
  },
  {
    name: "WAL pressure checkpoints at once",
    maxDelayMs: 10_000,
    ticks: [
      { atMs: 0, appended: 10, checkpoint: 0, due: false },
      { atMs: 100, appended: 20, checkpoint: 0, pressure: true, due: true },
    ],
  },
  {
    name: "maxDelayMs 0: every tick with a backlog checkpoints (the flusher of a plain timer)",
    maxDelayMs: 0,
    ticks: [
      { atMs: 0, appended: 10, checkpoint: 0, due: true },
      { atMs: 100, appended: 20, checkpoint: 10, due: true },
      { atMs: 200, appended: 20, checkpoint: 20, due: false },
    ],
  },
  {
    name: "a backlog that was cleared (by pressure cycles) restarts the delay when it comes back",
    maxDelayMs: 250,
    ticks: [
      { atMs: 0, appended: 10, checkpoint: 0, due: false },
      { atMs: 100, appended: 20, checkpoint: 20, due: false },
      { atMs: 200, appended: 30, checkpoint: 20, due: false },
      { atMs: 300, appended: 40, checkpoint: 20, due: false },
      { atMs: 450, appended: 50, checkpoint: 20, due: true },
    ],
  },
];

describe("checkpoint pacer (when the flusher's timer starts a cycle)", () => {
  it.each(cases)("$name", ({ maxDelayMs, ticks }) => {
    expect(run(maxDelayMs, ticks)).toEqual(ticks.map((t) => t.due));
  });
});
