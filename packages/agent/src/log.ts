// JSON logs (pino). One root logger per agent; child loggers carry volume / replica / epoch fields.
import { type DestinationStream, type Logger, pino } from "pino";
import type { LogLevel } from "./config";

export type { Logger };

/**
 * Synchronous stdout by default: an agent's log lines must not be lost when it exits right after
 * writing them (SIGTERM path), and logging is not on the I/O hot path.
 */
export function createLogger(level: LogLevel, serverId: string, destination?: DestinationStream): Logger {
  return pino(
    { level, base: { serverId }, timestamp: pino.stdTimeFunctions.isoTime },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** The fields every volume-scoped line carries. */
export function volumeLogger(root: Logger, volumeId: string): Logger {
  return root.child({ volumeId });
}

/** A logger that drops everything (tests). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
