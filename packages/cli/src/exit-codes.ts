// Exit codes scripts can rely on. Fixed: tests pin every value and the README/--help list them.

export const ExitCode = {
  /** Success. */
  OK: 0,
  /** Bad command line (unknown verb/flag, bad size) or an argument the agent rejected (invalid_argument, out_of_range). */
  USAGE: 1,
  /** The agent could not be reached or did not answer in time (or is shutting down). */
  UNREACHABLE: 2,
  /** The agent refused the request in its current state (not_primary, epoch_stale, lease_expired, ...). */
  REJECTED: 3,
  /** The volume (or replica) does not exist on that agent. */
  NOT_FOUND: 4,
  /** verify: the data read back differs from the file. */
  MISMATCH: 5,
  /** A flush could not be confirmed (durability_barrier_failed, durability_quorum_lost): NOT durable. */
  DURABILITY: 6,
  /** Anything else (agent internal error, local I/O error, bug). */
  INTERNAL: 7,
  /** A followed operation (rebuild) had not finished when --timeout passed; it goes on on the agent. */
  TIMEOUT: 8,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** The table printed by `blockctl --help` (kept next to the values so they cannot drift). */
export const EXIT_CODE_HELP = `Exit codes:
  0  ok
  1  usage error (bad flag or argument; also invalid_argument / out_of_range from the agent)
  2  agent unreachable (connection refused, deadline before an answer, shutting_down)
  3  rejected by the agent (not_primary, epoch_stale, lease_expired, epoch_regression, ...)
  4  not found (volume_not_found, replica_not_found)
  5  data mismatch (verify)
  6  durability failure (flush: durability_barrier_failed / durability_quorum_lost)
  7  internal error (agent or local)
  8  timed out waiting (rebuild not committed within --timeout; it goes on on the agent)`;
