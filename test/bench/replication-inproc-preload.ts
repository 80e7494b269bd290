// Preloaded into a replica agent by bench:replication-inproc --trace (node --import): records the
// barrier stages of @blockship/replication's hook with process.hrtime (CLOCK_MONOTONIC, the same
// clock in every process of this machine) and the event loop's delay. On SIGUSR2 it writes what it
// holds to $BLOCKSHIP_STAGE_TRACE_FILE (JSON) and starts afresh.
import { renameSync, writeFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setStageTracer } from "@blockship/replication";

const file = process.env.BLOCKSHIP_STAGE_TRACE_FILE;
if (file !== undefined) {
  const MAX_MARKS = 2_000_000;
  let marks: [string, number, number, number][] = [];
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  setStageTracer((stage, id, lsn) => {
    if (marks.length < MAX_MARKS) marks.push([stage, id, lsn, Number(process.hrtime.bigint() / 1000n)]);
  });
  process.on("SIGUSR2", () => {
    const eventLoop = {
      p50_ms: loop.percentile(50) / 1e6,
      p99_ms: loop.percentile(99) / 1e6,
      max_ms: loop.max / 1e6,
      mean_ms: loop.mean / 1e6,
    };
    writeFileSync(`${file}.tmp`, JSON.stringify({ marks, eventLoop }));
    renameSync(`${file}.tmp`, file); // the bench waits for this name: complete once it exists
    marks = [];
    loop.reset();
  });
}
