export {
  errnoOf,
  type NbdBackend,
  type NbdExport,
  NbdFencedError,
  NbdIoError,
  type OpenResult,
  type ZeroOptions,
} from "./export";
export { transmissionFlags } from "./handshake";
export * as nbdProtocol from "./protocol";
export { Errno, type ErrnoValue } from "./protocol";
export {
  type ConnectionEvent,
  type ConnectionInfo,
  DEFAULT_MAX_BYTES_IN_FLIGHT,
  DEFAULT_MAX_CONNECTIONS_PER_EXPORT,
  DEFAULT_MAX_REQUESTS_IN_FLIGHT,
  NbdServer,
  type NbdServerOptions,
  type NbdTlsOptions,
} from "./server";
export type { RequestEvent } from "./transmission";
