// @blockship/cli: blockctl. The library surface is what tests and other tools reuse.
export { DEFAULT_ADDR, DEFAULT_TIMEOUT_MS } from "./context";
export { CliError, type CliErrorJson, classify, RpcFailure, toCliError } from "./errors";
export { EXIT_CODE_HELP, ExitCode } from "./exit-codes";
export { buildProgram, runCli } from "./program";
export { ArgumentError, formatBytes, parseIntInRange, parseSize, parseU64, U64_MAX } from "./sizes";
