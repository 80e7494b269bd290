/**
 * A measurement hook for benchmarks: the stages one barrier goes through on either side (sent,
 * received, appends settled, fsync done, answer written, answer read). Off by default: every site
 * costs one `undefined` check. A bench installs a tracer in its own process (or in an agent through
 * a `--import` preload) and takes the timestamps itself; nothing here changes what a barrier does.
 */
export type BarrierStage =
  | "primary_barrier_sent"
  | "primary_barrier_answered"
  | "replica_batch_received"
  | "replica_batch_appended"
  | "replica_barrier_received"
  | "replica_appends_settled"
  | "replica_fsync_done"
  | "replica_answer_written";

/** `id`: the barrier's id on its stream (0 for batch stages); `lsn`: the barrier's or batch's last LSN. */
export type StageTracer = (stage: BarrierStage, id: number, lsn: number) => void;

let tracer: StageTracer | undefined;

/** Installs (or removes, with undefined) the process's tracer. */
export function setStageTracer(t: StageTracer | undefined): void {
  tracer = t;
}

export function traceStage(stage: BarrierStage, id: number, lsn: number): void {
  if (tracer !== undefined) tracer(stage, id, lsn);
}
