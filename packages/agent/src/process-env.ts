// The environment an agent process should start with. Our launchers (the demo, the test fleet, the
// benchmarks) spawn agents with it, and the container image sets the same variables.
//
// glibc's malloc serves each allocation of 128 KiB or more with a fresh mmap and unmaps it on free.
// Receiving a WAL batch allocates at least twice its size (grpc-js copies each message's HTTP/2
// frames into one new Buffer), so every received MiB cost ~256 first-touch page faults: about
// 5 ms of the replica's CPU per MiB on our VMs, its largest single cost during catch-up.
// Serving those buffers from the heap and keeping freed heap memory for reuse removes the faults:
// catch-up of a 256 MiB gap went from ~50 to 70–100 MB/s.
//
// The cost is memory that stays mapped after a burst, bounded by the trim threshold (128 MiB);
// allocations of 32 MiB or more (none on our hot paths) still use mmap.

/** glibc malloc tunables for agent processes (ignored by non-glibc runtimes). */
export const AGENT_GLIBC_TUNABLES =
  "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=134217728";

/** `base` plus GLIBC_TUNABLES for an agent child process (a value already set in `base` wins). */
export function agentProcessEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { GLIBC_TUNABLES: AGENT_GLIBC_TUNABLES, ...base };
}
